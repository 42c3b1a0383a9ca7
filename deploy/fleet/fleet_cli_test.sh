#!/usr/bin/env bash
# `latentbus fleet` end to end, with real processes:
#   fleet_cli_test.sh LATENTBUS broker-only
#     bad fleet files refused (exit 2, the key named); `fleet up` on a broker-only fleet
#     becomes healthy, `fleet status` says so, a second `up` is refused; SIGTERM stops it
#     (exit 0, the broker drained) with no process left; `fleet down` stops another `up`;
#     a SIGKILLed `up` leaves no orphan (the kernel sends its members SIGTERM).
#   fleet_cli_test.sh LATENTBUS agents MODEL
#     the same with two agents on MODEL: both become ready, the broker lists them
#     connected, SIGTERM stops all.
#   fleet_cli_test.sh LATENTBUS cluster MODEL
#     three nats-servers (JetStream R3; the pinned nats-server, scripts/install-nats-server.sh),
#     two brokers on them and two agents on MODEL, one starting at each broker: status shows
#     every server healthy, one meta leader, the LATENTBUS stream with both other copies
#     current, each agent on its broker; SIGTERM stops agents, brokers, then servers; a
#     SIGKILLed `up` leaves no orphan.
set -euo pipefail
bin=$1
mode=$2
dir=$(mktemp -d)
fleets="$dir/fleets"
up_pid=
cleanup() {
  [ -n "$up_pid" ] && kill -KILL "$up_pid" 2>/dev/null || true
  for pid in $(members); do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [ -f "$dir/up.log" ] && { echo "--- fleet up output:"; cat "$dir/up.log"; }
  exit 1
}

# Pids of processes whose command line mentions this test's fleet folder (the members
# get --port-file / --ready-file / -c natsI.conf under it); no dependency on procps.
members() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "$fleets/" && echo "${p#/proc/}"
  done
  return 0
}

