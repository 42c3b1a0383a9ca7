#!/usr/bin/env bash
# Configures and builds latentbus into build/ (Release). Extra arguments go to cmake.
# The CLI lands at build/bin/latentbus.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$BUILD_DIR/build.ninja" ] || [ "$#" -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
fi
start=$(date +%s)
echo "build: compiling into $BUILD_DIR/ ..."
ninja -C "$BUILD_DIR" --quiet -j"${JOBS:-$(nproc)}"
echo "build: done in $(($(date +%s) - start)) s"
