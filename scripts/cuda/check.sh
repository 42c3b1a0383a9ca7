#!/usr/bin/env bash
# Builds the LLM runtime against this machine's pip PyTorch and checks it on CUDA: the tiny
# test checkpoints against their transformers references, random-weight checkpoints of
# SmolLM2-135M and Gemma 3 270M shapes against transformers on the GPU and against the
# runtime on the CPU, greedy decoding with soft tokens, and prefill/decode timing next to
# transformers. See README.md beside this file.
#
#   scripts/cuda/check.sh [SRC]    SRC: the repository root or a copy made by stage.sh
#                                  (default: the repository holding this script)
# Environment:
#   LB_DEBS      folder of .deb files (Abseil, nlohmann_json, xxHash) to unpack into
#                $WORK/deps when the system lacks them; default SRC/debs when it exists
#   WORK         scratch folder (default /tmp/lb-cuda); the build is kept there
#   OUT          when set, the log and the JSON results are copied there
#   PYTHON       the python with torch and transformers (default python3)
#   LB_TORCH_DIR a libtorch/pip torch folder to build against (default: PYTHON's torch)
#   LB_CHECK_DEVICE  second device (default cuda; "cpu" for a dry run without a GPU)
#   LB_SMALL=1   2-layer models with a 4,096-token vocabulary (dry run)
# Exit status: 0 when the build and every check passed.
set -uo pipefail
SRC=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
WORK=${WORK:-/tmp/lb-cuda}
PY=${PYTHON:-python3}
LB_DEBS=${LB_DEBS:-}
[ -z "$LB_DEBS" ] && [ -d "$SRC/debs" ] && LB_DEBS=$SRC/debs
mkdir -p "$WORK"
export HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error PYTHONUNBUFFERED=1
LOG=$WORK/check.log
: >"$LOG"
exec > >(tee -a "$LOG") 2>&1
status=0
step() { echo "== $* ($(date +%T))"; }
run() {  # runs a step, remembering a failure and going on
  "$@" || { echo "!! failed ($?): $*"; status=1; }
}

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
grep PRETTY_NAME /etc/os-release
echo "$(c++ --version | head -1); $(cmake --version | head -1); ninja $(ninja --version)"
$PY -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda,
"available", torch.cuda.is_available(), "transformers", transformers.__version__)'

