#!/usr/bin/env bash
# The venv of the tracing tests' OTLP receiver (tests/otlp_receiver.py): build/venv-otlp
# (or $VENV_OTLP) with the pinned opentelemetry-proto, protobuf and grpcio of
# tests/otlp_receiver_requirements.txt. Created when missing; the pins installed every time
# (a no-op when they are there). Needs python3-venv and Python >= 3.10
# (opentelemetry-proto's floor; PYTHON=python3.X picks another interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV_OTLP:-build/venv-otlp}
if [ ! -x "$venv/bin/python" ]; then
  echo "otlp-receiver-venv: creating $venv"
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -c "import sys; sys.exit(sys.version_info < (3, 10))" || {
  echo "otlp-receiver-venv: $venv has $("$venv/bin/python" -V 2>&1); opentelemetry-proto needs >= 3.10" >&2
  exit 1
}
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r tests/otlp_receiver_requirements.txt
echo "otlp-receiver-venv: $venv ready ($("$venv/bin/python" -c \
  'import google.protobuf as p, grpc; print("protobuf", p.__version__, "grpcio", grpc.__version__)'))"
