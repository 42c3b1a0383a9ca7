#!/usr/bin/env bash
# The Python SDK's tests (sdk/python), run twice, once at each end of the supported
# dependency range:
#   oldest  build/venv-sdk         the SDK with its test and dev extras, pinned by
#                                  sdk/python/constraints.txt (protobuf 4.21, grpcio 1.51,
#                                  and the grpcio-tools that writes the committed stubs)
#   newest  build/venv-sdk-newest  the SDK with its test extra and a2a-sdk, pinned by
#                                  sdk/python/constraints-newest.txt (the newest protobuf and
#                                  grpcio tested); needs Python >= 3.10
# Each venv is created when missing and the pinned versions installed into it (pip's cache
# is used when present, never required), then pytest runs the whole suite: the shared codec
# vectors written by the C++ codec, the generated-stubs check (oldest venv only: its
# grpcio-tools needs protobuf<5), the A2A side-by-side test (newest venv only), and the sync
# and asyncio clients against the built broker (build/bin/latentbus, or LATENTBUS_BIN).
# SDK_ENVS="oldest" (or "newest") runs one of them; VENV / VENV_NEWEST move the venvs.
# Needs python3-venv (scripts/install-deps.sh) and scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export LATENTBUS_BIN=${LATENTBUS_BIN:-$ROOT/build/bin/latentbus}
if [ ! -x "$LATENTBUS_BIN" ]; then
  echo "test-python: $LATENTBUS_BIN is missing; run scripts/build.sh first" >&2
  exit 1
fi

# run_env NAME VENV CONSTRAINTS MIN_PYTHON REQUIREMENT...: install into VENV, run pytest
# there. Called in an `||` list, where set -e does not apply: every step returns on failure.
run_env() {
  local name=$1 venv=$2 constraints=$3 min_python=$4
  shift 4
  if [ ! -x "$venv/bin/python" ]; then
    echo "test-python[$name]: creating $venv"
    "${PYTHON:-python3}" -m venv "$venv" || return 1
  fi
  venv=$(realpath "$venv") || return 1
  if ! "$venv/bin/python" -c "import sys; sys.exit(sys.version_info < ($min_python,))"; then
    echo "test-python[$name]: $venv has Python $("$venv/bin/python" -V 2>&1 | cut -d' ' -f2);" \
      "the pins in $constraints need >= ${min_python/,/.} (set PYTHON=python3.X)" >&2
    return 1
  fi
  echo "test-python[$name]: installing $* into $venv ($constraints)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$constraints" "$@" || return 1
  echo "test-python[$name]: running pytest ($("$venv/bin/python" -c \
    'import google.protobuf as p, grpc; print("protobuf", p.__version__, "grpcio", grpc.__version__)'))"
  (cd sdk/python && "$venv/bin/python" -m pytest -q -p no:cacheprovider -ra tests)
}

failed=()
for env in ${SDK_ENVS:-oldest newest}; do
  case $env in
    oldest)
      run_env oldest "${VENV:-build/venv-sdk}" sdk/python/constraints.txt 3,9 \
        "./sdk/python[test,dev]" || failed+=(oldest) ;;
    newest)
      run_env newest "${VENV_NEWEST:-build/venv-sdk-newest}" sdk/python/constraints-newest.txt \
        3,10 "./sdk/python[test]" a2a-sdk || failed+=(newest) ;;
    *)
      echo "test-python: unknown SDK_ENVS entry '$env' (oldest, newest)" >&2
      exit 2 ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "test-python: FAILED in: ${failed[*]}" >&2
  exit 1
fi
echo "test-python: passed (${SDK_ENVS:-oldest newest})"
