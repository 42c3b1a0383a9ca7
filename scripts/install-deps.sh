#!/usr/bin/env bash
# Installs everything latentbus needs to build, test and run on Debian 12, as root.
# Idempotent: installs only what is missing (no apt-get update when nothing is).
# Quiet on success; on failure prints the package manager's log.
set -euo pipefail

DEBIAN_PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev clang-format
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libxxhash-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libyaml-cpp-dev libcpp-httplib-dev openssl
  # tests and benchmarks (nats-server + its C client: the bus bench's baseline, and the
  # messaging engine of the later cross-broker delivery layer)
  libgtest-dev libgmock-dev libbenchmark-dev nats-server libnats-dev
  # the LLM runtime: libtorch (CPU) and a fast BLAS for it (the reference BLAS is ~9x slower)
  libtorch-dev libopenblas0-pthread
  python3 python3-pip python3-venv
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (it uses apt-get)" >&2
  exit 1
fi

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
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
