#!/usr/bin/env bash
# `latentbus tail` end to end against a real `latentbus broker`: (1) with --count 1 it prints
# the message `latentbus send` addressed to it and exits 0; (2) waiting with no count, SIGTERM
# stops it cleanly (exit 0, no death by signal) — the signal is taken on its main thread.
set -euo pipefail
bin="$1"
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
wait_for() {  # FILE: up to 30 s (loading libtorch is slow on a busy machine)
  for _ in $(seq 1 300); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
wait_registered() {  # ID: up to 30 s for the broker to log its registration
  for _ in $(seq 1 300); do
    grep -q "agent registered agent_id=$1 " "$dir/broker.log" && return 0
    sleep 0.1
  done
  cat "$dir/broker.log"
  echo "$1 did not register"
  return 1
}
"$bin" broker --listen 127.0.0.1:0 --metrics-listen "" --drain-timeout 1 \
  --port-file "$dir/port" >"$dir/broker.log" 2>&1 &
pids+=($!)
wait_for "$dir/port" || { cat "$dir/broker.log"; echo "broker wrote no port file"; exit 1; }
broker="127.0.0.1:$(cat "$dir/port")"

# (1) one message, then exit 0.
"$bin" tail --broker "$broker" --id watcher --count 1 --timeout 60 >"$dir/tail1.out" \
  2>"$dir/tail1.err" &
tail1=$!
pids+=("$tail1")
wait_registered watcher
"$bin" send --broker "$broker" --to watcher --text "hello from cli_tail" >"$dir/send.out" 2>&1 ||
  { cat "$dir/send.out" "$dir/broker.log"; echo "send failed"; exit 1; }
status=0
wait "$tail1" || status=$?
[ "$status" -eq 0 ] || { cat "$dir/tail1.err"; echo "tail --count 1 exited $status"; exit 1; }
grep -q "hello from cli_tail" "$dir/tail1.out" || { cat "$dir/tail1.out"; echo "message not printed"; exit 1; }

# (2) SIGTERM while waiting: a clean exit.
"$bin" tail --broker "$broker" --id idler >"$dir/tail2.out" 2>"$dir/tail2.err" &
tail2=$!
pids+=("$tail2")
wait_registered idler
kill -TERM "$tail2"
status=0
wait "$tail2" || status=$?
[ "$status" -eq 0 ] || { cat "$dir/tail2.err"; echo "tail exited $status on SIGTERM (143: killed by it)"; exit 1; }
echo "tail printed the message and stopped cleanly on SIGTERM"
