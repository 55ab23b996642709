#!/usr/bin/env bash
# Build the Deflect image with podman from this checkout, start it alone and then docker-compose.yml, and check each
# answers /readyz and a Japanese suggest; prints the image size, the build time and the time from start to ready.
# Unless BASE_IMAGE, POSTGRES_IMAGE and REDIS_IMAGE name images to use, they are made here from Debian packages,
# so no image registry is needed. Settings and figures: docs/container.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}  # its pip settings are handed to pip in the build
IMAGE=${DEFLECT_IMAGE:-localhost/deflect:latest}
PORT=${DEFLECT_PORT:-8000}
URL=http://127.0.0.1:$PORT
PROJECT=deflect-check
WORK=var/container
SUGGEST='{"text": "パスワードを忘れてログインできません", "locale": "ja"}'
# chroot isolation: a build then needs neither an OCI runtime nor cgroups, which nested virtual machines may lack.
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
mkdir -p "$WORK"

say() { printf '\n== %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'; }
http() { curl --silent --show-error --fail --noproxy '*' "$@"; }

debian_base() {
  local image=localhost/deflect-base:bookworm options=() sources=()
  if ! podman image exists "$image"; then
    say "making $image from Debian bookworm packages"
    [ -f /etc/apt/sources.list.d/debian.sources ] && sources=(/etc/apt/sources.list.d/debian.sources)
    # Follow this host's apt: a frozen snapshot of the archive has Release files past their date.
    eval "$(apt-config shell valid_until Acquire::Check-Valid-Until 2>/dev/null || true)"
    [ "${valid_until:-}" = false ] && options+=(--aptopt='Acquire::Check-Valid-Until "false"')
    mmdebstrap --quiet --variant=apt --include=python3-venv,passwd,ca-certificates,tzdata,netbase \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      "${options[@]}" bookworm "$WORK/base.tar" "${sources[@]}" >&2
    podman import --change 'CMD ["python3"]' "$WORK/base.tar" "$image" >/dev/null
    rm -f "$WORK/base.tar"
  fi
  echo "$image"
}

# Some hosts refuse podman's defaults (a nested VM: crun on hybrid cgroups, ulimits above this shell's hard limits):
# then runc and those limits, through a containers.conf of our own.
use_a_runtime_that_works() {
  podman run --rm "$1" true >/dev/null 2>&1 && return 0
  local nofile nproc
  nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
  if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\nruntime = "runc"\n' \
    "$nofile" "$nofile" "$nproc" "$nproc" > "$WORK/containers.conf"
  export CONTAINERS_CONF=$PWD/$WORK/containers.conf
  say "podman's default runtime settings fail here; using $CONTAINERS_CONF (runc, nofile $nofile, nproc $nproc)"
  podman run --rm "$1" true
}

wait_until_ready() {
  local start=$1
  until http --output /dev/null "$URL/readyz" 2>/dev/null; do
    if [ "$(since "$start" | cut -d. -f1)" -ge 300 ]; then
      echo "not ready within 300 s" >&2
      return 1
    fi
    sleep 0.2
  done
  since "$start"
}

# Ask in Japanese; print the query id and the first article, or fail if nothing is suggested.
suggest_in_japanese() {
  http --header 'Content-Type: application/json' --data "$SUGGEST" "$URL/v1/suggest" | "$PYTHON" -c '
import json, sys
answer = json.load(sys.stdin)
assert answer["results"], answer
print(answer["query_id"], answer["results"][0]["article_id"])'
}

compose_command() {
  if podman compose version >/dev/null 2>&1; then
    COMPOSE=(podman compose)
  elif command -v podman-compose >/dev/null; then
    COMPOSE=(podman-compose)
  else
    say "installing podman-compose into $WORK/compose-venv (not a dependency of Deflect)"
    "$PYTHON" -m venv "$WORK/compose-venv"
    "$WORK/compose-venv/bin/pip" install --quiet podman-compose
    COMPOSE=("$WORK/compose-venv/bin/podman-compose")
  fi
}

