// Wrapper for crictl: the local node's CRI client, used to stop and remove pod sandboxes (with
// their network teardown) when the environment goes down.
module api-stack.local/toolchain/crictl

require sigs.k8s.io/cri-tools v@VERSION@

tool sigs.k8s.io/cri-tools/cmd/crictl
