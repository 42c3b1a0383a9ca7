#!/usr/bin/env bash
# Builds the codec's unit tests and packet fuzzer with clang + ASan + UBSan (build-fuzz/),
# runs the tests, then fuzzes packet decoding for FUZZ_SECONDS (default 120) starting
# from the committed seed corpus. Fails on any sanitizer report or fuzzer crash.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-fuzz
FUZZ_SECONDS=${FUZZ_SECONDS:-120}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLATENTBUS_ASAN=ON -DLATENTBUS_FUZZ=ON >/dev/null
fi
echo "fuzz: building sanitizer build in $BUILD_DIR/ ..."
codec_tests=(codec_checksum_test codec_encoding_test codec_half_test codec_kernels_test
             codec_rotation_test codec_packet_test codec_packet_proto_test)
ninja -C "$BUILD_DIR" --quiet -j"${JOBS:-$(nproc)}" codec_packet_fuzzer "${codec_tests[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${codec_tests[@]}"; do
  echo "fuzz: $t under ASan+UBSan"
  "$BUILD_DIR/tests/$t" --gtest_brief=1 >"$BUILD_DIR/$t.log" 2>&1 || { cat "$BUILD_DIR/$t.log"; exit 1; }
done
echo "fuzz: codec_packet_test with LATENTBUS_CODEC_KERNELS=scalar under ASan+UBSan"
LATENTBUS_CODEC_KERNELS=scalar "$BUILD_DIR/tests/codec_packet_test" --gtest_brief=1 \
  >"$BUILD_DIR/scalar.log" 2>&1 || { cat "$BUILD_DIR/scalar.log"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fuzz: codec_packet_fuzzer for ${FUZZ_SECONDS}s from $(ls codec/fuzz/corpus | wc -l) seeds"
(cd "$work" && "$OLDPWD/$BUILD_DIR/bin/codec_packet_fuzzer" -max_total_time="$FUZZ_SECONDS" \
   -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
   "$work" "$OLDPWD/codec/fuzz/corpus" >"$work/../fuzz-$$.log" 2>&1) || {
  tail -60 "$work/../fuzz-$$.log"; echo "fuzz: FAILED (crash input saved in $work)"; exit 1; }
grep -E "^stat::(number_of_executed_units|new_units_added)" \
  "$work/../fuzz-$$.log" | sed 's/^/fuzz: /'
grep -E " cov: " "$work/../fuzz-$$.log" | tail -1 | sed 's/^/fuzz: final /'
rm -f "$work/../fuzz-$$.log"
echo "fuzz: no crashes, leaks or undefined behaviour found"