step "build"
# nvcc for the device codec (codec/cuda), where the toolkit did not put it on PATH.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=$PATH:/usr/local/cuda/bin
fi
DEPS=""
if [ -n "$LB_DEBS" ]; then
  DEPS=$WORK/deps
  for f in "$LB_DEBS"/*.deb; do dpkg -x "$f" "$DEPS"; done
  # The binary's RUNPATH reaches only the libraries it links directly, not Abseil's own.
  export LD_LIBRARY_PATH=$DEPS/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
TORCH_DIR=${LB_TORCH_DIR:-$($PY -c 'import os, torch; print(os.path.dirname(torch.__file__))')}
ABI=$($PY -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 1)
STD=17
if grep -rqs "C++20 or later" "$TORCH_DIR/include/c10/macros" "$TORCH_DIR/include/c10/util"; then
  STD=20
fi
echo "torch at $TORCH_DIR, _GLIBCXX_USE_CXX11_ABI=$ABI, C++$STD"
start=$(date +%s)
cmake -S "$SRC/scripts/cuda" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DLB_SRC="$SRC" -DLB_DEPS="$DEPS" -DLB_TORCH_DIR="$TORCH_DIR" -DLB_TORCH_ABI="$ABI" \
  -DCMAKE_CXX_STANDARD=$STD -DCMAKE_POLICY_VERSION_MINIMUM=3.5 >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log"; exit 1; }
ninja -C "$WORK/build" -j"${JOBS:-$(nproc)}" cuda_check >"$WORK/ninja.log" 2>&1 ||
  { grep -v '^\[' "$WORK/ninja.log"; echo "!! build failed"; exit 1; }
echo "built in $(($(date +%s) - start)) s"
BIN=$WORK/build/cuda_check

# build_targets NAME TARGET...: builds the targets, printing the errors when it fails
# (so a stale binary from an earlier build is never checked).
build_targets() {
  local name=$1
  shift
  ninja -C "$WORK/build" -j"${JOBS:-$(nproc)}" "$@" >"$WORK/ninja-$name.log" 2>&1 ||
    { grep -v '^\[' "$WORK/ninja-$name.log"; false; }
}
# check WHAT COMMAND...: prints PASS WHAT or FAIL WHAT, remembering a failure.
check() {
  local what=$1
  shift
  if "$@"; then echo "PASS $what"; else echo "FAIL $what"; status=1; fi
}

step "device codec (codec/cuda): bytes vs the CPU codec and the shared vectors, benchmark"
if [ "${LB_CHECK_DEVICE:-cuda}" != cuda ]; then
  echo "skipped: LB_CHECK_DEVICE=${LB_CHECK_DEVICE} (the device codec needs a GPU)"
elif ! grep -q '^CMAKE_CUDA_COMPILER:[A-Z]*=/' "$WORK/build/CMakeCache.txt"; then
  echo "FAIL device codec: nvcc was not found at configure time (PATH=$PATH)"
  status=1
elif build_targets codec codec_cuda_test codec_device_bench; then
  # Without a usable device the tests fail here instead of skipping.
  check "device codec test" env LATENTBUS_REQUIRE_CUDA=1 \
    "$WORK/build/codec/cuda/codec_cuda_test" --gtest_output="json:$WORK/codec_cuda_test.json"
  check "device codec bench (every case byte-identical to the CPU codec)" \
    "$WORK/build/codec_device_bench" "$WORK/codec_device_bench.json"
else
  echo "FAIL device codec: build failed (codec_cuda_test needs GoogleTest: LB_DEBS)"
  status=1
fi

step "bridges on the GPU: tests against the CPU, benchmark"
if [ "${LB_CHECK_DEVICE:-cuda}" != cuda ]; then
  echo "skipped: LB_CHECK_DEVICE=${LB_CHECK_DEVICE}"
elif build_targets bridge bridge_test bridge_device_bench; then
  check "bridge tests (the GPU one against the CPU)" env LATENTBUS_REQUIRE_CUDA=1 \
    "$WORK/build/bridge/bridge_test" --gtest_output="json:$WORK/bridge_test.json"
  shipped=$(ls "$SRC"/bridges/smollm2-to-gemma3*.bridge 2>/dev/null | head -1)
  # shellcheck disable=SC2086  # no bridge shipped: no argument
  check "bridge bench on the GPU (errors within 1e-4)" \
    "$WORK/build/bridge_device_bench" "$WORK/bridge_device_bench.json" $shipped
else
  echo "FAIL bridges: build failed (bridge_test needs GoogleTest: LB_DEBS)"
  status=1
fi

step "tiny checkpoints: ${LB_CHECK_DEVICE:-cuda} vs cpu vs transformers references"
run "$BIN" tiny "$SRC/agent/llm/testdata" tiny-llama tiny-gemma3

step "random-weight checkpoints of real shapes"
M=$WORK/models
rm -rf "$M"
run $PY "$SRC/scripts/cuda/hf_check.py" make "$M" ${LB_SMALL:+--small}
for name in smollm2-135m-rand gemma3-270m-rand; do
  [ -d "$M/$name" ] || continue
  step "$name: dump, generate, bench"
  mkdir -p "$M/$name.dump"
  run "$BIN" dump "$M/$name" "$M/$name.ids.json" "$M/$name.dump"
  run "$BIN" generate "$M/$name" "$M/$name.gen.json" "$M/$name.gen.out.json"
  run "$BIN" bench "$M/$name" "$M/$name.bench.json"
done

step "transformers: agreement and baseline timing"
run $PY "$SRC/scripts/cuda/hf_check.py" check "$M"

step "done: $([ $status = 0 ] && echo 'all passed' || echo 'FAILURES above')"
grep -c '^PASS' "$LOG" | sed 's/^/passed checks: /'
grep '^FAIL' "$LOG" || true
if [ -n "${OUT:-}" ]; then
  # At most 8 files come back from a device machine: the log and seven results.
  cp "$LOG" "$M/summary.json" "$WORK/codec_cuda_test.json" "$WORK/codec_device_bench.json" \
    "$WORK/bridge_test.json" "$WORK/bridge_device_bench.json" "$OUT/" 2>/dev/null
  for name in smollm2-135m-rand gemma3-270m-rand; do
    cp "$M/$name.bench.json" "$OUT/" 2>/dev/null
  done
fi
exit $status
