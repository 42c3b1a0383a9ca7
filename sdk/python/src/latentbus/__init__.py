"""latentbus: the Python SDK of the latentbus message bus for LLM agents.

    import latentbus
    bus = latentbus.connect("127.0.0.1:7070")          # sync; latentbus.aio for asyncio
    bus.register("alice", latentbus.model_spec(...))   # or no model: text-only
    bus.send("bob", text="hello")                      # or array=hidden_states

Modules: latentbus.client (sync), latentbus.aio (asyncio), latentbus.protocol (the sans-IO
core both clients share), latentbus.codec (numpy codec, byte-compatible with the C++
codec), latentbus.v1 (generated protobuf/gRPC stubs).
"""
from latentbus import codec
from latentbus.client import Client, connect
from latentbus.errors import BusError, MessageTooLarge, StreamClosed
from latentbus.messages import (Delivery, RecipientOutcome, Registered, RouteDecision,
                                RouteQueryResult, SendResult)
from latentbus.model import ModelSpec, model_spec

# After the names above: latentbus.aio builds on latentbus.client. Imported here so that
# `import latentbus` alone makes `latentbus.aio` usable.
from latentbus import aio  # noqa: E402  (isort: skip)

__version__ = "0.1.0"

__all__ = [
    "BusError", "Client", "Delivery", "MessageTooLarge", "ModelSpec", "RecipientOutcome",
    "Registered", "RouteDecision", "RouteQueryResult", "SendResult", "StreamClosed", "aio",
    "codec", "connect", "model_spec",
]
