#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (root): installs what is missing, fetches
# the two real models, builds, then runs the fleet on one machine: a broker with the
# trained bridges shipped in bridges/ and two agents (SmolLM2-135M-Instruct and Gemma 3
# 270M) exchanging
#   1. a context message as an int4 latent, SmolLM2 -> bridge -> Gemma 3,
#   2. a context message the other way, Gemma 3 -> bridge -> SmolLM2,
#   3. a reasoning-class message, which the policy sends as text the sender writes,
# with per-hop timings, bytes on the wire and the receiver's output. Stops everything and
# exits 0. DEMO_BRIDGES=affine uses affine bridges fitted here instead (scripts/
# fit-bridges.sh; BRIDGE_LIMIT, default 400, corpus items).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
models=$(scripts/fetch-models.sh)
smol=$(echo "$models" | grep SmolLM2)
gemma=$(echo "$models" | grep gemma)
scripts/build.sh
lb=build/bin/latentbus

if [ "${DEMO_BRIDGES:-trained}" = affine ]; then
  echo; echo "== bridges: affine, fitted once, then cached =="
  bridges=$(scripts/fit-bridges.sh --limit "${BRIDGE_LIMIT:-400}")
else
  echo; echo "== bridges: trained through the receiver, shipped in bridges/ =="
  bridges=bridges
fi
ls "$bridges"/*.bridge

run=$(mktemp -d)
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$run"
}
trap stop_all EXIT

echo; echo "== the fleet: broker + two agents on 127.0.0.1 (logs in $run) =="
$lb broker --listen 127.0.0.1:0 --metrics-listen "" --bridges "$bridges" \
  --port-file "$run/port" >"$run/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$run/port" ] && break; sleep 0.1; done
[ -s "$run/port" ] || { cat "$run/broker.log"; echo "demo: broker did not start"; exit 1; }
addr=127.0.0.1:$(cat "$run/port")
echo "broker at $addr with $(grep -c . <(ls "$bridges"/*.bridge)) bridges"
$lb agent --broker "$addr" --id smol --model "$smol" --layer 10 --threads 1 --max-new-tokens 32 \
  --ready-file "$run/smol.ready" >"$run/smol.log" 2>&1 &
pids+=($!)
$lb agent --broker "$addr" --id gemma --model "$gemma" --layer 6 --threads 1 --max-new-tokens 32 \
  --ready-file "$run/gemma.ready" >"$run/gemma.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -f "$run/smol.ready" ] && [ -f "$run/gemma.ready" ] && break; sleep 0.1; done
for a in smol gemma; do
  [ -f "$run/$a.ready" ] || { cat "$run/$a.log"; echo "demo: agent $a did not register"; exit 1; }
done
echo "agents registered: smol (SmolLM2, tap layer 10), gemma (Gemma 3, tap layer 6)"

message="The nightly deployment failed at 02:14 because the disk on the build server was full."
echo; echo "== 1. context message, smol -> gemma: int4 latent through the bridge =="
$lb request --broker "$addr" --to smol --forward-to gemma --class context --text "$message"
echo; echo "== 2. context message, gemma -> smol: int4 latent through the bridge =="
$lb request --broker "$addr" --to gemma --forward-to smol --class context --text "$message"
echo; echo "== 3. reasoning message, smol -> gemma: falls back to text (policy) =="
$lb request --broker "$addr" --to smol --forward-to gemma --class reasoning \
  --text "The build takes 40 minutes and starts at 01:30. Can it finish before 02:14?"
echo; echo "demo: done; stopping the fleet"
