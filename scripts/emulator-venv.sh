#!/usr/bin/env bash
# The venv of the emulated-CPU tests (tests/emulated/): build/venv-emu (or $VENV_EMU) with
# the pinned bochscpu-python wheel of tests/emulated/requirements.txt and our shim beside it
# (tests/emulated/bochscpu_shim.c, compiled into $venv/lib). Created when missing; the pin
# installed every time (a no-op when it is there). The wheel is built for CPython 3.11 on
# x86-64 only: elsewhere this prints why and exits 0, and the tests skip.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV_EMU:-build/venv-emu}
python=${PYTHON:-python3}
if [ "$(uname -m)" != x86_64 ] ||
   ! "$python" -c "import sys; sys.exit(sys.version_info[:2] != (3, 11))"; then
  echo "emulator-venv: needs CPython 3.11 on x86-64 ($("$python" -V 2>&1), $(uname -m)); the emulated-CPU tests will skip"
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "emulator-venv: creating $venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --require-hashes -r tests/emulated/requirements.txt
shim="$venv/lib/latentbus-bochscpu-shim.so"
if [ ! -f "$shim" ] || [ tests/emulated/bochscpu_shim.c -nt "$shim" ]; then
  cc -shared -fPIC -O2 -Wall -o "$shim.tmp" tests/emulated/bochscpu_shim.c -ldl
  mv "$shim.tmp" "$shim"
fi
"$venv/bin/python" - "$shim" <<'PY'
import ctypes, sys
ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
import bochscpu  # noqa: F401  fails here, not in the tests, when the shim is not enough
PY
echo "emulator-venv: $venv ready (bochscpu-python $("$venv/bin/python" -c \
  'import importlib.metadata as m; print(m.version("bochscpu-python"))'))"
