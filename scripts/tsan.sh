#!/usr/bin/env bash
# Builds the broker's and the client SDK's tests with ThreadSanitizer (build-tsan/) and runs
# them: a real broker on loopback with real gRPC clients, every test binary in full.
# Fails on any test failure or any TSan report.
#
# Debian's gRPC, protobuf and Abseil are not instrumented: tests/tsan_absl_sync.cc tells
# TSan about absl::Mutex/Notification and lists the few suppressions for gRPC's own
# header code (why each is there: that file). broker_memory_test and
# broker_flood_memory_test are left out (they assert resident-memory bounds that TSan's
# shadow memory would break). broker_jetstream_test and cluster_directory_test run against a
# real nats-server (scripts/install-nats-server.sh); libnats is not instrumented, but its
# pthread locks are seen. a2a_gateway_test runs the A2A gateway's HTTP threads, bus clients
# and task waits against a real broker. telemetry_unit_test: the span exporter's bounded
# queue and background thread.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-tsan
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLATENTBUS_TSAN=ON \
    >/dev/null
fi
tests=(broker_unit_test broker_stream_test broker_lean_protocol_test broker_security_test broker_ops_test
       broker_bridge_test broker_hardening_test client_test broker_jetstream_test
       cluster_directory_test a2a_task_store_test a2a_gateway_test telemetry_unit_test)
start=$(date +%s)
echo "tsan: building ${#tests[@]} test binaries in $BUILD_DIR/ ..."
ninja -C "$BUILD_DIR" --quiet -j"${JOBS:-$(nproc)}" "${tests[@]}" tsan_canary tsan_canary_proto
echo "tsan: built in $(($(date +%s) - start)) s"
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4"
# The canaries race on purpose (on our own state; on a message gRPC serialises): TSan must
# report each through the same wrappers and suppressions.
for canary in tsan_canary tsan_canary_proto; do
  if "$BUILD_DIR/tests/$canary" >"$BUILD_DIR/$canary.log" 2>&1 ||
      ! grep -q "WARNING: ThreadSanitizer: data race" "$BUILD_DIR/$canary.log"; then
    echo "tsan: the deliberate race in tests/$canary.cc was not reported; TSan is not checking"
    cat "$BUILD_DIR/$canary.log"
    exit 1
  fi
  echo "tsan: $canary race reported as it must be"
done
failed=0
for t in "${tests[@]}"; do
  bin="$BUILD_DIR/tests/$t"
  log="$BUILD_DIR/$t.tsan.log"
  t0=$(date +%s)
  if "$bin" --gtest_brief=1 >"$log" 2>&1; then
    echo "tsan: $t passed, no reports ($(($(date +%s) - t0)) s)"
  else
    reports=$(grep -c "WARNING: ThreadSanitizer" "$log" || true)
    echo "tsan: $t FAILED (exit status, $reports TSan reports); log $log:"
    cat "$log"
    failed=1
  fi
done
exit "$failed"
