// Wrapper for the Pulumi Kubernetes provider. The provider module has no tags of its own and
// replaces sdk/v4 with a sibling directory; the served sdk/v4 release stands in for it. The
// provider's main package embeds generated files, so it is built from a copy in cmd/ here.
module api-stack.local/toolchain/kubernetes-provider

require (
	github.com/pulumi/pulumi-kubernetes/provider/v4 @PROVIDER_VERSION@
	github.com/pulumi/pulumi-kubernetes/sdk/v4 @SDK_VERSION@
)
