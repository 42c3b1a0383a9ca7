#!/usr/bin/env bash
# Builds the broker and agent container images of deploy/docker/Dockerfile with podman,
# without a Docker daemon or an image registry, and smoke-tests both from the mounted
# images. Root on Debian 12; `scripts/install-deps.sh --image-tools` installs what it uses.
#
#   1. base: a Debian 12 root filesystem from Debian's own packages (`mmdebstrap
#      --variant=minbase bookworm`), plus a slim variant for the runtime stage (dpkg
#      excludes docs, man pages and locales, no usrmerge/perl), each `podman import`ed.
#      The tarballs are cached in $LATENTBUS_IMAGE_CACHE (~/.cache/latentbus/images) and
#      reused; a missing or changed recipe bootstraps again (~30 s each).
#   2. build: `podman build --isolation chroot` of the targets broker and agent, with the
#      bases as DEBIAN_IMAGE and RUNTIME_IMAGE, JOBS compile jobs, at low CPU and I/O
#      priority; ccache persists in podman's cache mount (/var/tmp/buildah-cache).
#   3. smoke: `podman run` is not available on these machines, so each image is mounted
#      (`podman image mount`) and its own binaries run in a chroot as the image's user,
#      with its environment and working directory: the broker answers grpc.health.v1 on
#      loopback, routes a message between two Python SDK clients and serves /metrics; its
#      nats-server reports the pinned version; the agent image loads SmolLM2-135M (from
#      the model cache, fetched when missing), registers with that broker and answers a
#      request.
#   4. sizes: each image's size and what makes it that large (largest packages, files).
#
# Images are built from the committed tree: run it in a clean clone
# (git clone -q /path/to/latentbus /tmp/img-src && /tmp/img-src/scripts/build-images.sh).
# It refuses a working tree with uncommitted changes unless --allow-dirty.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/build-images.sh [OPTIONS]

Builds localhost/latentbus-broker:TAG and localhost/latentbus-agent:TAG with podman from
deploy/docker/Dockerfile and smoke-tests them (see the header of this script).

Options:
  --tag TAG          image tag (default: dev)
  --jobs N           compile jobs in the build stage (default: 2)
  --refresh-base     bootstrap the Debian base again even when cached
  --no-layer-cache   rebuild every layer (podman build --no-cache); ccache still applies
  --no-smoke         build only
  --smoke-only       smoke-test the existing images only (no build)
  --allow-dirty      build although the working tree has uncommitted changes
  -h, --help         this text

Environment:
  LATENTBUS_IMAGE_CACHE  base image cache (default: ~/.cache/latentbus/images)
  LATENTBUS_MODEL_DIR    model cache the agent smoke test reads (default:
                         ~/.cache/latentbus/models; scripts/fetch-models.sh fills it)
  NICE                   CPU niceness of the build (default: 15)
EOF
}

TAG=dev
JOBS=2
REFRESH_BASE=0
LAYER_CACHE=1
BUILD=1
SMOKE=1
ALLOW_DIRTY=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --tag) TAG=${2:?--tag needs a value}; shift 2 ;;
    --jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
    --refresh-base) REFRESH_BASE=1; shift ;;
    --no-layer-cache) LAYER_CACHE=0; shift ;;
    --no-smoke) SMOKE=0; shift ;;
    --smoke-only) BUILD=0; shift ;;
    --allow-dirty) ALLOW_DIRTY=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-images: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "build-images: --jobs wants a positive number" >&2; exit 2; }

cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${LATENTBUS_IMAGE_CACHE:-$HOME/.cache/latentbus/images}
MODEL_DIR=${LATENTBUS_MODEL_DIR:-$HOME/.cache/latentbus/models}
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
NICE=${NICE:-15}
BROKER_IMAGE=localhost/latentbus-broker:$TAG
AGENT_IMAGE=localhost/latentbus-agent:$TAG
LOGS=$ROOT/build/images
SCRIPT_START=$(date +%s)

say() { echo "build-images: $*"; }
die() { echo "build-images: error: $*" >&2; exit 1; }
since() { echo "$(($(date +%s) - $1)) s"; }

