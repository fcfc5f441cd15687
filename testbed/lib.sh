# Shared shell helpers and the local environment's fixed facts. Source it; do not execute it.
# shellcheck shell=bash disable=SC2034 # the facts below are for the scripts that source this file
# Every script that sources this runs in strict mode and prints timed phases.
set -euo pipefail

TESTBED="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$TESTBED")"

# Everything built or downloaded outside the repository lives here, keyed by version, so a second
# run (and CI right after a session) reuses it.
API_STACK_CACHE="${API_STACK_CACHE:-$HOME/.cache/api-stack}"
export API_STACK_CACHE
# State of the services the test bed starts (pids, logs, data dirs). Outside the repository too.
API_STACK_STATE="${API_STACK_STATE:-$API_STACK_CACHE/state}"
export API_STACK_STATE
LOCAL_ENV_DIR=$API_STACK_STATE/local-env
# Written by `testbed/local-env up`, never ~/.kube/config.
KUBECONFIG_FILE=$API_STACK_STATE/kubeconfig

# --- the local cluster's addresses: one private range, nothing routed off the machine ----------
NODE_NAME=api-stack-node
NODE_BRIDGE=apistack0
NODE_IP=10.244.0.1
POD_CIDR=10.244.0.0/24
# Pods get addresses up to .199; the rest of the subnet is left for clients that tests attach to
# the bridge from network namespaces of their own (distinct client addresses, e.g. rate limits).
POD_RANGE_START=10.244.0.2
POD_RANGE_END=10.244.0.199
# Addresses kwok gives the pods of simulated nodes: unreachable, so a Service whose endpoints are
# simulated pods never sends a packet off the machine.
FAKE_POD_CIDR=10.245.0.0/24
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
REGISTRY_ADDR=127.0.0.1:5000
# A second registry that requires a password (testbed/docker-env; credentials in its state).
AUTH_REGISTRY_ADDR=127.0.0.1:5001
# Loopback ports of the node's own health and metrics endpoints.
KUBELET_HEALTHZ_PORT=10248
KUBE_PROXY_HEALTHZ_PORT=10256
KUBE_PROXY_METRICS_PORT=10249

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

# Installs a Debian package when its binary is missing. apt's own lock makes a concurrent install wait.
ensure_pkg() {
  local bin=$1 pkg=$2
  [[ -x $bin ]] && return 0
  log "installing $pkg ($bin is missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$pkg" >/dev/null
  [[ -x $bin ]] || die "$pkg installed but $bin is still missing"
}

# pid_of PIDFILE NAME: prints the pid when the file names a live process whose command line
# mentions NAME; a pid file alone is no proof, the pid may have been reused.
pid_of() {
  [[ -f $1 ]] || return 1
  local pid cmdline
  pid=$(<"$1")
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == *"$2"* ]] || return 1
  echo "$pid"
}

# stop_pid NAME PIDFILE TIMEOUT: SIGTERM, then SIGKILL after TIMEOUT seconds; removes the file.
stop_pid() {
  local name=$1 pidfile=$2 timeout=$3 pid
  if ! pid=$(pid_of "$pidfile" "$name"); then
    rm -f "$pidfile"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      warn "$name (pid $pid) did not stop in ${timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  rm -f "$pidfile"
}

# kubectl against the local cluster: the toolchain's kubectl (its variables come from
# `eval "$(testbed/toolchain env)"`), the environment's kubeconfig and a discovery cache beside it.
kubectl() {
  KUBECACHEDIR="$LOCAL_ENV_DIR/kube-cache" \
    "${KWOK_KUBECTL_BINARY:?is not set: eval the output of testbed/toolchain env first}" \
    --kubeconfig "$KUBECONFIG_FILE" "$@"
}

# binary_version BINARY: the version directory of a toolchain binary, tools/<source>/<version>/bin/<name>.
binary_version() { basename "$(dirname "$(dirname "$1")")"; }

# registry_has REPOSITORY:TAG: whether the loopback registry holds that tag.
registry_has() {
  local ref=${1#"$REGISTRY_ADDR"/}
  curl -fsS -o /dev/null -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY_ADDR/v2/${ref%:*}/manifests/${ref##*:}" 2>/dev/null
}
