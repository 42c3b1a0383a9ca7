"""BusError names the broker's ErrorReason (QUEUE_FULL, ...), never just its number."""
from __future__ import annotations

import copy
import pickle
import re

import grpc
import pytest

import latentbus
from latentbus import BusError, MessageTooLarge, StreamClosed
from latentbus.v1 import broker_pb2

NUMBERED = re.compile(r"^\d")


def test_reason_given_as_the_enum_number_reads_as_its_name():
    e = BusError(broker_pb2.QUEUE_FULL, "bob's queue is full", agent_ids=["bob"])
    assert (e.reason, e.reason_value) == ("QUEUE_FULL", broker_pb2.QUEUE_FULL)
    assert str(e) == "QUEUE_FULL: bob's queue is full"
    e = BusError(int(broker_pb2.NEEDS_TEXT))
    assert (e.reason, str(e)) == ("NEEDS_TEXT", "NEEDS_TEXT")


def test_every_reason_from_an_error_frame_shows_its_name():
    for name, value in broker_pb2.ErrorReason.items():
        e = BusError.from_proto(broker_pb2.Error(reason=value, detail="d", message_id="m"))
        assert (e.reason, e.reason_value, e.message_id) == (name, value, "m")
        assert str(e) == f"{name}: d"
        assert name in repr(e) and not NUMBERED.match(str(e))


def test_unknown_reason_value_is_unspecified_and_keeps_its_number_in_the_text():
    e = BusError.from_proto(broker_pb2.Error(reason=99, detail="from a newer broker"))
    assert (e.reason, e.reason_value) == ("ERROR_REASON_UNSPECIFIED", 99)
    assert str(e).startswith("ERROR_REASON_UNSPECIFIED")
    assert "99" in str(e) and "from a newer broker" in str(e)
    assert BusError(99).reason == "ERROR_REASON_UNSPECIFIED"


class FakeRpcError(grpc.RpcError):
    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


def test_grpc_status_prefix_becomes_the_reason_name():
    e = BusError.from_rpc_error(FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                             "[QUEUE_FULL] the queue is full"))
    assert (e.reason, e.detail, str(e)) == ("QUEUE_FULL", "the queue is full",
                                            "QUEUE_FULL: the queue is full")
    e = StreamClosed.from_rpc_error(FakeRpcError(grpc.StatusCode.PERMISSION_DENIED, "no"))
    assert (e.reason, str(e)) == ("PERMISSION_DENIED", "PERMISSION_DENIED: no")


@pytest.mark.parametrize("error", [
    BusError("QUEUE_FULL", "full", message_id="m1", agent_ids=["bob", "carol"]),
    StreamClosed("DRAINING", "bye",
                 grpc_code=grpc.StatusCode.ABORTED),
    MessageTooLarge(5000, 4096, message_id="m2"),
    BusError.from_proto(broker_pb2.Error(reason=99, detail="newer")),
])
def test_errors_survive_pickle_and_copy_with_their_reason(error):
    for again in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert type(again) is type(error)
        assert again.__dict__ == error.__dict__
        assert str(again) == str(error)
        assert not NUMBERED.match(str(again))


def test_queue_full_from_a_real_broker_is_named(start_broker, clients):
    broker = start_broker("--max-queue-depth", "1")
    alice = clients(latentbus.connect(broker.address))
    alice.register("alice")
    bob = clients(latentbus.connect(broker.address))
    bob.register("bob")
    alice.send("bob", text="fills bob's queue")  # delivered, not acked: depth 1
    with pytest.raises(BusError) as info:
        alice.send("bob", text="one too many")
    assert info.value.reason == "QUEUE_FULL"
    assert info.value.reason_value == broker_pb2.QUEUE_FULL
    assert str(info.value).startswith("QUEUE_FULL")
    assert info.value.agent_ids == ("bob",)
    with pytest.raises(BusError) as info:  # the Publish RPC's PublishResponse.error
        alice.publish("bob", text="and another")
    assert str(info.value).startswith("QUEUE_FULL")
