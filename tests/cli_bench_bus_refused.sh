#!/usr/bin/env bash
# `bench bus --broker ADDR` against a broker that refuses every message (a 1 KiB size
# limit): the bench must not print a row of zeros and exit 0; it exits 1 and says why.
set -euo pipefail
bin="$1"
dir=$(mktemp -d)
broker=""
cleanup() { [ -n "$broker" ] && kill "$broker" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
"$bin" broker --listen 127.0.0.1:0 --metrics-listen "" --max-message-bytes 1024 \
  --port-file "$dir/port" >"$dir/broker.log" 2>&1 &
broker=$!
for _ in $(seq 1 300); do [ -s "$dir/port" ] && break; sleep 0.1; done
[ -s "$dir/port" ] || { cat "$dir/broker.log"; echo "broker wrote no port file"; exit 1; }
rc=0
"$bin" bench bus --broker "127.0.0.1:$(cat "$dir/port")" --mode request --warmup 0.1 \
  --duration 0.3 --json >"$dir/out.json" 2>"$dir/err" || rc=$?
[ "$rc" -eq 1 ] || { tail -n 20 "$dir/err"; echo "bench bus exited $rc, expected 1"; exit 1; }
grep -q "latentbus completed no message in mode request (.*MESSAGE_TOO_LARGE" "$dir/err" ||
  { tail -n 20 "$dir/err"; echo "no reason printed"; exit 1; }
python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["goal"]; assert not g["met_vs_floor"], g' \
  "$dir/out.json"
echo "bench bus against a refusing broker: exit 1, reasons on stderr, no goal met"
