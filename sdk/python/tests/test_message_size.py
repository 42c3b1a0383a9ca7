"""Envelopes over the broker's max_message_bytes are refused by the SDK before they are
sent, on the stream (the limit announced in Registered) and on the Publish RPC (that
limit once registered, else the client's max_message_bytes option, by default the
broker's default)."""
from __future__ import annotations

import asyncio

import pytest

import latentbus
from latentbus import BusError, MessageTooLarge, aio
from latentbus._frames import DEFAULT_MAX_MESSAGE_BYTES

REJECTED_TOO_LARGE = 'latentbus_rejects_total{reason="MESSAGE_TOO_LARGE"}'


def rejected_too_large(client) -> float:
    """How many envelopes the broker itself refused as too large."""
    return client.get_stats().counters.get(REJECTED_TOO_LARGE, 0.0)


def test_default_limit_is_the_brokers_default(clients):
    # broker/config.h: LimitsConfig::max_message_bytes = 4u << 20.
    assert DEFAULT_MAX_MESSAGE_BYTES == 4 << 20
    assert clients(latentbus.connect("127.0.0.1:1")).max_message_bytes == 4 << 20
    no_check = clients(latentbus.connect("127.0.0.1:1", max_message_bytes=0))
    assert no_check.max_message_bytes == 0
    for bad in (-1, 1.5, "4096", True):
        with pytest.raises(ValueError, match="max_message_bytes"):
            latentbus.connect("127.0.0.1:1", max_message_bytes=bad)


def test_publish_without_a_stream_checks_the_option_before_sending(broker, clients):
    bob = clients(latentbus.connect(broker.address))
    bob.register("bob")
    script = clients(latentbus.connect(broker.address, max_message_bytes=2048))
    with pytest.raises(MessageTooLarge) as info:
        script.publish("bob", sender_id="script", text="x" * 3000, message_id="big-1")
    e = info.value
    assert isinstance(e, BusError) and e.reason == "MESSAGE_TOO_LARGE"
    assert e.limit == 2048 and e.size > 3000 and e.message_id == "big-1"
    assert f"{e.size} bytes" in str(e) and "2048" in str(e)
    assert e.grpc_code is None  # local: no RPC was made
    # Nothing reached the broker (which would have taken it: its limit is 4 MiB).
    with pytest.raises(TimeoutError):
        bob.receive(timeout=0.3)
    assert rejected_too_large(bob) == 0
    assert script.publish("bob", sender_id="script", text="small").recipients
    assert bob.receive(timeout=5).text == "small"


def test_publish_beyond_the_grpc_frame_limit_is_a_clear_local_error(broker, clients):
    # Past the broker's limit plus its 64 KiB framing allowance, gRPC would fail the RPC
    # with RESOURCE_EXHAUSTED and no reason; the default limit catches it first.
    script = clients(latentbus.connect(broker.address))
    size = DEFAULT_MAX_MESSAGE_BYTES + (128 << 10)
    with pytest.raises(MessageTooLarge) as info:
        script.publish("bob", sender_id="script", text="x" * size)
    assert info.value.limit == 4 << 20
    assert info.value.size > size
    assert str(info.value).startswith("MESSAGE_TOO_LARGE")


def test_publish_after_register_uses_the_announced_limit(start_broker, clients):
    broker = start_broker("--max-message-bytes", "4096")
    alice = clients(latentbus.connect(broker.address))  # option left at 4 MiB
    alice.register("alice")
    bob = clients(latentbus.connect(broker.address))
    bob.register("bob")
    assert alice.max_message_bytes == alice.registered.max_message_bytes == 4096
    with pytest.raises(MessageTooLarge) as info:
        alice.publish("bob", text="x" * 5000)
    assert (info.value.limit, "4096" in str(info.value)) == (4096, True)
    with pytest.raises(MessageTooLarge):  # and the stream, as before
        alice.send("bob", text="x" * 5000)
    assert rejected_too_large(bob) == 0
    # A client that never registered knows only its option: there the broker refuses.
    script = clients(latentbus.connect(broker.address))
    with pytest.raises(BusError) as info:
        script.publish("bob", sender_id="script", text="x" * 5000)
    assert info.value.reason == "MESSAGE_TOO_LARGE"
    assert not isinstance(info.value, MessageTooLarge)
    assert rejected_too_large(bob) == 1


def test_send_reports_size_and_limit(start_broker, clients):
    broker = start_broker("--max-message-bytes", "4096")
    alice = clients(latentbus.connect(broker.address))
    alice.register("alice")
    clients(latentbus.connect(broker.address)).register("bob")
    with pytest.raises(MessageTooLarge) as info:
        alice.send("bob", text="y" * 4500, message_id="big-2")
    e = info.value
    assert (e.limit, e.message_id) == (4096, "big-2")
    assert 4500 < e.size < 4700
    assert f"envelope is {e.size} bytes" in str(e) and "limit of 4096 bytes" in str(e)
    assert alice.send_credits == alice.registered.send_credits  # no credit spent


def test_aio_publish_and_send_check_the_size(start_broker):
    broker = start_broker("--max-message-bytes", "4096")

    async def main():
        async with aio.connect(broker.address, max_message_bytes=1024) as script, \
                aio.connect(broker.address) as bob:
            assert script.max_message_bytes == 1024
            await bob.register("bob")
            assert bob.max_message_bytes == 4096
            with pytest.raises(MessageTooLarge) as info:
                await script.publish("bob", sender_id="script", text="x" * 2000)
            assert info.value.limit == 1024
            with pytest.raises(MessageTooLarge) as info:
                await bob.publish("bob", text="x" * 5000)
            assert info.value.limit == 4096
            with pytest.raises(MessageTooLarge):
                await bob.send("bob", text="x" * 5000)
            with pytest.raises(TimeoutError):
                await bob.receive(timeout=0.3)
            assert (await bob.get_stats()).counters.get(REJECTED_TOO_LARGE, 0.0) == 0
    asyncio.run(asyncio.wait_for(main(), 30))