# The compose stack of this check, Redis included.
stack() { "${COMPOSE[@]}" -p "$PROJECT" --profile redis "$@"; }

clean_up() {
  podman rm --force --ignore deflect-check >/dev/null 2>&1 || true
  if [ "${#COMPOSE[@]}" -gt 0 ]; then stack down -v >/dev/null 2>&1 || true; fi
}
COMPOSE=()
trap clean_up EXIT

if http --output /dev/null "$URL/" 2>/dev/null; then
  echo "something already answers on $URL: set DEFLECT_PORT to a free port" >&2
  exit 1
fi

base=${BASE_IMAGE:-$(debian_base)}
use_a_runtime_that_works "$base"

say "building $IMAGE from $base"
mapfile -t pip_arguments < <("$PYTHON" scripts/pip_build_args.py)
build_start=$(now)
podman build --format docker --build-arg BASE_IMAGE="$base" "${pip_arguments[@]}" --tag "$IMAGE" .
build_seconds=$(since "$build_start")
size_mb=$(( $(podman image inspect --format '{{.Size}}' "$IMAGE") / 1000000 ))

say "starting $IMAGE alone (SQLite)"
start=$(now)
podman run --detach --name deflect-check --publish "127.0.0.1:$PORT:8000" "$IMAGE" >/dev/null
alone_ready=$(wait_until_ready "$start")
answer=$(suggest_in_japanese)
alone_article=${answer#* }
user=$(podman exec deflect-check id -un)
podman rm --force deflect-check >/dev/null

postgres_image=${POSTGRES_IMAGE:-localhost/deflect-postgres:15}
redis_image=${REDIS_IMAGE:-localhost/deflect-redis:7}
if [ -z "${POSTGRES_IMAGE:-}" ]; then
  say "building $postgres_image from Debian packages"
  podman build --quiet --build-arg BASE_IMAGE="$base" --tag "$postgres_image" scripts/images/postgres >/dev/null
fi
if [ -z "${REDIS_IMAGE:-}" ]; then
  say "building $redis_image from Debian packages"
  podman build --quiet --build-arg BASE_IMAGE="$base" --tag "$redis_image" scripts/images/redis >/dev/null
fi

compose_command
say "starting docker-compose.yml with ${COMPOSE[*]} (PostgreSQL and Redis)"
export DEFLECT_IMAGE=$IMAGE POSTGRES_IMAGE=$postgres_image REDIS_IMAGE=$redis_image
export DEFLECT_PUBLISH=127.0.0.1:$PORT DEFLECT_REDIS_URL=redis://redis:6379/0
start=$(now)
stack up -d >"$WORK/compose-up.log" 2>&1
compose_ready=$(wait_until_ready "$start")
answer=$(suggest_in_japanese)
query_id=${answer%% *} compose_article=${answer#* }
http --header 'Content-Type: application/json' --output /dev/null \
  --data "{\"query_id\": \"$query_id\", \"client_id\": \"container-check\", \"action\": \"click\",
           \"article_id\": \"$compose_article\", \"position\": 1}" "$URL/v1/events"
stored=$(stack exec -T postgres \
  psql -U deflect -d deflect -tAc "SELECT count(*) FROM event WHERE query_id = '$query_id'")
rate_keys=$(stack exec -T redis redis-cli --scan | wc -l)

cat <<EOF

image          $IMAGE, $size_mb MB, from $base
build          $build_seconds s
image alone    ready $alone_ready s after podman run; user $user; ja suggest: $alone_article
compose        ready $compose_ready s after up; ja suggest: $compose_article; events in PostgreSQL for it: $stored; Redis keys: $rate_keys
EOF
if [ "$stored" -lt 1 ] || [ "$rate_keys" -lt 1 ]; then
  echo "the compose stack answered, but the event is not in PostgreSQL or Redis holds no rate-limit keys" >&2
  exit 1
fi
