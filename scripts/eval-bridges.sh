#!/usr/bin/env bash
# One command for docs/EVAL.md: what latents carry between the demo pair, both directions,
# through the shipped bridges. For each direction:
#   eval classify  text, the trained bridge (bridges/), the affine bridge (fitted here by
#                  scripts/fit-bridges.sh), the task-tuned bridge (bridges/task-tuned/),
#                  another item's latent, zero latents, nothing; McNemar against text;
#   eval restate   the receiver repeating 40 evaluation messages from text, the trained
#                  and the affine bridge, nothing.
# Evaluation data: data/classify (no item is in data/train, checked first). Works from a
# clean checkout: installs, fetches and builds what is missing first.
#
#   scripts/eval-bridges.sh [--out DIR] [--limit N]    # N: classify items per file (0 = all)
#
# Writes DIR/{classify,restate}-{smollm2-to-gemma3,gemma3-to-smollm2}.json and prints the
# tables. About 40 minutes on the 2-core development machine (the directions run side
# by side, one compute thread each).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${TMPDIR:-/tmp}/latentbus-eval
LIMIT=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --limit) LIMIT=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "eval-bridges: unknown argument $1" >&2; exit 2 ;;
  esac
done
# From a clean checkout too: lb, smol, gemma, fitted (installs and builds what is missing).
source scripts/demo-pair-env.sh
data=(data/classify/topic.jsonl data/classify/sentiment.jsonl data/classify/intent.jsonl)
python3 data/train/check_disjoint.py --train data/train/messages.txt data/train/labelled/*.jsonl \
  --eval "${data[@]}" >&2
mkdir -p "$OUT"
run() {  # name sender receiver sender_layer receiver_layer
  local d=()
  for f in "${data[@]}"; do d+=(--data "$f"); done
  local task=()
  [ -f "bridges/task-tuned/$1.task.bridge" ] && task=(--compare "task=bridges/task-tuned/$1.task.bridge")
  $lb eval classify "${d[@]}" --limit "$LIMIT" --sender "$2" --receiver "$3" --sender-layer "$4" \
    --receiver-layer "$5" --bridge "bridges/$1.adapter.bridge" \
    --compare "affine=$fitted/$1.affine.bridge" "${task[@]}" --no-self --threads 1 --json \
    >"$OUT/classify-$1.json" 2>"$OUT/classify-$1.log"
  $lb eval restate "${d[@]}" --limit 40 --sender "$2" --receiver "$3" --sender-layer "$4" \
    --bridge "bridges/$1.adapter.bridge" --compare "affine=$fitted/$1.affine.bridge" \
    --threads 1 --json >"$OUT/restate-$1.json" 2>"$OUT/restate-$1.log"
}
echo "eval-bridges: both directions side by side; logs in $OUT ..." >&2
run smollm2-to-gemma3 "$smol" "$gemma" 10 6 &
a=$!
run gemma3-to-smollm2 "$gemma" "$smol" 6 10 &
b=$!
status=0
wait $a || status=1
wait $b || status=1
[ $status -eq 0 ] || { echo "eval-bridges: an evaluation failed (logs in $OUT)" >&2; exit 1; }
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
for d in ("smollm2-to-gemma3", "gemma3-to-smollm2"):
    c = json.load(open(f"{out}/classify-{d}.json"))
    conds = c["conditions"]
    print(f"\n{d}: eval classify, accuracy (n={c['n']})")
    print(f"{'task':<10}" + "".join(f"{x:>16}" for x in conds))
    for task, t in list(c["tasks"].items()) + [("all", c)]:
        print(f"{task:<10}" + "".join(f"{t[x + '_acc']:>16.3f}" for x in conds))
    for name, s in c.get("significance", {}).items():
        print(f"  {name} vs text: text-only right {s['text_only']}, latent-only right "
              f"{s['latent_only']}, McNemar p = {s['mcnemar_p']:.3g}")
    r = json.load(open(f"{out}/restate-{d}.json"))
    print(f"{d}: eval restate ({r['n']} messages)")
    for x in r["conditions"]:
        print(f"  {x:<16} recall {r[x]['recall']:.3f}  ROUGE-L vs text reply "
              f"{r[x]['rouge_l_vs_text_reply']:.3f}  vs message {r[x]['rouge_l_vs_message']:.3f}")
PY
echo "$OUT"
