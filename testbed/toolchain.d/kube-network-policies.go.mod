// Wrapper for kube-network-policies, the NetworkPolicy enforcer of the local node, built from a
// patched copy of the module (see xt_nfqueue.go).
module api-stack.local/toolchain/kube-network-policies

require sigs.k8s.io/kube-network-policies v@VERSION@

tool sigs.k8s.io/kube-network-policies/cmd
