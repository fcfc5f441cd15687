// Wrapper for syft: an SBOM per image.
module api-stack.local/toolchain/syft

require github.com/anchore/syft v@VERSION@

tool github.com/anchore/syft/cmd/syft
