// Wrapper for act, a GitHub Actions runner: the project's workflows run on this machine, as jobs on
// a self-hosted runner (-P ubuntu-latest=-self-hosted), with no container registry to reach.
module api-stack.local/toolchain/act

require github.com/nektos/act v@VERSION@

tool github.com/nektos/act
