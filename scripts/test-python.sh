#!/usr/bin/env bash
# The Python SDK's tests (sdk/python): a virtualenv in build/venv-sdk, the SDK installed
# into it from sdk/python with its test and dev extras (versions pinned by
# sdk/python/constraints.txt; pip's cache is used when present, never required), then
# pytest: the shared codec vectors written by the C++ codec, the generated-stubs check,
# and the sync and asyncio clients against the built broker (build/bin/latentbus, or
# LATENTBUS_BIN). Needs python3-venv (scripts/install-deps.sh) and scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-build/venv-sdk}
export LATENTBUS_BIN=${LATENTBUS_BIN:-$PWD/build/bin/latentbus}
if [ ! -x "$LATENTBUS_BIN" ]; then
  echo "test-python: $LATENTBUS_BIN is missing; run scripts/build.sh first" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "test-python: creating $VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
VENV=$(realpath "$VENV")
echo "test-python: installing sdk/python into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  -c sdk/python/constraints.txt "./sdk/python[test,dev]"
echo "test-python: running pytest"
cd sdk/python
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider -ra tests
