// Wrapper for the Argo Rollouts controller. Its go.mod pins k8s.io modules and two forks through
// replace directives, which only apply in the main module; the script copies them here.
module api-stack.local/toolchain/argo-rollouts

require github.com/argoproj/argo-rollouts v@VERSION@

tool github.com/argoproj/argo-rollouts/cmd/rollouts-controller
