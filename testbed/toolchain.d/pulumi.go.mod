// Wrapper for the Pulumi CLI: pkg/v3 replaces sdk/v3 with a sibling directory, which only
// resolves inside the Pulumi repository, so both are required here at the same release.
module api-stack.local/toolchain/pulumi

require (
	github.com/pulumi/pulumi/pkg/v3 v@VERSION@
	github.com/pulumi/pulumi/sdk/v3 v@VERSION@
)

tool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
