#!/usr/bin/env bash
# Starts `latentbus broker` on a free port, waits for its --port-file, checks the port
# answers, sends SIGTERM and expects a drain and a clean exit (status 0).
set -euo pipefail
bin="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" broker --listen 127.0.0.1:0 --metrics-listen "" --drain-timeout 2 \
  --port-file "$dir/port" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do  # up to 30 s: loading libtorch is slow on a busy machine
  [ -s "$dir/port" ] && break
  sleep 0.1
done
[ -s "$dir/port" ] || { cat "$dir/log"; echo "broker wrote no port file"; exit 1; }
port=$(cat "$dir/port")
grep -q "port=$port " "$dir/log" || { cat "$dir/log"; echo "port file $port != log"; exit 1; }
# The port accepts TCP connections.
(exec 3<>"/dev/tcp/127.0.0.1/$port") || { echo "port $port does not answer"; exit 1; }
kill -TERM "$pid"
wait "$pid"
grep -q "drain started" "$dir/log" && grep -q "broker stopped" "$dir/log" || { cat "$dir/log"; exit 1; }
echo "broker on port $port drained and stopped on SIGTERM"
