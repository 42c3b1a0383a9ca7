#!/usr/bin/env bash
# Reproduces the shipped trained bridges (bridges/): for the demo pair, in both directions,
# an adapter trained through the frozen receiver from the affine bridge that
# scripts/fit-bridges.sh fits, on data/train/messages.txt (general objective), seed 1;
# then, from it, the task-tuned adapter (bridges/task-tuned/: 100 steps of label
# cross-entropy on data/train/labelled/). The two directions train side by side, one
# compute thread each.
#
#   scripts/train-bridges.sh [--out DIR] [--steps N] [--seed S]
#
# DIR defaults to a cache folder (~/.cache/latentbus/bridges/trained-<key>); give
# --out bridges to overwrite the shipped artifacts. Prints DIR on stdout, progress on
# stderr, and keeps each direction's log and JSON summary beside its artifact. On the
# 2-core development machine 600 general steps took about 75 minutes, the task-tuned
# 100 steps about 7 (bridges/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=600
TASK_STEPS=100
SEED=1
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "train-bridges: unknown argument $1" >&2; exit 2 ;;
  esac
done
# From a clean checkout too: lb, smol, gemma, fitted (installs and builds what is missing).
source scripts/demo-pair-env.sh
data=data/train/messages.txt
labelled=(data/train/labelled/topic.jsonl data/train/labelled/sentiment.jsonl
          data/train/labelled/intent.jsonl)
python3 data/train/check_disjoint.py --train "$data" "${labelled[@]}" \
  --eval data/classify/*.jsonl >&2
key=$( (cat "$fitted"/*.affine.bridge "$data" "${labelled[@]}"; echo "$STEPS $TASK_STEPS $SEED") |
      sha256sum | cut -c1-16)
OUT=${OUT:-${LATENTBUS_BRIDGE_DIR:-$HOME/.cache/latentbus/bridges}/trained-$key}
mkdir -p "$OUT/task-tuned"
echo "train-bridges: training both directions, $STEPS steps each, into $OUT ..." >&2
train() {  # name sender receiver layer src_act dst_act
  local common=(--sender "$2" --receiver "$3" --sender-layer "$4" --seed "$SEED" --threads 1
                --fidelity-src "$fitted/$5" --fidelity-dst "$fitted/$6" --json)
  $lb bridge train "${common[@]}" --init "$fitted/$1.affine.bridge" --data "$data" \
    --steps "$STEPS" --checkpoint "$OUT/$1.ckpt" --resume --out "$OUT/$1.adapter.bridge" \
    >"$OUT/$1.train.json" 2>"$OUT/$1.train.log" || return 1
  local task=()
  for f in "${labelled[@]}"; do task+=(--task-data "$f"); done
  $lb bridge train "${common[@]}" --init "$OUT/$1.adapter.bridge" --objective task "${task[@]}" \
    --steps "$TASK_STEPS" --checkpoint "$OUT/task-tuned/$1.ckpt" --resume \
    --out "$OUT/task-tuned/$1.task.bridge" \
    >"$OUT/task-tuned/$1.train.json" 2>"$OUT/task-tuned/$1.train.log"
}
train smollm2-to-gemma3 "$smol" "$gemma" 10 smol.act gemma.act &
a=$!
train gemma3-to-smollm2 "$gemma" "$smol" 6 gemma.act smol.act &
b=$!
status=0
wait $a || status=1
wait $b || status=1
for d in smollm2-to-gemma3 gemma3-to-smollm2; do
  tail -n 4 "$OUT/$d.train.log" | sed "s/^/train-bridges: $d: /" >&2
  tail -n 3 "$OUT/task-tuned/$d.train.log" 2>/dev/null | sed "s/^/train-bridges: $d (task): /" >&2
done
[ $status -eq 0 ] || { echo "train-bridges: training failed (logs in $OUT)" >&2; exit 1; }
rm -f "$OUT"/*.ckpt* "$OUT"/task-tuned/*.ckpt*
echo "$OUT"
