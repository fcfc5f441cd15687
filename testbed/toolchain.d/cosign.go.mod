// Wrapper for cosign v2: image signatures (key-based locally, keyless in CI).
module api-stack.local/toolchain/cosign

require github.com/sigstore/cosign/v2 v@VERSION@

tool github.com/sigstore/cosign/v2/cmd/cosign
