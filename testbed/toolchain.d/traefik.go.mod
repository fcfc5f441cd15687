// Wrapper for Traefik v3, the local ingress controller. Its go.mod replaces dynamic/ext with a
// directory of its own module, which the toolchain script points at the module cache copy.
module api-stack.local/toolchain/traefik

require github.com/traefik/traefik/v3 v@VERSION@

tool github.com/traefik/traefik/v3/cmd/traefik
