// Wrapper for the Node.js language host. Its own module (sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// is not served; sdk/v3 carried the host as a package up to this release, which is served.
module api-stack.local/toolchain/pulumi-language-nodejs

require github.com/pulumi/pulumi/sdk/v3 v@VERSION@

tool github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
