// Wrapper for kube-score: one of the independent manifest checkers scripts/check-manifests runs on
// the prod stack's objects.
module api-stack.local/toolchain/kube-score

require github.com/zegl/kube-score v@VERSION@

tool github.com/zegl/kube-score/cmd/kube-score
