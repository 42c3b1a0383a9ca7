#!/usr/bin/env bash
# One command for the demo pair's bridges, both directions: each model encodes the
# shipped calibration corpus (data/corpus/corpus.txt) into an activation file, then
# affine bridges are fitted SmolLM2 -> Gemma 3 and Gemma 3 -> SmolLM2 at the agents' tap
# layers and evaluated on the held-out items. Results are cached: a bridge folder is
# reused when its models, layers, corpus and item count are unchanged.
#
#   scripts/fit-bridges.sh [--limit N] [--out DIR] [--threads N]
#
# Prints the bridge folder on stdout (progress on stderr). Needs build/bin/latentbus and
# the models (scripts/fetch-models.sh). --limit 0 uses the whole corpus (slow on 2 cores:
# about 1.5-3 items/s per model).
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=${LIMIT:-400}
THREADS=${THREADS:-0}
OUT=""
SMOL_LAYER=10
GEMMA_LAYER=6
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) LIMIT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fit-bridges: unknown argument $1" >&2; exit 2 ;;
  esac
done
lb=build/bin/latentbus
[ -x "$lb" ] || { echo "fit-bridges: $lb missing; run scripts/build.sh" >&2; exit 1; }
models=$(scripts/fetch-models.sh)
smol=$(echo "$models" | grep SmolLM2)
gemma=$(echo "$models" | grep gemma)
corpus=data/corpus/corpus.txt
key=$( (sha256sum "$corpus" | cut -c1-16; $lb model info "$smol" --json | grep -o '"fingerprint": *"[^"]*"';
        $lb model info "$gemma" --json | grep -o '"fingerprint": *"[^"]*"';
        echo "$LIMIT $SMOL_LAYER $GEMMA_LAYER") | sha256sum | cut -c1-16)
OUT=${OUT:-${LATENTBUS_BRIDGE_DIR:-$HOME/.cache/latentbus/bridges}/demo-$key}
if [ -f "$OUT/done" ]; then
  echo "fit-bridges: cached in $OUT" >&2
  echo "$OUT"
  exit 0
fi
# The activation files stay beside the bridges (re-evaluation needs no recalibration).
work=$OUT
mkdir -p "$OUT"
echo "fit-bridges: calibrating SmolLM2 (layer $SMOL_LAYER) on $LIMIT corpus items ..." >&2
$lb calibrate "$smol" --layer $SMOL_LAYER --corpus $corpus --limit "$LIMIT" \
  --threads "$THREADS" --out "$work/smol.act" >&2
echo "fit-bridges: calibrating Gemma 3 (layer $GEMMA_LAYER) on $LIMIT corpus items ..." >&2
$lb calibrate "$gemma" --layer $GEMMA_LAYER --corpus $corpus --limit "$LIMIT" \
  --threads "$THREADS" --out "$work/gemma.act" >&2
$lb bridge fit --src "$work/smol.act" --dst "$work/gemma.act" --kind affine \
  --layer $SMOL_LAYER --out "$OUT/smollm2-to-gemma3.affine.bridge" >&2
$lb bridge fit --src "$work/gemma.act" --dst "$work/smol.act" --kind affine \
  --layer $GEMMA_LAYER --out "$OUT/gemma3-to-smollm2.affine.bridge" >&2
for b in smollm2-to-gemma3 gemma3-to-smollm2; do
  src=$work/smol.act; dst=$work/gemma.act
  [ "$b" = gemma3-to-smollm2 ] && { src=$work/gemma.act; dst=$work/smol.act; }
  $lb bridge eval "$OUT/$b.affine.bridge" --src "$src" --dst "$dst" --json >"$OUT/$b.eval.json"
  echo "fit-bridges: $b held-out fidelity: $(cat "$OUT/$b.eval.json")" >&2
done
touch "$OUT/done"
echo "$OUT"
