"""The asyncio client against a real broker."""
from __future__ import annotations

import asyncio
import os
import signal
import time

import numpy as np
import pytest

import latentbus
from latentbus import BusError, StreamClosed, aio


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def spec():
    return latentbus.model_spec("synthetic-a", "fp-synthetic-a", hidden_size=64,
                                embedding_size=48, max_soft_tokens=16, tap_layer=3,
                                preferred_encoding="int4/g32")


def test_request_reply(broker):
    async def main():
        async with aio.connect(broker.address) as asker, aio.connect(broker.address) as answerer:
            await asker.register("asker")
            await answerer.register("answerer")

            async def serve():
                async for d in answerer:
                    await d.reply(text=d.text.upper(), metadata={"n": d.metadata["n"]})
                    await d.ack()

            server = asyncio.create_task(serve())
            replies = await asyncio.gather(*[
                asker.request("answerer", text=f"q{i}", metadata={"n": str(i)}, timeout=5)
                for i in range(5)])
            assert [(r.text, r.metadata["n"]) for r in replies] == \
                [(f"Q{i}", str(i)) for i in range(5)]
            assert all(r.sender_id == "answerer" and r.message_class == "result"
                       for r in replies)
            await answerer.close()
            await server  # iteration ends cleanly on close
    run(main())


def test_request_deadline_and_errors(broker):
    async def main():
        async with aio.connect(broker.address) as a, aio.connect(broker.address) as b:
            await a.register("a")
            await b.register("b")
            with pytest.raises(BusError) as info:
                await a.request("b", text="hello?", timeout=0.3)
            assert info.value.reason == "DEADLINE_EXCEEDED"
            assert info.value.detail == "no reply before the deadline"
            with pytest.raises(BusError) as info:
                await a.send("nobody", text="x")
            assert info.value.reason == "NO_ROUTE"
    run(main())


def test_topic_latent_and_redelivery(broker):
    async def main():
        sender = aio.connect(broker.address)
        await sender.register("sender", spec(), topics=["room"])
        person = aio.connect(broker.address)
        await person.register("person", topics=["room"])
        x = np.random.default_rng(0).standard_normal((3, 64)).astype(np.float32)
        with pytest.raises(BusError) as info:
            await sender.send(topic="room", array=x)
        assert info.value.reason == "NEEDS_TEXT"
        result = await sender.send(topic="room", array=x, text="words")
        assert [(r.agent_id, r.reason) for r in result.recipients] == \
            [("person", "receiver_text_only")]
        d = await person.receive(timeout=5)
        assert (d.text, d.topic, d.delivery_attempt) == ("words", "room", 1)
        await person.close()  # not acked: redelivered to the next stream
        with pytest.raises(StreamClosed):
            await person.receive(timeout=1)
        person2 = aio.connect(broker.address)
        reg = await person2.register("person")
        assert reg.pending_redeliveries == 1
        again = await person2.receive(timeout=5)
        assert (again.message_id, again.delivery_attempt) == (d.message_id, 2)
        await again.ack()
        rq = await sender.route_query("person", has_latent=True)
        assert rq.error is not None and rq.error.reason == "NEEDS_TEXT"
        await person2.close()
        await sender.close()
    run(main())


@pytest.mark.parametrize("protocol", [1, 2])
def test_delivery_credits(broker, protocol):
    async def main():
        async with aio.connect(broker.address) as a, aio.connect(broker.address) as b:
            await a.register("a")
            await b.register("b", credits=2, protocol=protocol)
            for i in range(5):
                await a.send("b", text=str(i))
            for _ in range(500):
                if b.pending_deliveries >= 2:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)
            # The rest waits for credits: returned as deliveries are taken (revision 1)
            # or as they are acked (revision 2).
            assert b.pending_deliveries == 2
            got = []
            for _ in range(5):
                d = await b.receive(timeout=5)
                got.append(d.text)
                await b.ack(d)
            assert got == ["0", "1", "2", "3", "4"]
    run(main())


def test_register_refused(broker):
    async def main():
        bad = spec()
        bad.max_soft_tokens = 0
        async with aio.connect(broker.address) as c:
            with pytest.raises(StreamClosed) as info:
                await c.register("x", bad)
            assert info.value.reason == "INVALID_ARGUMENT"
            assert "max_soft_tokens" in info.value.detail
    run(main())


def test_receive_with_zero_timeout_takes_a_waiting_delivery(broker):
    async def main():
        async with aio.connect(broker.address) as a, aio.connect(broker.address) as b:
            await a.register("zero-a")
            await b.register("zero-b")
            await a.send("zero-b", text="waiting")
            for _ in range(100):  # until it has arrived
                if b.pending_deliveries:
                    break
                await asyncio.sleep(0.02)
            assert (await b.receive(timeout=0)).text == "waiting"
            with pytest.raises(TimeoutError):
                await b.receive(timeout=0)
    run(main())


def with_a_broker_that_stops_reading(broker, while_stopped):
    """Runs `await while_stopped(writer)` with a writer and a reader registered and the
    broker stopped (SIGSTOP: it reads nothing, answers nothing, keeps its sockets), then
    lets the broker go on and checks that the writer came back on a new stream and that
    only what it sends then arrives: whatever it gave up on is not sent later."""
    async def main():
        async with aio.connect(broker.address) as writer, \
                aio.connect(broker.address) as reader:
            await writer.register("writer")
            await reader.register("reader")
            os.kill(broker.process.pid, signal.SIGSTOP)
            try:
                await while_stopped(writer)
            finally:
                os.kill(broker.process.pid, signal.SIGCONT)
            result = await writer.send("reader", text="after", timeout=20)
            assert [r.agent_id for r in result.recipients] == ["reader"]
            assert writer.reconnects >= 1
            delivery = await reader.receive(timeout=10)
            assert delivery.text == "after"
            await delivery.ack()
            assert reader.pending_deliveries == 0
    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_write_the_broker_never_takes_ends_within_the_timeout_and_reconnects(broker):
    """A broker that stops reading leaves a large frame's write waiting on flow control;
    it used to wait until keepalive gave the connection up (~40 s) whatever the send's
    timeout. Now the send fails within its timeout and the stream is reset; a send
    queued behind it gives up without writing anything."""
    async def while_stopped(writer):
        start = time.monotonic()
        big = asyncio.create_task(writer.send("reader", text="x" * (3 << 20), timeout=2))
        await asyncio.sleep(0.3)  # its write waits on flow control
        with pytest.raises(TimeoutError) as queued:
            await writer.send("reader", text="queued", timeout=0.5)
        assert "other writes held the stream" in str(queued.value)
        with pytest.raises(TimeoutError) as info:
            await big
        assert "the broker read nothing within 2 s" in str(info.value)
        took = time.monotonic() - start
        assert took < 15, took  # keepalive alone: ~40 s
    with_a_broker_that_stops_reading(broker, while_stopped)


def test_a_task_cancelled_inside_a_write_leaves_a_client_that_reconnects(broker):
    """grpc.aio cancels the whole call when a task is cancelled inside its write (an
    application's asyncio.timeout around send(), say): that used to read as the client's
    own close, and the client ended for good; the stream is reconnected now."""
    async def while_stopped(writer):
        task = asyncio.create_task(writer.send("reader", text="x" * (3 << 20), timeout=30))
        await asyncio.sleep(0.5)  # its write waits on flow control
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    with_a_broker_that_stops_reading(broker, while_stopped)
