#!/usr/bin/env bash
# Copies what scripts/cuda/check.sh needs into DEST, for a GPU machine that has PyTorch
# but not the project's other dependencies: the runtime's source folders (with the tiny
# test checkpoints), torch_edge, bridge and one shipped bridge, the device codec's
# benchmark sources, scripts/cuda, and the Debian packages of Abseil, nlohmann_json,
# xxHash and GoogleTest in DEST/debs (fetched with apt-get download). About 9 MB.
#   scripts/cuda/stage.sh DEST
set -euo pipefail
DEST=${1:?usage: stage.sh DEST}
cd "$(dirname "$0")/../.."
rm -rf "$DEST/agent" "$DEST/codec" "$DEST/scripts" "$DEST/bench" "$DEST/cmake" \
  "$DEST/torch_edge" "$DEST/bridge" "$DEST/bridges"
mkdir -p "$DEST/debs"
tar -c agent/llm agent/gguf agent/tokenizer codec torch_edge bridge scripts/cuda cmake/Cuda.cmake \
  bridges/smollm2-to-gemma3.adapter.bridge \
  bench/codec_device_bench.h bench/codec_device_bench.cc bench/timing.h bench/timing.cc |
  tar -x -C "$DEST"
if ! ls "$DEST"/debs/*.deb >/dev/null 2>&1; then
  (cd "$DEST/debs" && apt-get download -q libabsl-dev libabsl20220623 nlohmann-json3-dev \
    libxxhash-dev libxxhash0 libgtest-dev 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
fi
du -sh "$DEST"
