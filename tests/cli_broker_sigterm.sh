#!/usr/bin/env bash
# Starts `latentbus broker` on a free port, waits until it listens, sends SIGTERM and
# expects a drain and a clean exit (status 0) within the drain timeout.
set -euo pipefail
bin="$1"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$bin" broker --listen 127.0.0.1:0 --metrics-listen "" --drain-timeout 2 >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do  # up to 30 s: loading libtorch is slow on a busy machine
  grep -q "broker listening" "$log" && break
  sleep 0.1
done
grep -q "broker listening" "$log" || { cat "$log"; echo "broker did not start"; exit 1; }
kill -TERM "$pid"
wait "$pid"
grep -q "drain started" "$log" && grep -q "broker stopped" "$log" || { cat "$log"; exit 1; }
echo "broker drained and stopped on SIGTERM"
