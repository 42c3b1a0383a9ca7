#!/usr/bin/env python3
"""ctest helper: runs the `latentbus bench bus --json` command given after `--` and
checks the output contract: it exits 0, the documented keys exist, the figures are
positive, and no system lost a message or had one refused on the unloaded run.
`--kernels NAME` before `--`: the in-process broker must name NAME as its translation
kernels. No timing thresholds: performance lives in the bench, not in tests."""
import json
import subprocess
import sys

cmd = sys.argv[sys.argv.index("--") + 1:]
ours = sys.argv[1:sys.argv.index("--")]
want_kernels = ours[ours.index("--kernels") + 1] if "--kernels" in ours else None
out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout  # exit 0 or raise
r = json.loads(out)
positive = ["p50_us", "p99_us", "msgs_per_s", "floor_p50_us", "nats_p50_us",
            "floor_msgs_per_s", "nats_msgs_per_s", "vs_floor_p50", "vs_nats_p50"]
for key in positive:
    assert key in r, f"missing top-level key {key}"
    assert r[key] > 0, f"{key} = {r[key]} is not positive"
for key in ["p90_us", "p999_us", "max_us", "rejects", "modes", "payload", "machine", "date"]:
    assert key in r, f"missing top-level key {key}"
for mode, m in r["modes"].items():
    for system in ["relay", "nats", "latentbus"]:
        assert system in m["systems"], f"{mode}: no {system} row"
    for system, s in m["systems"].items():
        for key in ["p50_us", "p99_us", "p999_us", "msgs_per_s", "lost", "curve"]:
            assert key in s, f"{mode}/{system}: missing {key}"
        assert s["p50_us"] > 0 and s["msgs_per_s"] > 0, f"{mode}/{system}: {s}"
        assert s["lost"] == 0, f"{mode}/{system}: {s['lost']} messages lost"
        assert s.get("rejects", 0) == 0, f"{mode}/{system}: refused {s.get('reject_reasons')}"
    # Messages on the wire per round trip are counts, not timings: a relay moves 4 (request,
    # its delivery, the reply, its delivery); so does the broker on stream protocol revision
    # 2 (acks and credits ride on those), 8 on revision 1 (SendResult and Ack on each leg).
    # Registration and the odd Credit frame add a little.
    if mode == "request":
        lean = r.get("protocol", 1) >= 2
        for system, s in m["systems"].items():
            wire = s["wire_msgs_per_msg"]
            if system.startswith("latentbus"):
                low, high = (4.0, 4.5) if lean else (8.0, 8.5)
            elif system.startswith("jetstream"):
                # Two hops of publish + its ack, pull request + message + ack.
                low, high = 10.0, 10.5
            else:
                low, high = 4.0, 4.5
            assert low <= wire <= high, f"{mode}/{system}: {wire} messages per round trip"
# The baseline is the pinned nats-server (scripts/install-nats-server.sh), not Debian's.
for mode, m in r["modes"].items():
    server = m["systems"]["nats"].get("server", "")
    assert "v2.15.1" in server, f"{mode}: nats baseline ran {server!r}, not the pinned 2.15.1"
# The in-process broker names the products its bridges translate with.
if "broker_translation" in r:
    kernels = r["broker_translation"]["kernels"]
    assert kernels in ("blas", "scalar", "avx2", "avx2vnni", "avx512", "avx512vnni"), kernels
    assert want_kernels is None or kernels == want_kernels, f"kernels {kernels}, not {want_kernels}"
    assert r["broker_translation"]["inline_max_tokens"] >= 0, r["broker_translation"]
    # A latent payload through a bridge: the packet's isolated translation, and the goal
    # built on it (its verdicts against the baselines that ran).
    if "text_p50_us" in r and "isolated_us" in r["broker_translation"]:
        assert r["broker_translation"]["isolated_us"] > 0, r["broker_translation"]
        g = r["latent_goal"]
        assert g["allowed_p50_us"] > r["text_p50_us"], g
        assert isinstance(g["met_vs_text"], bool), g
        for key, baseline in [("met_vs_floor", "floor_p50_us"), ("text_met_vs_nats", "nats_p50_us")]:
            if baseline in r:
                assert isinstance(g[key], bool), f"latent_goal: {key} = {g.get(key)}"
if "compare_bridge" in r:
    assert all("latentbus_compare" in m["systems"] for m in r["modes"].values()), r["modes"]
# --cluster: every policy asked for has its rows and its summary.
if "cluster" in r:
    c = r["cluster"]
    assert c["policies"], "cluster: no policy summarised"
    for policy, p in c["policies"].items():
        for key in ["jetstream_p50_us", "p50_us", "msgs_per_s", "one_broker_msgs_per_s",
                    "vs_jetstream_p50", "msgs_per_s_n_vs_1"]:
            assert p[key] > 0, f"cluster/{policy}: {key} = {p.get(key)}"
        assert f"met_{policy}" in c["goal"], c["goal"]
        for mode, m in r["modes"].items():
            if mode == "topic":
                continue
            for system in [f"jetstream_{policy}", f"latentbus_cluster1_{policy}",
                           f"latentbus_cluster{c['brokers']}_{policy}"]:
                assert system in m["systems"], f"{mode}: no {system} row"
                server = m["systems"][system].get("server", "")
                assert "v2.15.1" in server, f"{mode}/{system} ran {server!r}, not 2.15.1"
# --tracing: both sampling rows in every mode, their ratios to the latentbus row (tracing off),
# and the summary; at 100% the broker exported spans to the sink, at 1% no more than at 100%.
if "tracing" in r:
    t = r["tracing"]
    for row, sampling in [("latentbus_trace1", 0.01), ("latentbus_trace100", 1.0)]:
        assert row in t, f"tracing: no {row} summary"
        assert t[row]["sampling"] == sampling, t[row]
        for key in ["vs_off_p50", "vs_off_p99", "vs_off_msgs_per_s", "vs_off_cpu"]:
            assert t[row][key] > 0, f"tracing/{row}: {key} = {t[row][key]}"
        for mode, m in r["modes"].items():
            assert row in m["systems"], f"{mode}: no {row} row"
            assert m["ratios"][f"{row}_vs_off_p50"] > 0, f"{mode}: no {row} ratio"
    full, sampled = t["latentbus_trace100"], t["latentbus_trace1"]
    assert full["spans_exported"] > 0, f"tracing at 100% exported nothing: {full}"
    assert sampled["spans_exported"] < full["spans_exported"], (sampled, full)
assert r["rejects"] == 0 and r["lost"] == 0, f"rejects {r['rejects']}, lost {r['lost']}"
print("ok:", ", ".join(f"{k}={r[k]:.1f}" for k in positive))
