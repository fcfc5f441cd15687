// GitHub's own naming limits, shared by the stack config schema and the GithubRepository
// component (which checks its args again when used as a library).
export const GITHUB_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
export const GITHUB_REPOSITORY = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
export const GIT_BRANCH = /^(?!\/|.*(?:\/\/|\.\.|@\{|\/$|\.lock$|\.$))[^\s~^:?*[\\\x00-\x1f\x7f]+$/;
export const PULUMI_SERVICE_URL = /^https:\/\/[^\s/]+(?:\/\S*)?$/;
export const PULUMI_STACK_NAME = /^(?:[A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/;
export const MAX_REVIEWERS = 6;
export const MAX_WAIT_MINUTES = 43200;
