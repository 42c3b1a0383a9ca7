#!/usr/bin/env bash
# Builds the parsers' unit tests and fuzzers with clang + ASan + UBSan (build-fuzz/), runs
# the tests, then fuzzes each parser from its committed seed corpus:
#   codec_packet_fuzzer  latent packets      FUZZ_SECONDS (default 120)
#   gguf_fuzzer          GGUF model files    FUZZ_SECONDS / 2
#   tokenizer_fuzzer     text -> tokens      FUZZ_SECONDS / 2
#   traceparent_fuzzer   W3C traceparent     FUZZ_SECONDS / 4
#   a2a_request_fuzzer   A2A JSON-RPC bodies FUZZ_SECONDS / 4
# Fails on any sanitizer report or fuzzer crash.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-fuzz
FUZZ_SECONDS=${FUZZ_SECONDS:-120}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLATENTBUS_ASAN=ON -DLATENTBUS_FUZZ=ON >/dev/null
fi
# Plain C++ parsers and codecs only: the torch parts are not built here.
tests=(codec_checksum_test codec_encoding_test codec_half_test codec_kernels_test
       codec_rotation_test codec_packet_test codec_packet_proto_test
       gguf_ggml_type_test gguf_file_test
       tokenizer_utf8_test tokenizer_pretokenizer_test tokenizer_test tokenizer_chat_template_test
       tokenizer_json_test a2a_json_test a2a_task_store_test telemetry_trace_context_test)
fuzzers=("codec_packet_fuzzer codec/fuzz/corpus $FUZZ_SECONDS"
         "gguf_fuzzer agent/gguf/fuzz/corpus $((FUZZ_SECONDS / 2))"
         "tokenizer_fuzzer agent/tokenizer/fuzz/corpus $((FUZZ_SECONDS / 2))"
         "a2a_request_fuzzer a2a/fuzz/corpus $((FUZZ_SECONDS / 4))"
         "traceparent_fuzzer telemetry/fuzz/corpus $((FUZZ_SECONDS / 4))")
echo "fuzz: building the sanitizer tree in $BUILD_DIR/ ..."
targets=("${tests[@]}")
for f in "${fuzzers[@]}"; do targets+=("${f%% *}"); done
ninja -C "$BUILD_DIR" --quiet -j"${JOBS:-$(nproc)}" "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${tests[@]}"; do
  echo "fuzz: $t under ASan+UBSan"
  "$BUILD_DIR/tests/$t" --gtest_brief=1 >"$BUILD_DIR/$t.log" 2>&1 || { cat "$BUILD_DIR/$t.log"; exit 1; }
done
echo "fuzz: codec_packet_test with LATENTBUS_CODEC_KERNELS=scalar under ASan+UBSan"
LATENTBUS_CODEC_KERNELS=scalar "$BUILD_DIR/tests/codec_packet_test" --gtest_brief=1 \
  >"$BUILD_DIR/scalar.log" 2>&1 || { cat "$BUILD_DIR/scalar.log"; exit 1; }

for f in "${fuzzers[@]}"; do
  read -r name corpus seconds <<<"$f"
  work=$(mktemp -d)
  log="$BUILD_DIR/$name.log"
  echo "fuzz: $name for ${seconds}s from $(ls "$corpus" | wc -l) seeds"
  if ! (cd "$work" && "$OLDPWD/$BUILD_DIR/bin/$name" -max_total_time="$seconds" \
          -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
          "$work" "$OLDPWD/$corpus" >"$OLDPWD/$log" 2>&1); then
    tail -60 "$log"
    echo "fuzz: $name FAILED (the crashing input is in $work)"
    exit 1
  fi
  grep -E "^stat::(number_of_executed_units|new_units_added)" "$log" | sed "s/^/fuzz: $name /"
  grep -E " cov: " "$log" | tail -1 | sed "s/^/fuzz: $name final /"
  rm -rf "$work"
done
echo "fuzz: no crashes, leaks or undefined behaviour found"
