#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (root): installs what is missing, builds,
# and runs the demonstration. Until the broker and agents land this is the codec demo:
# a hidden-state-like tensor through every encoding and the wire format.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/bin/latentbus codec demo "$@"
