# Shared shell helpers for scripts/ and .ci/run. Source it; do not execute it.
# Every script that sources this runs with strict mode and prints timed phases.
set -euo pipefail

# Everything built or downloaded outside the repository lives here, keyed by version,
# so a second run (and CI right after a session) reuses it.
API_STACK_CACHE="${API_STACK_CACHE:-$HOME/.cache/api-stack}"
export API_STACK_CACHE

# State of services started by scripts/ (pids, logs, data dirs). Outside the repo too.
API_STACK_STATE="${API_STACK_STATE:-$API_STACK_CACHE/state}"
export API_STACK_STATE

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# phase NAME CMD...: runs CMD, then prints how long it took. Failure propagates.
phase() {
  local name=$1; shift
  local start=$SECONDS
  log "$name"
  if "$@"; then
    printf '<== %s (%ss)\n' "$name" "$((SECONDS - start))" >&2
  else
    local rc=$?
    printf '<== %s FAILED after %ss (exit %s)\n' "$name" "$((SECONDS - start))" "$rc" >&2
    return "$rc"
  fi
}

# wait_for DESCRIPTION TIMEOUT_SECONDS CMD...: polls CMD once a second until it succeeds.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "timed out after ${timeout}s waiting for $what"
    fi
    sleep 1
  done
}