# ---- preflight ------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run as root (podman builds with --isolation chroot; the smoke tests chroot into the images)"
for tool in podman mmdebstrap chroot mount python3 git; do
  command -v "$tool" >/dev/null ||
    die "$tool not found: run scripts/install-deps.sh --image-tools (and scripts/install-deps.sh for python3-venv)"
done
if [ "$ALLOW_DIRTY" = 0 ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  die "the working tree has uncommitted changes; images are built from the committed tree:
  git clone -q $ROOT /tmp/img-src && /tmp/img-src/scripts/build-images.sh   (or --allow-dirty)"
fi
mkdir -p "$CACHE" "$LOGS"
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# ---- 1. the Debian 12 bases -------------------------------------------------------------
MIRRORS=(
  "deb http://deb.debian.org/debian bookworm main"
  "deb http://deb.debian.org/debian bookworm-updates main"
  "deb http://deb.debian.org/debian-security bookworm-security main"
)
# apt in the images keeps no downloaded packages and no package caches (as the debian:12
# images' apt configuration does): what the Dockerfile's RUNs install leaves no archives
# behind (without this, 288 MB of .deb files and caches stayed in the runtime image).
# Written once the bootstrap is done: mmdebstrap itself needs the downloaded packages.
APT_NO_CACHE='APT::Keep-Downloaded-Packages "false"; DPkg::Post-Invoke { "rm -f /var/cache/apt/pkgcache.bin /var/cache/apt/srcpkgcache.bin"; };'
APT_CLEAN=("--customize-hook=echo '$APT_NO_CACHE' >\"\$1/etc/apt/apt.conf.d/90latentbus-no-cache\"")
BASE_OPTIONS=(--variant=minbase "${APT_CLEAN[@]}")
# The slim runtime base: merged /usr without the usrmerge package (and the perl it pulls
# in), and dpkg told, for this bootstrap and every later install, to skip documentation
# (copyright files kept), man pages, info pages and translations.
SLIM_OPTIONS=(--variant=minbase "${APT_CLEAN[@]}" --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  "--dpkgopt=path-exclude=/usr/share/doc/*" "--dpkgopt=path-include=/usr/share/doc/*/copyright"
  "--dpkgopt=path-exclude=/usr/share/man/*" "--dpkgopt=path-exclude=/usr/share/info/*"
  "--dpkgopt=path-exclude=/usr/share/locale/*"
  "--dpkgopt=path-include=/usr/share/locale/locale.alias")
# The image environment debian:12 images carry (an imported tarball has none).
IMPORT_CHANGES=(--change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  --change 'CMD ["bash"]')

# base VARIANT OPTIONS...: prints the image name of the imported base, bootstrapping and
# importing it when missing. The name carries a hash of the recipe, so a changed recipe
# never reuses an old tarball.
base() {
  local variant=$1
  shift
  local recipe hash tar image start
  recipe=$(printf '%s\n' "$@" "${MIRRORS[@]}" "${IMPORT_CHANGES[@]}")
  hash=$(sha256sum <<<"$recipe" | cut -c1-12)
  tar=$CACHE/debian-12-$variant-$hash.tar
  image=localhost/latentbus-base:12-$variant-$hash
  if [ "$REFRESH_BASE" = 1 ] || [ ! -s "$tar" ]; then
    start=$(date +%s)
    say "bootstrapping Debian 12 ($variant) with mmdebstrap into $tar" >&2
    if ! mmdebstrap --quiet --format=tar "$@" bookworm "$tar.part" "${MIRRORS[@]}" \
        >"$LOGS/mmdebstrap-$variant.log" 2>&1; then
      cat "$LOGS/mmdebstrap-$variant.log" >&2
      rm -f "$tar.part"
      die "mmdebstrap failed (log above; it needs deb.debian.org)"
    fi
    mv "$tar.part" "$tar"
    # Earlier recipes of this variant are of no further use.
    find "$CACHE" -maxdepth 1 -name "debian-12-$variant-*.tar" ! -name "${tar##*/}" -delete
    podman rmi --force "$image" >/dev/null 2>&1 || true
    say "  $variant bootstrapped in $(since "$start") ($(($(stat -c %s "$tar") / 1000000)) MB)" >&2
  else
    say "Debian 12 ($variant) from the cache: $tar" >&2
  fi
  if ! podman image exists "$image"; then
    podman import --quiet "${IMPORT_CHANGES[@]}" "$tar" "$image" >/dev/null ||
      die "podman import of $tar failed"
    say "  imported as $image" >&2
  fi
  echo "$image"
}

# ---- 2. the images ----------------------------------------------------------------------
# build_target TARGET IMAGE: podman build of one Dockerfile target; the output goes to
# build/images/build-TARGET.log and, prefixed, to the terminal.
build_target() {
  local target=$1 image=$2 start
  local flags=(--isolation chroot --layers -f deploy/docker/Dockerfile
    --ignorefile deploy/docker/Dockerfile.dockerignore --target "$target"
    --build-arg "DEBIAN_IMAGE=$DEBIAN_BASE" --build-arg "RUNTIME_IMAGE=$RUNTIME_BASE"
    --build-arg "JOBS=$JOBS" --label "org.opencontainers.image.revision=$REVISION"
    --tag "$image")
  [ "$LAYER_CACHE" = 1 ] || flags+=(--no-cache)
  [ -z "$PIP_SETTINGS" ] || flags+=(--volume "$PIP_SETTINGS:/etc/xdg/pip:ro")
  start=$(date +%s)
  say "building $image (target $target, $JOBS jobs, nice $NICE; log build/images/build-$target.log)"
  if ! nice -n "$NICE" ionice -c 3 podman build "${flags[@]}" . 2>&1 |
      tee "$LOGS/build-$target.log" | sed -u "s/^/  [$target] /"; then
    die "podman build of target $target failed (build/images/build-$target.log)"
  fi
  say "  $image built in $(since "$start")"
}

# pip_settings: when this machine's pip trusts an extra CA bundle (PIP_CERT or pip's
# global.cert, as behind a TLS-inspecting proxy), prints a folder with that bundle and a
# pip.conf naming it; the build mounts it read-only at /etc/xdg/pip, where the build
# stage's pip (install-nats-server.sh) reads it. Nothing of it stays in the image.
pip_settings() {
  local cert=${PIP_CERT:-} dir
  [ -n "$cert" ] || cert=$(python3 -m pip config list 2>/dev/null |
    sed -n "s/^global\.cert='\(.*\)'$/\1/p" | head -1)
  [ -n "$cert" ] && [ -f "$cert" ] || return 0
  dir=$LOGS/pip-settings
  mkdir -p "$dir"
  cp "$cert" "$dir/ca.crt"
  printf '[global]\ncert = /etc/xdg/pip/ca.crt\n' >"$dir/pip.conf"
  say "the build's pip trusts this machine's CA bundle ($cert)" >&2
  echo "$dir"
}

if [ "$BUILD" = 1 ]; then
  PIP_SETTINGS=$(pip_settings)
  DEBIAN_BASE=$(base minbase "${BASE_OPTIONS[@]}")
  RUNTIME_BASE=$(base slim "${SLIM_OPTIONS[@]}")
  build_target broker "$BROKER_IMAGE"
  build_target agent "$AGENT_IMAGE"
fi
for image in "$BROKER_IMAGE" "$AGENT_IMAGE"; do
  podman image exists "$image" || die "$image does not exist (build it first: drop --smoke-only)"
done

# ---- 3. smoke tests ---------------------------------------------------------------------
# Everything mounted or started below is undone on exit, also on failure. The arrays are
# only ever changed in this shell (never inside $(...)), so cleanup sees every entry.
MOUNTS=()     # mount points, unmounted in reverse order
MOUNTED=()    # images mounted with podman image mount
PIDS=()       # processes started in a chroot (latentbus itself: in_image execs)
SCRATCH=      # the chroots' /tmp
cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null ||
      echo "build-images: could not unmount ${MOUNTS[i]}" >&2
  done
  for image in "${MOUNTED[@]}"; do podman image unmount "$image" >/dev/null 2>&1 || true; done
  # Only once nothing is mounted from it any more.
  if [ -n "$SCRATCH" ] && ! grep -qF " ${SCRATCH} " /proc/self/mountinfo; then rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT

# bind SOURCE TARGET [OPTIONS]: a bind mount, remembered for cleanup.
bind() {
  mount --bind ${3:+-o "$3"} "$1" "$2" || die "cannot bind-mount $1 at $2"
  MOUNTS+=("$2")
}

# mount_image IMAGE: mounts IMAGE (podman image mount: read-only) with what a container
# would have (/proc, /dev, /sys read-only, /tmp = $SCRATCH, writable); sets IMAGE_ROOT.
mount_image() {
  local image=$1
  IMAGE_ROOT=$(podman image mount "$image") || die "podman image mount $image failed"
  MOUNTED+=("$image")
  mount -t proc proc "$IMAGE_ROOT/proc" || die "cannot mount /proc in $image"
  MOUNTS+=("$IMAGE_ROOT/proc")
  bind /dev "$IMAGE_ROOT/dev"
  bind /sys "$IMAGE_ROOT/sys" ro
  bind "$SCRATCH" "$IMAGE_ROOT/tmp"
}

# in_image ROOT IMAGE COMMAND...: runs COMMAND inside the mounted image as its USER,
# with its ENV and WORKDIR and nothing of this shell's environment. It execs, so a
# background `in_image ... &` leaves $! = the command's own process (signals reach it).
in_image() {
  local root=$1 image=$2
  shift 2
  local user workdir
  local -a env
  user=$(podman image inspect --format '{{.Config.User}}' "$image")
  workdir=$(podman image inspect --format '{{.Config.WorkingDir}}' "$image")
  mapfile -t env < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" | grep .)
  exec env -i "${env[@]}" /usr/sbin/chroot --userspec="${user:-0:0}" "$root" \
    /usr/bin/env --chdir="${workdir:-/}" "$@"
}

# wait_for FILE SECONDS PID: waits until FILE exists (and, for a port file, is not
# empty), failing early if PID exits.
wait_for() {
  local file=$1 seconds=$2 pid=$3 i
  for ((i = 0; i < seconds * 5; i++)); do
    if [ -e "$file" ] && { [ "${file%.port}" = "$file" ] || [ -s "$file" ]; }; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# stop PID NAME SECONDS: SIGTERM, as Kubernetes stops a pod; it must exit 0 in time.
stop() {
  local pid=$1 name=$2 seconds=$3 i status
  kill -TERM "$pid"
  for ((i = 0; i < seconds * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$pid" 2>/dev/null && die "$name did not stop within $seconds s of SIGTERM"
  status=0
  wait "$pid" || status=$?
  [ "$status" = 0 ] || die "$name exited with status $status after SIGTERM"
  say "  $name stopped on SIGTERM (exit 0)"
}

smoke_venv() {
  local venv=$ROOT/build/image-smoke-venv
  if ! "$venv/bin/python" -c "import latentbus, grpc" 2>/dev/null; then
    say "installing the Python SDK (sdk/python, pinned by constraints.txt) into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (scripts/install-deps.sh installs python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c sdk/python/constraints.txt ./sdk/python >&2 || die "pip install of sdk/python failed"
  fi
  echo "$venv/bin/python"
}

if [ "$SMOKE" = 1 ]; then
  start=$(date +%s)
  PY=$(smoke_venv)
  SMOKE_CLIENT=(env -u PYTHONPATH "$PY" deploy/docker/smoke_test.py)
  LATENTBUS_MODEL_DIR=$MODEL_DIR scripts/fetch-models.sh smollm2 >/dev/null ||
    die "scripts/fetch-models.sh smollm2 failed"
  SCRATCH=$(mktemp -d /tmp/latentbus-smoke.XXXXXX)
  chmod 1777 "$SCRATCH"

  say "smoke test of $BROKER_IMAGE"
  mount_image "$BROKER_IMAGE"
  broker_root=$IMAGE_ROOT
  nats=$(in_image "$broker_root" "$BROKER_IMAGE" /usr/local/bin/nats-server --version) ||
    die "nats-server --version failed in $BROKER_IMAGE"
  pinned=$(sed -n 's/^VERSION=//p' scripts/install-nats-server.sh)
  [ "$nats" = "nats-server: v$pinned" ] || die "the broker image's nats-server reports '$nats', pinned: v$pinned"
  say "  /usr/local/bin/nats-server --version: $nats (the pin of install-nats-server.sh)"
  # The image's default command with loopback addresses and free ports.
  in_image "$broker_root" "$BROKER_IMAGE" /usr/local/bin/latentbus broker \
    --listen 127.0.0.1:0 --port-file /tmp/broker.port --metrics-listen 127.0.0.1:0 \
    >"$LOGS/smoke-broker.log" 2>&1 &
  broker_pid=$!
  PIDS+=("$broker_pid")
  wait_for "$SCRATCH/broker.port" 60 "$broker_pid" || {
    cat "$LOGS/smoke-broker.log" >&2
    die "the broker in $BROKER_IMAGE did not start (log above)"
  }
  address=127.0.0.1:$(cat "$SCRATCH/broker.port")
  metrics_port=$(sed -n 's/.*metrics_port=\([0-9]*\).*/\1/p' "$LOGS/smoke-broker.log" | head -1)
  say "  latentbus broker from the image listens on $address (metrics $metrics_port)"
  "${SMOKE_CLIENT[@]}" health "$address" || die "broker health check failed"
  "${SMOKE_CLIENT[@]}" route "$address" || die "routing between two SDK clients failed"
  "${SMOKE_CLIENT[@]}" metrics "http://127.0.0.1:$metrics_port/metrics" || die "metrics check failed"

  say "smoke test of $AGENT_IMAGE (with the broker above)"
  mount_image "$AGENT_IMAGE"
  agent_root=$IMAGE_ROOT
  [ -d "$agent_root/models" ] || die "$AGENT_IMAGE has no /models (the volume's mount point)"
  bind "$MODEL_DIR" "$agent_root/models" ro
  # --model is a bare file name: the image's LATENTBUS_MODEL_DIR=/models must resolve it.
  in_image "$agent_root" "$AGENT_IMAGE" /usr/local/bin/latentbus agent --id smoke-agent \
    --broker "$address" --model "$MODEL_FILE" --ready-file /tmp/agent.ready \
    --max-new-tokens 16 --threads 2 >"$LOGS/smoke-agent.log" 2>&1 &
  agent_pid=$!
  PIDS+=("$agent_pid")
  wait_for "$SCRATCH/agent.ready" 180 "$agent_pid" || {
    cat "$LOGS/smoke-agent.log" >&2
    die "the agent in $AGENT_IMAGE did not register (log above)"
  }
  say "  latentbus agent from the image loaded $MODEL_FILE and wrote its ready file"
  "${SMOKE_CLIENT[@]}" agent "$address" smoke-agent || {
    cat "$LOGS/smoke-agent.log" >&2
    die "the agent check failed (agent log above)"
  }
  stop "$agent_pid" "the agent" 30
  stop "$broker_pid" "the broker" 30
  PIDS=()
  say "smoke tests passed in $(since "$start") (logs: build/images/smoke-*.log)"
fi

# ---- 4. sizes ---------------------------------------------------------------------------
# size_report IMAGE: its size, what its Debian packages weigh (and which of them only
# libtorch, OpenCV, gRPC or Python need: deploy/docker/image_sizes.py) and its largest files.
size_report() {
  local image=$1 root bytes
  bytes=$(podman image inspect --format '{{.Size}}' "$image")
  say "$image: $((bytes / 1000000)) MB (uncompressed)"
  root=$(podman image mount "$image")
  MOUNTED+=("$image")
  python3 deploy/docker/image_sizes.py "$root"
  echo "  largest files (MB):"
  find "$root" -xdev -type f -size +10M -printf '%s\t%P\n' | sort -rn |
    awk 'NR <= 8 { printf "    %6.1f  /%s\n", $1 / 1048576, $2 }'
}
size_report "$BROKER_IMAGE"
size_report "$AGENT_IMAGE"
say "done in $(since "$SCRIPT_START") (revision $REVISION)"
