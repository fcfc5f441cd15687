// Wrapper for CoreDNS, the local cluster's DNS (its main package is the module root).
module api-stack.local/toolchain/coredns

require github.com/coredns/coredns v@VERSION@

tool github.com/coredns/coredns
