#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (root): installs what is missing, fetches
# the two real models, builds, and runs the demonstration. Until the broker and agents
# land it shows the parts that exist: the latent codec on a hidden-state-like tensor,
# both real models generating, and a real hidden state turned into an int4 packet.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
models=$(scripts/fetch-models.sh)
smollm=$(echo "$models" | grep SmolLM2)
gemma=$(echo "$models" | grep gemma)
scripts/build.sh
lb=build/bin/latentbus

echo; echo "== 1. The latent codec =="
$lb codec demo

for m in "$smollm" "$gemma"; do
  echo; echo "== 2. $(basename "$m"): greedy continuation =="
  $lb model generate "$m" --prompt "The three most useful properties of a message bus are" \
    --max-tokens 32
done

packet=$(mktemp --suffix=.latent)
trap 'rm -f "$packet"' EXIT
echo; echo "== 3. SmolLM2 hidden states (layer 15) as an int4 latent packet =="
$lb model encode "$smollm" --layer 15 \
  --text "Context for the next agent: the deployment failed at 02:14 because the disk was full." \
  --out "$packet" --encoding int4/g32
$lb codec inspect "$packet"
