"""The committed stubs in src/latentbus/v1 match proto/latentbus/v1: regenerating them
with the pinned grpcio-tools gives the same files. Fails after a .proto change until
`python tools/gen_stubs.py` is run and its output committed."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

SDK = pathlib.Path(__file__).resolve().parents[1]
COMMITTED = SDK / "src" / "latentbus" / "v1"


def test_committed_stubs_match_the_protos(tmp_path):
    pytest.importorskip("grpc_tools", reason="needs the dev extra (grpcio-tools)")
    subprocess.run([sys.executable, str(SDK / "tools" / "gen_stubs.py"), "--out", str(tmp_path)],
                   check=True)
    generated = {p.name: p.read_bytes() for p in (tmp_path / "latentbus" / "v1").iterdir()}
    committed = {p.name: p.read_bytes() for p in COMMITTED.iterdir()
                 if p.name != "__init__.py" and p.suffix in (".py", ".pyi")}
    assert sorted(generated) == sorted(committed)
    stale = [name for name in generated if generated[name] != committed[name]]
    assert not stale, f"stale stubs {stale}: run python sdk/python/tools/gen_stubs.py"


def test_stubs_describe_the_wire_contract():
    from latentbus.v1 import broker_pb2, broker_pb2_grpc, envelope_pb2, latent_pb2

    assert broker_pb2.DESCRIPTOR.package == "latentbus.v1"
    methods = {m.name for m in broker_pb2.DESCRIPTOR.services_by_name["Broker"].methods}
    assert {"Connect", "Publish", "RouteQuery"} <= methods
    assert hasattr(broker_pb2_grpc, "BrokerStub")
    assert envelope_pb2.Envelope.DESCRIPTOR.fields_by_name["latent"].message_type is \
        latent_pb2.LatentPacket.DESCRIPTOR


def test_stubs_load_without_warnings():
    """The installed protobuf runtime takes the committed (4.21) gencode silently: a runtime
    that warns about old gencode (a step before refusing it) fails here, in a fresh
    interpreter with warnings as errors. scripts/test-python.sh runs this on the oldest and
    the newest protobuf it supports."""
    code = ("from latentbus.v1 import broker_pb2, broker_pb2_grpc, envelope_pb2, latent_pb2, "
            "model_pb2\n"
            "envelope_pb2.Envelope.FromString(envelope_pb2.Envelope(text='x').SerializeToString())\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
