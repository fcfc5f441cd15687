// Wrapper for the cert-manager controller: the served library module plus the project's own main
// package (cmd/cert-manager-controller, copied in from toolchain.d/cert-manager).
module api-stack.local/toolchain/cert-manager

require github.com/cert-manager/cert-manager v@VERSION@
