#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (root): installs what is
# missing, fetches the two real models into the model cache (once), runs the parsers'
# tests and fuzzers under ASan+UBSan (FUZZ_SECONDS, default 120), builds the Release tree
# and runs every test with ctest, the broker and client tests again under ThreadSanitizer
# (scripts/tsan.sh), then the Python SDK's tests (scripts/test-python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-models.sh >/dev/null
scripts/fuzz.sh
scripts/build.sh
scripts/check-deploy.sh
scripts/otlp-receiver-venv.sh  # the tracing tests' OTLP receiver (tests/tracing_e2e_test.py)
scripts/emulator-venv.sh  # the CPU emulator of the kernels' tests on other CPUs (tests/emulated/)
echo "test: running ctest"
ctest --test-dir build --output-on-failure -j"${JOBS:-$(nproc)}" --timeout 900
scripts/tsan.sh
scripts/test-python.sh
