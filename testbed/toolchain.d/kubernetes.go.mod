// Wrapper for the Kubernetes control plane and the local node's kubelet and kube-proxy.
// k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/src;
// the toolchain script adds one replace per staging module pointing at the matching published
// v0.MINOR.PATCH release.
module api-stack.local/toolchain/kubernetes

require k8s.io/kubernetes v@VERSION@

tool (
	k8s.io/kubernetes/cmd/kube-apiserver
	k8s.io/kubernetes/cmd/kube-controller-manager
	k8s.io/kubernetes/cmd/kube-scheduler
	k8s.io/kubernetes/cmd/kubectl
	k8s.io/kubernetes/cmd/kubelet
	k8s.io/kubernetes/cmd/kube-proxy
)