alive() {  # pid: running and not a zombie (an orphan's zombie may linger without an init)
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

expect_exit() {  # code command... : runs the command, expects its exit code
  local want=$1 got=0
  shift
  "$@" >"$dir/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || { cat "$dir/out"; fail "'$*' exited $got, expected $want"; }
}

wait_for_line() {  # pattern seconds
  local i
  for i in $(seq 1 $(($2 * 10))); do
    grep -q -- "$1" "$dir/up.log" && return 0
    kill -0 "$up_pid" 2>/dev/null || fail "fleet up exited before '$1'"
    sleep 0.1
  done
  fail "no '$1' in the output within $2 s"
}

start_up() {  # fleet file
  "$bin" fleet up "$1" --fleet-dir "$fleets" >"$dir/up.log" 2>&1 &
  up_pid=$!
}

stop_up_with() {  # signal expected-exit-code
  kill "-$1" "$up_pid"
  local got=0
  wait "$up_pid" || got=$?
  up_pid=
  [ "$got" -eq "$2" ] || fail "fleet up exited $got after SIG$1, expected $2"
}

no_members_left() {
  local i
  for i in $(seq 1 50); do
    [ -z "$(members)" ] && return 0
    sleep 0.1
  done
  fail "processes left behind: $(members | tr '\n' ' ')"
}

state_pid() {  # member name -> pid recorded in the state file
  python3 - "$fleets/$1/state.json" "$2" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
name = sys.argv[2]
members = state.get("nats", []) + state["brokers"] + state["agents"]
print(next(m["process"]["pid"] for m in members if m["name"] == name))
PY
}

if [ "$mode" = broker-only ]; then
  printf 'name: solo\nbrokr: {}\n' >"$dir/typo.yaml"
  expect_exit 2 "$bin" fleet up "$dir/typo.yaml" --fleet-dir "$fleets"
  grep -q "brokr: unknown key" "$dir/out" || fail "typo not named: $(cat "$dir/out")"
  printf 'name: solo\nagents: [{id: a, model: /nonexistent/m.gguf}]\n' >"$dir/nomodel.yaml"
  expect_exit 2 "$bin" fleet up "$dir/nomodel.yaml" --fleet-dir "$fleets"
  grep -q "agents\[0\] (a).model: '/nonexistent/m.gguf' not found" "$dir/out" ||
    fail "missing model not named: $(cat "$dir/out")"
  expect_exit 1 "$bin" fleet status --fleet-dir "$fleets"  # nothing running

  cat >"$dir/solo.yaml" <<'EOF'
name: solo
stop_timeout_seconds: 20
broker:
  listen: 127.0.0.1:0
  drain_timeout_seconds: 1
EOF
  # 1. up, healthy, status, a second up refused, SIGTERM stops everything cleanly.
  start_up "$dir/solo.yaml"
  wait_for_line "fleet solo up" 60
  grep -q "^broker | .*broker listening" "$dir/up.log" || fail "broker output not prefixed"
  expect_exit 0 "$bin" fleet status solo --fleet-dir "$fleets"
  grep -q "SERVING" "$dir/out" || fail "status does not show SERVING: $(cat "$dir/out")"
  expect_exit 0 "$bin" fleet status "$dir/solo.yaml" --fleet-dir "$fleets" --json
  grep -q '"healthy": true' "$dir/out" || fail "status --json not healthy: $(cat "$dir/out")"
  broker_pid=$(state_pid solo broker)
  alive "$broker_pid" || fail "state file names broker pid $broker_pid, not running"
  expect_exit 1 "$bin" fleet up "$dir/solo.yaml" --fleet-dir "$fleets"
  grep -q "already running" "$dir/out" || fail "second up not refused: $(cat "$dir/out")"
  stop_up_with TERM 0
  grep -q "^broker | .*drain started" "$dir/up.log" || fail "the broker did not drain"
  ! alive "$broker_pid" || fail "broker $broker_pid still running"
  no_members_left
  expect_exit 1 "$bin" fleet status solo --fleet-dir "$fleets"
  grep -q "stopped (fleet up exited with code 0)" "$dir/out" || fail "status: $(cat "$dir/out")"

  # 2. `fleet down` from another process stops a running `up`.
  start_up "$dir/solo.yaml"
  wait_for_line "fleet solo up" 60
  expect_exit 0 "$bin" fleet down solo --fleet-dir "$fleets"
  wait "$up_pid" || fail "fleet up exited $? after fleet down, expected 0"
  up_pid=
  no_members_left
  expect_exit 0 "$bin" fleet down solo --fleet-dir "$fleets"  # idempotent
  grep -q "not running" "$dir/out" || fail "second down: $(cat "$dir/out")"

  # 3. A SIGKILLed `up` leaves no orphan: the broker gets SIGTERM from the kernel.
  start_up "$dir/solo.yaml"
  wait_for_line "fleet solo up" 60
  broker_pid=$(state_pid solo broker)
  stop_up_with KILL 137
  for _ in $(seq 1 100); do alive "$broker_pid" || break; sleep 0.1; done
  ! alive "$broker_pid" || fail "broker $broker_pid outlived a killed fleet up"
  no_members_left
  echo "fleet broker-only: refused bad files, up/status/SIGTERM/down/SIGKILL all clean"
  exit 0
fi

if [ "$mode" = agents ]; then
  model=$3
  cat >"$dir/pair.yaml" <<EOF
name: pair
ready_timeout_seconds: 240
stop_timeout_seconds: 30
broker:
  drain_timeout_seconds: 1
agents:
  - {id: alpha, model: $model, layer: 1, topics: [tasks], threads: 1, max_new_tokens: 4}
  - {id: beta, model: $model, layer: 1, threads: 1, max_new_tokens: 4}
EOF
  start_up "$dir/pair.yaml"
  wait_for_line "fleet pair up" 240
  expect_exit 0 "$bin" fleet status pair --fleet-dir "$fleets"
  grep -Eq "alpha +pid [0-9]+  running  connected" "$dir/out" &&
    grep -Eq "beta +pid [0-9]+  running  connected" "$dir/out" ||
    fail "agents not connected: $(cat "$dir/out")"
  grep -Eq "^alpha +\| .*registered" "$dir/up.log" || fail "agent output not prefixed"
  stop_up_with TERM 0
  # Each agent handled SIGTERM itself (closed its stream, exit 0), not killed by it.
  for a in alpha beta; do
    grep -Eq "^fleet +\| $a \(pid [0-9]+\) exited with status 0" "$dir/up.log" ||
      fail "agent $a did not stop cleanly on SIGTERM"
  done
  no_members_left
  echo "fleet with two agents: ready, connected, stopped cleanly"
  exit 0
fi
if [ "$mode" = cluster ]; then
  model=$3
  cat >"$dir/cl.yaml" <<EOF
name: cl
ready_timeout_seconds: 240
stop_timeout_seconds: 30
nats: {servers: 3}
broker: {replicas: 2, drain_timeout_seconds: 1}
agents:
  - {id: alpha, model: $model, layer: 1, topics: [tasks], threads: 1, max_new_tokens: 4}
  - {id: beta, model: $model, layer: 1, threads: 1, max_new_tokens: 4}
EOF
  start_up "$dir/cl.yaml"
  wait_for_line "fleet cl up" 240
  grep -Eq "^nats1 +\| .*Server is ready" "$dir/up.log" || fail "nats-server output not prefixed"
  grep -q "nats ready: .*JetStream meta leader nats[012]" "$dir/up.log" || fail "no meta leader"
  # The stream's copies may take a moment to report current.
  stream="stream LATENTBUS  leader nats[012]  replicas nats[012] current, nats[012] current"
  for _ in $(seq 1 50); do
    "$bin" fleet status cl --fleet-dir "$fleets" >"$dir/out" 2>&1 &&
      grep -Eq "$stream" "$dir/out" && break
    sleep 0.2
  done
  expect_exit 0 "$bin" fleet status cl --fleet-dir "$fleets"
  for n in nats0 nats1 nats2; do
    grep -Eq "^  $n +pid [0-9]+  running  nats://127.0.0.1:[0-9]+  healthy  meta leader nats[012]" \
      "$dir/out" || fail "$n not healthy: $(cat "$dir/out")"
  done
  grep -Eq "jetstream: meta leader nats[012]" "$dir/out" || fail "no meta leader: $(cat "$dir/out")"
  grep -Eq "$stream" "$dir/out" || fail "stream copies not current: $(cat "$dir/out")"
  grep -Eq "^  broker1 +pid [0-9]+  running  127.0.0.1:[0-9]+  SERVING" "$dir/out" ||
    fail "broker1 not serving: $(cat "$dir/out")"
  grep -Eq "alpha +pid [0-9]+  running  connected to broker0" "$dir/out" &&
    grep -Eq "beta +pid [0-9]+  running  connected to broker1" "$dir/out" ||
    fail "agents not spread over the brokers: $(cat "$dir/out")"
  expect_exit 0 "$bin" fleet status cl --fleet-dir "$fleets" --json
  python3 - "$dir/out" <<'PY' || fail "status --json: $(cat "$dir/out")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["healthy"], "not healthy"
assert [b["name"] for b in s["brokers"]] == ["broker0", "broker1"]
assert all(n["ready"] for n in s["nats"]["servers"]), "a server not ready"
assert s["nats"]["meta_leader"] in ("nats0", "nats1", "nats2")
stream = next(x for x in s["nats"]["streams"] if x["name"] == "LATENTBUS")
assert len(stream["replicas"]) == 2
PY
  nats_pid=$(state_pid cl nats2)
  stop_up_with TERM 0
  # Agents, then brokers, then nats-servers.
  agents_at=$(grep -n "SIGTERM to alpha, beta" "$dir/up.log" | cut -d: -f1)
  brokers_at=$(grep -n "SIGTERM to broker0, broker1" "$dir/up.log" | cut -d: -f1)
  nats_at=$(grep -n "SIGTERM to nats0, nats1, nats2" "$dir/up.log" | cut -d: -f1)
  [ -n "$agents_at" ] && [ -n "$brokers_at" ] && [ -n "$nats_at" ] &&
    [ "$agents_at" -lt "$brokers_at" ] && [ "$brokers_at" -lt "$nats_at" ] ||
    fail "not stopped in reverse order"
  grep -Eq "^fleet +\| nats2 \(pid [0-9]+\) exited with status 0" "$dir/up.log" ||
    fail "nats2 did not stop cleanly"
  ! alive "$nats_pid" || fail "nats2 $nats_pid still running"
  no_members_left
  [ -d "$fleets/cl/nats/nats0/jetstream" ] || fail "no JetStream store under the run folder"

  # A SIGKILLed `up` leaves no nats-server behind either.
  start_up "$dir/cl.yaml"
  wait_for_line "fleet cl up" 240
  stop_up_with KILL 137
  no_members_left
  echo "fleet cluster: 3 nats-servers, 2 brokers, 2 agents spread; healthy; stopped in order"
  exit 0
fi
fail "unknown mode $mode"
