#!/usr/bin/env python3
"""Client side of the image smoke tests (scripts/build-images.sh).

The script runs the images' own `latentbus broker` and `latentbus agent` inside the mounted
images (chroot, loopback network shared with this process); this program talks to them
from outside with the Python SDK (sdk/python) and grpcio, as any client would:

  health ADDRESS [--timeout S]
      polls grpc.health.v1.Health/Check (service "") until it answers SERVING; fails on
      any other status once the timeout passes.
  route ADDRESS
      two SDK clients: `smoke-receiver` registers, `smoke-sender` sends it one text
      message; the receiver must get exactly that text from that sender, ack it, and the
      send's result must name the receiver as delivered in text form.
  agent ADDRESS AGENT_ID [--timeout S]
      waits until ListAgents shows AGENT_ID connected with a model (its hidden size and
      fingerprint non-empty), then sends it a request and waits for the model's reply
      (non-empty text, from AGENT_ID).
  metrics URL
      GET URL: must answer 200 with latentbus_ metric families.

Exit status 0 when the check passes; otherwise 1 with the reason on stderr.
"""

import argparse
import sys
import time
import urllib.request

import grpc
import latentbus

# grpc.health.v1 without generated code: HealthCheckRequest{service: ""} is empty and
# HealthCheckResponse is {status: field 1, varint}; SERVING = 1.
SERVING = b"\x08\x01"


def check_health(address, timeout):
    deadline = time.monotonic() + timeout
    last = "no answer"
    with grpc.insecure_channel(address) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=lambda m: m,
                                    response_deserializer=lambda m: m)
        while time.monotonic() < deadline:
            try:
                answer = check(b"", timeout=2)
                if answer == SERVING:
                    print(f"smoke: {address} grpc.health.v1 SERVING")
                    return True
                last = f"status bytes {answer!r}"
            except grpc.RpcError as e:
                last = f"{e.code().name}: {e.details()}"
            time.sleep(0.2)
    print(f"smoke: {address} grpc.health.v1 not SERVING after {timeout} s ({last})",
          file=sys.stderr)
    return False


def check_route(address):
    text = f"smoke test message {time.time_ns()}"
    with latentbus.connect(address) as receiver, latentbus.connect(address) as sender:
        receiver.register("smoke-receiver")
        sender.register("smoke-sender")
        result = sender.send("smoke-receiver", text=text, timeout=10)
        delivery = receiver.receive(timeout=10)
        delivery.ack()
    routed = [(r.agent_id, r.form) for r in result.recipients]
    if routed != [("smoke-receiver", "text")]:
        print(f"smoke: send result names {routed}, expected smoke-receiver in text form",
              file=sys.stderr)
        return False
    if (delivery.sender_id, delivery.text) != ("smoke-sender", text):
        print(f"smoke: received {delivery.text!r} from {delivery.sender_id!r}, expected "
              f"{text!r} from 'smoke-sender'", file=sys.stderr)
        return False
    print(f"smoke: smoke-sender -> smoke-receiver routed and acked ({len(text)} bytes of text)")
    return True


def registered_agent(client, agent_id, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for info in client.list_agents(timeout=5):
            if info.agent_id == agent_id and info.connected:
                return info
        time.sleep(0.5)
    return None


def check_agent(address, agent_id, timeout):
    with latentbus.connect(address) as client:
        info = registered_agent(client, agent_id, timeout)
        if info is None:
            print(f"smoke: {agent_id} not registered after {timeout} s", file=sys.stderr)
            return False
        model = info.model
        if not (model.model_id and model.fingerprint and model.hidden_size > 0):
            print(f"smoke: {agent_id} registered without a model spec: {model}", file=sys.stderr)
            return False
        print(f"smoke: {agent_id} registered with model {model.model_id} "
              f"(hidden size {model.hidden_size}, fingerprint {model.fingerprint[:12]}...)")
        client.register("smoke-requester")
        start = time.monotonic()
        reply = client.request(agent_id, text="The cat sat on the mat.",
                               metadata={"instruction": "Say what the message is about."},
                               timeout=timeout)
        seconds = time.monotonic() - start
    if reply.sender_id != agent_id or not reply.text.strip():
        print(f"smoke: reply {reply.text!r} from {reply.sender_id!r}, expected text from "
              f"{agent_id}", file=sys.stderr)
        return False
    print(f"smoke: {agent_id} replied in {seconds:.1f} s: {reply.text.strip()[:80]!r}")
    return True


def check_metrics(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
        status = response.status
    families = {line.split()[2] for line in body.splitlines()
                if line.startswith("# TYPE latentbus_")}
    if status != 200 or not families:
        print(f"smoke: {url} answered {status} with no latentbus_ metrics", file=sys.stderr)
        return False
    print(f"smoke: {url} serves {len(families)} latentbus_ metric families")
    return True


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="check", required=True)
    health = sub.add_parser("health")
    health.add_argument("address")
    health.add_argument("--timeout", type=float, default=30)
    route = sub.add_parser("route")
    route.add_argument("address")
    agent = sub.add_parser("agent")
    agent.add_argument("address")
    agent.add_argument("agent_id")
    agent.add_argument("--timeout", type=float, default=120)
    metrics = sub.add_parser("metrics")
    metrics.add_argument("url")
    args = parser.parse_args(argv)
    try:
        if args.check == "health":
            ok = check_health(args.address, args.timeout)
        elif args.check == "route":
            ok = check_route(args.address)
        elif args.check == "agent":
            ok = check_agent(args.address, args.agent_id, args.timeout)
        else:
            ok = check_metrics(args.url)
    except (latentbus.BusError, TimeoutError, OSError, grpc.RpcError) as e:
        print(f"smoke: {args.check} failed: {type(e).__name__}: {e}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
