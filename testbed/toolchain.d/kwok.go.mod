// Wrapper for kwok and kwokctl (the module has no replaces; a wrapper keeps every build alike).
module api-stack.local/toolchain/kwok

require sigs.k8s.io/kwok v@VERSION@

tool (
	sigs.k8s.io/kwok/cmd/kwok
	sigs.k8s.io/kwok/cmd/kwokctl
)
