"""Bearer tokens and TLS against a real broker configured with them."""
from __future__ import annotations

import pytest

import latentbus
from latentbus import BusError, StreamClosed

TOKENS = """
tokens:
  - name: agents
    token: "token-agents"
    agents: ["alice*", "bob"]
    publish: ["*"]
    subscribe: ["*"]
  - name: ops
    token: "token-ops"
    agents: ["ops"]
    admin: true
"""


def test_bearer_token(start_broker, clients):
    broker = start_broker(config=TOKENS)
    anonymous = clients(latentbus.connect(broker.address))
    with pytest.raises(StreamClosed) as info:
        anonymous.register("alice")
    assert info.value.reason == "UNAUTHENTICATED"
    wrong = clients(latentbus.connect(broker.address, token="nope"))
    with pytest.raises(StreamClosed) as info:
        wrong.register("alice")
    assert info.value.reason == "UNAUTHENTICATED"
    not_mine = clients(latentbus.connect(broker.address, token="token-agents"))
    with pytest.raises(StreamClosed) as info:
        not_mine.register("mallory")
    assert info.value.reason == "PERMISSION_DENIED"

    alice = clients(latentbus.connect(broker.address, token="token-agents"))
    alice.register("alice-1")
    bob = clients(latentbus.connect(broker.address, token="token-agents"))
    bob.register("bob")
    alice.send("bob", text="authenticated")
    assert bob.receive(timeout=5).text == "authenticated"
    with pytest.raises(BusError) as info:
        alice.list_agents()  # not an admin token
    assert info.value.reason == "PERMISSION_DENIED"
    ops = clients(latentbus.connect(broker.address, token="token-ops"))
    assert {a.agent_id for a in ops.list_agents()} == {"alice-1", "bob"}


def test_tls_with_root_ca(start_broker, clients, certificate):
    key, cert = certificate
    broker = start_broker("--tls-cert", str(cert), "--tls-key", str(key))
    alice = clients(latentbus.connect(broker.address, root_ca=str(cert)))
    alice.register("alice")
    bob = clients(latentbus.connect(broker.address, root_ca=cert.read_bytes()))
    bob.register("bob")
    alice.send("bob", text="over TLS")
    assert bob.receive(timeout=5).text == "over TLS"
    plaintext = clients(latentbus.connect(broker.address, timeout=3))
    with pytest.raises(StreamClosed) as info:
        plaintext.register("carol")
    assert info.value.grpc_code.name == "UNAVAILABLE"
