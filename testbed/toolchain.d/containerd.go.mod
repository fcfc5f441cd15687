// Wrapper for containerd 2.x, the local node's container runtime (Kubernetes 1.36 needs 2.x; the
// distribution ships 1.6), with its runc shim and the ctr client.
module api-stack.local/toolchain/containerd

require github.com/containerd/containerd/v2 v@VERSION@

tool (
	github.com/containerd/containerd/v2/cmd/containerd
	github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
	github.com/containerd/containerd/v2/cmd/ctr
)
