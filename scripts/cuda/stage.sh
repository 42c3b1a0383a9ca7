#!/usr/bin/env bash
# Copies what scripts/cuda/check.sh needs into DEST, for a GPU machine that has PyTorch
# but not the project's other dependencies: the runtime's source folders (with the tiny
# test checkpoints), torch_edge, bridge and one shipped bridge, the device codec's
# benchmark sources, scripts/cuda, and the Debian packages of Abseil, nlohmann_json,
# xxHash and GoogleTest in DEST/debs (fetched with apt-get download). About 14 MB.
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
for pkg in libabsl-dev libabsl20220623 nlohmann-json3-dev libxxhash-dev libxxhash0 libgtest-dev; do
  # Each package that an earlier staging did not fetch (a DEST may predate one).
  ls "$DEST/debs/${pkg}_"*.deb >/dev/null 2>&1 && continue
  (cd "$DEST/debs" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  ls "$DEST/debs/${pkg}_"*.deb >/dev/null 2>&1 || { echo "stage.sh: could not fetch $pkg" >&2; exit 1; }
done
du -sh "$DEST"
