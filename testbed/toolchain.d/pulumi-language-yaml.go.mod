// Wrapper for the YAML language host, placed beside the Pulumi CLI as the Node.js host is.
module api-stack.local/toolchain/pulumi-language-yaml

require github.com/pulumi/pulumi-yaml v@VERSION@

tool github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
