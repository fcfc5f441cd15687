#!/usr/bin/env bash
# Image benchmark (not a test): for each sample app, in one run
#   - cold build: no layer cache and an empty uv download cache (everything downloaded and installed)
#   - warm rebuild after a code-only change, showing whether the dependency layer was reused
#   - final image size, and what it is made of: the base image (the floor every image here starts
#     from), system packages and the app user, the virtualenv, the application code
#   - the same app built by a naive single-stage Dockerfile (generated into a temp dir: copy
#     everything, install with dev dependencies, no cache cleanup), its size and its rebuild time
# and prints a table with ratios.
#
#   bench/images.sh [fastapi|django]...     (default: both; needs root, runs testbed/docker-env up)
#
# The apps are copied to a temp dir so the code change never touches the checkout. The uv cache
# mount gets a fresh id for the cold build so nothing downloaded earlier is reused, without
# pruning caches that other builds on this daemon rely on. Timings depend on the machine's load.
# shellcheck source=testbed/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../testbed/lib.sh"

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=1
RUN_ID=$(date +%s)-$$
WORK=$(mktemp -d)
TAGS=()
IDS=()
cleanup() {
  local t
  # Tags first, then the images a rebuild left untagged (never forced: shared images stay).
  for t in "${TAGS[@]}" "${IDS[@]}"; do "$DOCKER" rmi "$t" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1"; }
trap cleanup EXIT

[[ -r ${SSL_CERT_FILE:-} ]] || die "SSL_CERT_FILE must name the CA bundle passed as the build secret"
"$REPO_ROOT/testbed/docker-env" up
BASE_IMAGE=$("$REPO_ROOT/testbed/base-image")

# build DIR DOCKERFILE TAG LOG [EXTRA_ARGS...] -> prints seconds (0.1s resolution)
build() {
  local dir=$1 dockerfile=$2 tag=$3 logfile=$4 start end
  shift 4
  start=$(date +%s.%N)
  "$DOCKER" build --progress=plain "$@" \
    --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --secret id=ca,src="$SSL_CERT_FILE" \
    -f "$dockerfile" -t "$tag" "$dir" >"$logfile" 2>&1 \
    || { tail -n 40 "$logfile" >&2; die "build of $tag failed (log above)"; }
  end=$(date +%s.%N)
  python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$start" "$end"
}

size_mb() { "$DOCKER" image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f", $1 / 1e6}'; }

# "base system venv code" in bytes, from the image's layers: those below the base image's own are
# the base; a COPY of /opt/venv is the virtualenv, any other COPY application code (with Django's
# collected static files); RUN steps (system packages, the app user) are system.
size_breakdown() {
  local image=$1
  python3 - "$("$DOCKER" history -q "$BASE_IMAGE" | wc -l)" <<PY
import subprocess, sys
base_layers = int(sys.argv[1])
history = subprocess.run(["$DOCKER", "history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", "$image"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
parts = dict(base=0, system=0, venv=0, code=0)
for i, line in enumerate(history):
    size, _, created_by = line.partition("\t")
    kind = ("base" if i >= len(history) - base_layers else
            "venv" if created_by.startswith("COPY") and "/opt/venv" in created_by else
            "code" if created_by.startswith("COPY") else "system")
    parts[kind] += int(size)
print(parts["base"], parts["system"], parts["venv"], parts["code"])
PY
}

# "rebuilt/total" Dockerfile steps in a build log (BuildKit marks reused steps CACHED).
steps_rebuilt() {
  python3 - "$1" <<'PY'
import re, sys
steps, cached = set(), set()
for line in open(sys.argv[1]):
    if m := re.match(r"^#(\d+) \[(?:[^\]]* )?\d+/\d+\] (?!FROM )", line):  # FROM is never "rerun"
        steps.add(m.group(1))
    elif m := re.match(r"^#(\d+) CACHED$", line):
        cached.add(m.group(1))
print(f"{len(steps - cached)}/{len(steps)}")
PY
}

# Was the step whose command contains PATTERN served from cache in this build log?
step_cached() {
  local logfile=$1 pattern=$2 step
  step=$(grep -F "$pattern" "$logfile" | grep -oE '^#[0-9]+' | head -n1) || return 1
  grep -qE "^${step} CACHED$" "$logfile"
}

naive_dockerfile() {
  local app=$1 file=$2
  # What a first Dockerfile usually looks like: one stage, the whole context copied before
  # installing (any code change reinstalls everything), dev dependencies included, package
  # manager caches and apt lists left in the image. The CA secret is used only so it can build here.
  {
    echo "ARG BASE_IMAGE"
    echo "FROM \${BASE_IMAGE}"
    echo "WORKDIR /app"
    echo "COPY . ."
    if [[ $app == django ]]; then
      echo "RUN apt-get update && apt-get install -y libpq5"
    fi
    echo "RUN --mount=type=secret,id=ca if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca SSL_CERT_FILE=/run/secrets/ca; fi; \\"
    echo "    python3 -m venv /opt/venv && /opt/venv/bin/pip install uv && \\"
    echo "    UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never /opt/venv/bin/uv sync --frozen"
    echo "ENV PATH=/opt/venv/bin:\$PATH"
    echo "EXPOSE 8000"
    echo 'CMD ["gunicorn", "--config", "gunicorn.conf.py"]'
  } >"$file"
}

code_file() { if [[ $1 == fastapi ]]; then echo app/__init__.py; else echo config/__init__.py; fi; }

ROWS=()
SIZES=()
bench_app() {
  local app=$1 src=$WORK/$1
  mkdir -p "$src"
  tar -C "$REPO_ROOT/apps/$app" --exclude=.venv --exclude=__pycache__ --exclude=staticfiles \
    --exclude=.pytest_cache -cf - . | tar -C "$src" -xf -
  # Same Dockerfile, except the uv cache mount gets an id of its own: an empty download cache.
  sed "s|--mount=type=cache,target=/root/.cache/uv|--mount=type=cache,id=bench-uv-$RUN_ID-$app,target=/root/.cache/uv|; s|--mount=type=cache,target=/root/.cache/pip|--mount=type=cache,id=bench-pip-$RUN_ID-$app,target=/root/.cache/pip|" \
    "$src/Dockerfile" >"$WORK/$app.Dockerfile"
  naive_dockerfile "$app" "$WORK/$app.naive.Dockerfile"

  local tag=api-stack-bench/$app:multi-$RUN_ID naive=api-stack-bench/$app:naive-$RUN_ID
  local cold warm naive_cold naive_warm reused naive_reused
  TAGS+=("$tag" "$naive")
  log "[$app] cold multi-stage build"
  # --no-cache: no layer is reused (the base image is the only input taken as is).
  # (Runs under lib.sh's `phase`, where `set -e` does not apply inside functions: check each step.)
  cold=$(build "$src" "$WORK/$app.Dockerfile" "$tag" "$WORK/$app.cold.log" --no-cache) || return 1
  IDS+=("$(image_id "$tag")")
  echo "# benchmark code change $RUN_ID" >>"$src/$(code_file "$app")"
  log "[$app] warm rebuild after a code-only change"
  warm=$(build "$src" "$WORK/$app.Dockerfile" "$tag" "$WORK/$app.warm.log") || return 1
  IDS+=("$(image_id "$tag")")
  reused=no
  step_cached "$WORK/$app.warm.log" "uv sync --frozen --no-dev" && reused=yes

  log "[$app] naive single-stage build"
  naive_cold=$(build "$src" "$WORK/$app.naive.Dockerfile" "$naive" "$WORK/$app.naive-cold.log" --no-cache) || return 1
  IDS+=("$(image_id "$naive")")
  echo "# benchmark code change 2 $RUN_ID" >>"$src/$(code_file "$app")"
  log "[$app] naive rebuild after a code-only change"
  naive_warm=$(build "$src" "$WORK/$app.naive.Dockerfile" "$naive" "$WORK/$app.naive-warm.log") || return 1
  IDS+=("$(image_id "$naive")")
  naive_reused=no
  step_cached "$WORK/$app.naive-warm.log" "uv sync --frozen" && naive_reused=yes

  ROWS+=("$app $cold $warm $reused $(size_mb "$tag") $naive_cold $naive_warm $naive_reused $(size_mb "$naive") $(steps_rebuilt "$WORK/$app.warm.log") $(steps_rebuilt "$WORK/$app.naive-warm.log")")
  SIZES+=("$app $(size_breakdown "$tag")")
}

apps=("$@")
((${#apps[@]})) || apps=(fastapi django)
for app in "${apps[@]}"; do
  [[ $app == fastapi || $app == django ]] || die "unknown app '$app'"
  phase "bench $app" bench_app "$app"
done

base_mb=$(size_mb "$BASE_IMAGE")
python3 - "$base_mb" "$(nproc)" "${#ROWS[@]}" "${ROWS[@]}" "${SIZES[@]}" <<'PY'
import sys
base_mb, cpus, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows, sizes = [r.split() for r in sys.argv[4:4 + count]], [r.split() for r in sys.argv[4 + count:]]


def table(head, body):
    widths = [max(len(str(r[i])) for r in [head] + body) for i in range(len(head))]
    for r in [head, ["-" * w for w in widths]] + body:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")

print(f"\nimage benchmark (base image {base_mb} MB, {cpus} CPUs; times in seconds, sizes in MB)\n")
head = ["app", "", "cold build", "rebuild after code change", "steps rerun", "deps layer reused", "image size"]
body = []
for app, cold, warm, reused, size, ncold, nwarm, nreused, nsize, steps, nsteps in rows:
    body.append([app, "multi-stage", f"{cold} s", f"{warm} s", steps, reused, f"{size} MB"])
    body.append(["", "naive single-stage", f"{ncold} s", f"{nwarm} s", nsteps, nreused, f"{nsize} MB"])
    body.append(["", "naive / multi-stage", f"{float(ncold) / float(cold):.2f}x",
                  f"{float(nwarm) / max(float(warm), 0.1):.1f}x", "", "", f"{float(nsize) / float(size):.2f}x"])
table(head, body)


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


print("\nmulti-stage image size by layer: the base image is the floor, the rest is what each app adds\n")
table(["app", "base image", "system + app user", "virtualenv", "application code", "image size"],
      [[app, *(mb(int(n)) for n in (base, system, venv, code)), mb(int(base) + int(system) + int(venv) + int(code))]
       for app, base, system, venv, code in sizes])
PY
