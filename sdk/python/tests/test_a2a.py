"""latentbus and the A2A SDK (`a2a-sdk`, module `a2a`) in one environment: both load their
generated protobuf modules into the same protobuf runtime and descriptor pool. a2a-sdk needs
protobuf >= 5.29.5, so this runs only where it is installed (scripts/test-python.sh's
newest-versions venv) and is skipped on the oldest supported protobuf."""
from __future__ import annotations

import numpy as np
import pytest

a2a_types = pytest.importorskip("a2a.types", reason="needs a2a-sdk (protobuf >= 5.29.5)")

from google.protobuf import descriptor_pool  # noqa: E402

import latentbus  # noqa: E402
from latentbus import codec  # noqa: E402
from latentbus.v1 import envelope_pb2  # noqa: E402


def test_latentbus_and_a2a_messages_side_by_side():
    # An A2A message, carried as the text of a latentbus envelope with a latent beside it.
    message = a2a_types.Message(message_id="m-1", role=a2a_types.Role.ROLE_USER,
                                parts=[a2a_types.Part(text="summarise the report")])
    hidden = np.zeros((2, 64), np.float32)
    packet = codec.encode(hidden, "int8/g32", model_id="m", model_fingerprint="f",
                          space=codec.Space.HIDDEN, layer=1)
    envelope = envelope_pb2.Envelope(message_id=message.message_id,
                                     text=message.parts[0].text,
                                     latent=codec.to_proto(packet),
                                     metadata={"a2a.role": a2a_types.Role.Name(message.role)})

    # And the envelope's bytes as a raw part of an A2A message, both ways.
    wrapped = a2a_types.Message(message_id="m-2", role=a2a_types.Role.ROLE_AGENT,
                                parts=[a2a_types.Part(raw=envelope.SerializeToString(),
                                                      media_type="application/x-protobuf")])
    back = a2a_types.Message.FromString(wrapped.SerializeToString())
    unwrapped = envelope_pb2.Envelope.FromString(back.parts[0].raw)
    assert unwrapped == envelope
    assert (unwrapped.text, unwrapped.metadata["a2a.role"]) == ("summarise the report",
                                                                "ROLE_USER")
    assert codec.decode(codec.from_proto(unwrapped.latent)).shape == (2, 64)

    pool = descriptor_pool.Default()
    assert pool.FindMessageTypeByName("latentbus.v1.Envelope") is envelope_pb2.Envelope.DESCRIPTOR
    assert pool.FindMessageTypeByName(a2a_types.Message.DESCRIPTOR.full_name) is \
        a2a_types.Message.DESCRIPTOR
    assert latentbus.BusError.__name__ == "BusError"
