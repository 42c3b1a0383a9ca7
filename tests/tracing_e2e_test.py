#!/usr/bin/env python3
"""Traces end to end (ctest tracing_e2e): a real `latentbus broker` exporting OTLP/gRPC, two
real model agents (`latentbus agent`: SmolLM2-135M and Gemma 3 270M, the shipped bridges)
and the text client `latentbus request` exporting OTLP/HTTP, all to one receiver built from
the official OTLP definitions (tests/otlp_receiver.py). One request travels client -> SmolLM2
agent (text) -> relayed as a latent through the broker's bridge -> Gemma 3 agent, whose
reply comes back the same way. The test checks that every hop's spans arrived in ONE trace,
their parent/child links across the four processes, and the key attributes.

Run by ctest with the system python3; re-runs itself in build/venv-otlp
(scripts/otlp-receiver-venv.sh, which scripts/test.sh runs), and exits 77 (ctest: skipped)
saying so when that venv or a model file is missing.
usage: tracing_e2e_test.py LATENTBUS_BIN SOURCE_DIR VENV"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77


def reexec_in_venv(venv):
    python = os.path.join(venv, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return
    if not os.path.exists(python):
        print(f"SKIPPED: no OTLP receiver venv at {venv}; create it with "
              "scripts/otlp-receiver-venv.sh (scripts/test.sh does)")
        sys.exit(SKIP)
    os.execv(python, [python] + sys.argv)


def model_dir():
    return os.environ.get("LATENTBUS_MODEL_DIR",
                          os.path.expanduser("~/.cache/latentbus/models"))


def wait_for(predicate, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Fleet:
    def __init__(self, binary, workdir):
        self.binary, self.dir, self.procs = binary, workdir, []

    def start(self, name, args, env):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        p = subprocess.Popen([self.binary] + args, stdout=log, stderr=subprocess.STDOUT,
                             env={**os.environ, **env})
        self.procs.append((name, p))
        return p

    def log(self, name):
        with open(os.path.join(self.dir, name + ".log")) as f:
            return f.read()

    def stop_all(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                raise AssertionError(f"{name} did not stop on SIGTERM")


def otlp_env(service, endpoint, protocol):
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_SERVICE_NAME": service, "OTEL_BSP_SCHEDULE_DELAY": "200"}


def check(spans):
    """The assertions on what the receiver got; returns a one-line summary."""
    cli = [s for s in spans if s["name"] == "latentbus.client.request"]
    assert len(cli) == 1, f"{len(cli)} client spans: {[s['name'] for s in spans]}"
    root = cli[0]
    trace = [s for s in spans if s["trace_id"] == root["trace_id"]]
    others = {s["trace_id"] for s in spans} - {root["trace_id"]}
    assert not others, f"spans outside the request's trace: {others}"
    by_id = {s["span_id"]: s for s in trace}
    assert len(by_id) == len(trace), "span ids repeat"

    def parent(s):
        return by_id.get(s["parent_span_id"])

    def named(name, **attrs):
        return [s for s in trace if s["name"] == name and
                all(s["attributes"].get(k) == v for k, v in attrs.items())]

    def one(name, under=None, **attrs):
        found = [s for s in named(name, **attrs) if under is None or parent(s) is under]
        assert len(found) == 1, f"{len(found)} spans {name} {attrs}: " + json.dumps(
            [(s["name"], s["attributes"]) for s in trace], indent=1)
        return found[0]

    assert root["parent_span_id"] == "", "the client's span is the root"
    assert root["kind"] == "PRODUCER"
    assert root["resource"]["service.name"] == "latentbus-cli"
    assert root["status"]["code"] != 2, root["status"]

    # Hop 1: client -> broker -> smol (text).
    b1 = one("latentbus.broker.send", **{"latentbus.sender": root["attributes"]["latentbus.sender"],
                                          "messaging.destination.name": "smol"})
    assert parent(b1) is root and b1["kind"] == "SERVER"
    assert b1["flags"] & 0x300 == 0x300, "a remote parent is flagged as remote"
    assert b1["resource"]["service.name"] == "latentbus-broker" and b1["transport"] == "grpc"
    assert b1["attributes"]["latentbus.outcome"] == "accepted"
    for phase in ("latentbus.broker.validate", "latentbus.broker.route"):
        assert [s for s in named(phase) if parent(s) is b1], f"no {phase} under {b1['name']}"
    d1 = one("latentbus.broker.deliver", under=b1, **{"latentbus.recipient": "smol"})
    assert d1["attributes"]["latentbus.form"] == "text"
    assert [s for s in named("latentbus.broker.queue_wait") if parent(s) is b1]
    r1 = one("latentbus.agent.receive", **{"latentbus.recipient": "smol"})
    assert parent(r1) is d1, "the receiver's span hangs under the broker's deliver span"
    assert r1["kind"] == "CONSUMER" and r1["transport"] == "http/protobuf"
    assert r1["resource"]["service.name"] == "latentbus-agent"
    assert r1["resource"]["service.instance.id"] == "smol"

    # Hop 2: smol's relay -> broker (translated by the bridge) -> gemma, as a latent.
    s2 = one("latentbus.agent.send", **{"messaging.destination.name": "gemma"})
    assert parent(s2) is r1 and s2["kind"] == "PRODUCER"
    assert s2["attributes"]["latentbus.form"] == "latent", s2["attributes"]
    assert s2["attributes"]["latentbus.latent.bytes"] > 0
    assert s2["attributes"]["latentbus.encoding"] == "int4/g32"
    prefill = one("latentbus.sender.prefill")
    encode = one("latentbus.sender.encode")
    assert parent(prefill) is s2 and parent(encode) is s2
    assert prefill["end_ns"] <= encode["start_ns"] + 1000, "prefill, then the codec"
    b2 = one("latentbus.broker.send", **{"messaging.destination.name": "gemma"})
    assert parent(b2) is s2
    assert b2["attributes"]["latentbus.form"] == "latent"
    assert b2["attributes"]["latentbus.recipients.latent"] == 1
    t2 = one("latentbus.broker.translate")
    assert parent(t2) is b2
    assert t2["attributes"]["latentbus.bridge.id"], t2["attributes"]
    assert t2["attributes"]["latentbus.latent.bytes"] > 0
    d2 = one("latentbus.broker.deliver", under=b2, **{"latentbus.recipient": "gemma"})
    assert d2["attributes"]["latentbus.form"] == "latent"
    r2 = one("latentbus.agent.receive", **{"latentbus.recipient": "gemma"})
    assert parent(r2) is d2 and r2["attributes"]["latentbus.form"] == "latent"
    assert r2["resource"]["service.instance.id"] == "gemma"
    phases = [one(n) for n in ("latentbus.receiver.decode", "latentbus.receiver.prefill",
                               "latentbus.receiver.generate")]
    for p in phases:
        assert parent(p) is r2, p["name"]
    assert phases[1]["attributes"]["latentbus.prompt_tokens"] > 0
    assert phases[1]["end_ns"] <= phases[2]["start_ns"] + 1000, "prefill, then generation"

    # The replies (gemma -> smol, smol -> client) stay in the trace, under the receive spans.
    assert [s for s in named("latentbus.broker.send", **{"latentbus.reply": True})
            if parent(s) is r2], "gemma's reply is not under its receive span"
    assert [s for s in named("latentbus.broker.send", **{"latentbus.reply": True})
            if parent(s) is r1], "smol's reply is not under its receive span"
    for s in trace:
        assert s["end_ns"] >= s["start_ns"] > 0, s
        assert s["status"]["code"] != 2, (s["name"], s["status"])
    services = sorted({s["resource"]["service.name"] for s in trace})
    return (f"{len(trace)} spans in trace {root['trace_id']} from {services}; "
            f"latent hop {s2['attributes']['latentbus.latent.bytes']} B sent, "
            f"{t2['attributes']['latentbus.latent.bytes']} B after the bridge")


def main():
    binary, source, venv = sys.argv[1:4]
    reexec_in_venv(venv)
    sys.path.insert(0, os.path.join(source, "tests"))
    from otlp_receiver import OtlpReceiver  # noqa: E402 (after the venv is in place)

    for model in ("SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"):
        if not os.path.exists(os.path.join(model_dir(), model)):
            print(f"SKIPPED: {model} is not in {model_dir()} (scripts/fetch-models.sh)")
            sys.exit(SKIP)
    receiver = OtlpReceiver()
    grpc_endpoint = f"http://127.0.0.1:{receiver.grpc_port}"
    http_endpoint = f"http://127.0.0.1:{receiver.http_port}"
    with tempfile.TemporaryDirectory() as workdir:
        fleet = Fleet(binary, workdir)
        try:
            port_file = os.path.join(workdir, "port")
            fleet.start("broker", ["broker", "--listen", "127.0.0.1:0", "--metrics-listen", "",
                                   "--drain-timeout", "1", "--port-file", port_file,
                                   "--bridges", os.path.join(source, "bridges")],
                        otlp_env("latentbus-broker", grpc_endpoint, "grpc"))
            wait_for(lambda: os.path.exists(port_file), 60, "the broker's port file")
            with open(port_file) as f:
                broker = f"127.0.0.1:{f.read().strip()}"
            for agent_id, model in (("smol", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                                    ("gemma", "gemma-3-270m-q4_k_m.gguf")):
                fleet.start(agent_id, ["agent", "--broker", broker, "--id", agent_id,
                                       "--model", model, "--threads", "1",
                                       "--max-new-tokens", "6",
                                       "--ready-file", os.path.join(workdir, agent_id + ".ready")],
                            otlp_env("latentbus-agent", http_endpoint, "http/protobuf"))
            for agent_id in ("smol", "gemma"):
                wait_for(lambda: os.path.exists(os.path.join(workdir, agent_id + ".ready")), 180,
                         f"agent {agent_id} to register")
            request = subprocess.run(
                [binary, "request", "--broker", broker, "--to", "smol", "--forward-to", "gemma",
                 "--text", "The parcel left Lisbon on Monday and reached Oslo two days later.",
                 "--json", "--timeout", "180"],
                env={**os.environ, **otlp_env("latentbus-cli", http_endpoint, "http/protobuf")},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=240)
            assert request.returncode == 0, request.stdout + request.stderr
            reply = json.loads(request.stdout)
            assert reply["metadata"].get("lb.sent_form") == "latent", reply["metadata"]
        except Exception:
            for name, _ in fleet.procs:
                print(f"--- {name}.log ---\n{fleet.log(name)[-3000:]}")
            raise
        finally:
            fleet.stop_all()  # SIGTERM: every process flushes its spans before it exits
    # Broker (grpc), both agents and the client (http) have exported by now.
    wait_for(lambda: {s["transport"] for s in receiver.spans()} == {"grpc", "http/protobuf"}, 10,
             "spans over both transports")
    spans = receiver.spans()
    receiver.stop()
    print(check(spans))
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
