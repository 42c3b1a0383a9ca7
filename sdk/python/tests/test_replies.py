"""request() takes its reply only from the agent the request was addressed to.

A correlation id is not a secret, so a third agent that learns a pending request's id
must not be able to answer it. The broker refuses some forgeries itself; these tests do
not rely on that: the deterministic ones hand a forged Deliver frame straight to the
client's dispatcher (the path every frame from the broker takes), and the end-to-end
ones let a real third agent try whatever the broker lets through and check that the
genuine reply is the one returned."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

import latentbus
from latentbus import aio
from latentbus.v1 import broker_pb2, envelope_pb2


def envelope(sender: str, correlation_id: str = "req-1") -> envelope_pb2.Envelope:
    return envelope_pb2.Envelope(message_id=uuid.uuid4().hex, sender_id=sender,
                                 correlation_id=correlation_id, text="x")


def forged_reply(request_id: str, to: str, sender: str = "evil") -> broker_pb2.BrokerFrame:
    """A Deliver frame as the broker would send it, claiming to answer `request_id`."""
    frame = broker_pb2.BrokerFrame()
    e = frame.deliver.envelope
    e.message_id = f"forged-{uuid.uuid4().hex[:8]}"
    e.sender_id = sender
    e.recipient.agent_id = to
    e.correlation_id = request_id
    e.text = "forged answer"
    e.message_class = envelope_pb2.MESSAGE_CLASS_RESULT
    e.delivered_form = envelope_pb2.PAYLOAD_FORM_TEXT
    e.delivery_attempt = 1
    return frame


def try_to_hijack(evil, asker_id: str, request_id: str, topic: str) -> int:
    """A real third agent answers someone else's request: addressed to the requester,
    and through a topic the requester subscribes to. Returns how many of the two the
    broker accepted (it may refuse them: PERMISSION_DENIED, ...)."""
    accepted = 0
    for address in ({"to": asker_id}, {"topic": topic}):
        try:
            evil.send(**address, correlation_id=request_id, text="forged answer",
                      message_class="result")
            accepted += 1
        except latentbus.BusError:
            pass
    return accepted


# -- the rule ------------------------------------------------------------------------------


def test_accepts_reply_only_from_the_addressed_agent():
    from latentbus._replies import accepts_reply

    assert accepts_reply("answerer", envelope("answerer"))
    assert not accepts_reply("answerer", envelope("evil"))
    assert not accepts_reply("answerer", envelope(""))
    assert not accepts_reply("answerer", envelope("Answerer"))  # ids are exact
    # A request to a topic: the broker decides who may answer it.
    assert accepts_reply(None, envelope("evil"))
    assert accepts_reply(None, envelope("answerer"))


# -- sync client ---------------------------------------------------------------------------


@pytest.fixture
def connect(broker, clients):
    def make(agent_id, **kwargs):
        client = clients(latentbus.connect(broker.address))
        client.register(agent_id, **kwargs)
        return client
    return make


def test_forged_reply_frame_is_not_returned_by_request(connect):
    asker, answerer = connect("asker"), connect("answerer")

    def serve():
        d = answerer.receive(timeout=5)
        # The request is pending: a reply from an agent it was not sent to arrives first.
        asker._dispatch(forged_reply(d.message_id, "asker"))
        d.reply(text="genuine answer")
        d.ack()

    server = threading.Thread(target=serve)
    server.start()
    reply = asker.request("answerer", text="question", timeout=5)
    server.join()
    assert (reply.sender_id, reply.text) == ("answerer", "genuine answer")
    assert asker.ignored_replies == 1
    # The forged message is not lost: it is an ordinary delivery, visibly from evil.
    stray = asker.receive(timeout=1)
    assert (stray.sender_id, stray.text) == ("evil", "forged answer")
    with pytest.raises(TimeoutError):
        asker.receive(timeout=0.2)


def test_forged_reply_alone_is_not_a_reply(connect):
    asker = connect("asker")
    connect("silent")  # never answers

    def forge():
        # Once the request is registered as pending, only a forgery arrives.
        for _ in range(500):
            with asker._lock:
                ids = list(asker._core.replies)
            if ids:
                asker._dispatch(forged_reply(ids[0], "asker"))
                return
            time.sleep(0.01)

    forger = threading.Thread(target=forge)
    forger.start()
    with pytest.raises(latentbus.BusError) as info:
        asker.request("silent", text="anyone?", timeout=0.5)
    forger.join()
    assert info.value.reason == "DEADLINE_EXCEEDED"
    assert asker.ignored_replies == 1


def test_genuine_reply_wins_when_a_third_agent_answers_first(connect):
    asker = connect("asker", topics=["news"])
    answerer = connect("answerer")
    evil = connect("evil")
    outcome = {}

    def serve():
        d = answerer.receive(timeout=5)
        outcome["accepted"] = accepted = try_to_hijack(evil, "asker", d.message_id, "news")
        # What the broker let through reaches the requester before the genuine reply.
        for _ in range(500):
            if asker.pending_deliveries >= accepted:
                break
            time.sleep(0.01)
        d.reply(text="genuine answer")
        d.ack()

    server = threading.Thread(target=serve)
    server.start()
    reply = asker.request("answerer", text="question", timeout=5)
    server.join()
    assert (reply.sender_id, reply.text) == ("answerer", "genuine answer")
    assert asker.ignored_replies == outcome["accepted"]
    for _ in range(outcome["accepted"]):
        assert asker.receive(timeout=5).sender_id == "evil"


def test_request_to_a_topic_accepts_any_subscriber(connect):
    asker = connect("asker")
    worker = connect("worker-7", topics=["jobs"])

    def serve():
        d = worker.receive(timeout=5)
        d.reply(text="done")
        d.ack()

    server = threading.Thread(target=serve)
    server.start()
    reply = asker.request(topic="jobs", text="who takes it?", timeout=5)
    server.join()
    assert (reply.sender_id, reply.text) == ("worker-7", "done")
    assert asker.ignored_replies == 0


def test_a_reply_that_fails_before_it_is_sent_leaves_the_ack_to_ack(connect):
    """On revision 2 a reply acks its request; one refused in the client (too large)
    never left, so the application's ack() must still be written, or the delivery credit
    never comes back and the agent receives nothing more."""
    asker = connect("asker")
    worker = connect("worker-1", credits=1)

    def ask():
        try:
            asker.request("worker-1", text="question", timeout=2)
        except (latentbus.BusError, TimeoutError):
            pass  # no reply comes: the test is about the worker's credit

    t = threading.Thread(target=ask)
    t.start()
    d = worker.receive(timeout=5)
    with pytest.raises(latentbus.MessageTooLarge):
        d.reply(text="x" * (5 << 20))  # over the broker's 4 MiB: refused before writing
    d.ack()
    t.join()
    asker.send("worker-1", text="next")
    assert worker.receive(timeout=5).text == "next"  # its one credit came back


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_topic_request_survives_one_subscribers_full_queue(start_broker, clients, protocol):
    """One subscriber's QUEUE_FULL goes to on_error; the request still takes the reply of
    a subscriber that got it (revision 2 used to end the request on any error naming
    it)."""
    broker = start_broker("--max-queue-depth", "1")
    errors = []

    def connect(agent_id, **kwargs):
        client = clients(latentbus.connect(broker.address, on_error=errors.append))
        client.register(agent_id, protocol=protocol, **kwargs)
        return client

    full = connect("full", topics=["jobs"])
    ok = connect("ok", topics=["jobs"])
    asker = connect("asker")
    asker.send("full", text="fills its queue")  # never received: depth 1 reached

    def serve():
        d = ok.receive(timeout=5)
        d.reply(text="answer")
        d.ack()

    server = threading.Thread(target=serve)
    server.start()
    reply = asker.request(topic="jobs", text="question", timeout=5)
    server.join()
    assert (reply.sender_id, reply.text) == ("ok", "answer")
    # The refusal for the full subscriber is an Error frame of its own, which may come
    # after the reply (as in the C++ client's twin of this test): wait for it, 10 s at most.
    deadline = time.monotonic() + 10
    while not errors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [e.reason for e in errors] == ["QUEUE_FULL"]
    assert errors[0].agent_ids == ("full",)
    assert full is not None


# -- asyncio client ------------------------------------------------------------------------


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_aio_forged_reply_frame_is_not_returned_by_request(broker):
    async def main():
        async with aio.connect(broker.address) as asker, \
                aio.connect(broker.address) as answerer:
            await asker.register("asker")
            await answerer.register("answerer")

            async def serve():
                d = await answerer.receive(timeout=5)
                await asker._dispatch(forged_reply(d.message_id, "asker"))
                await d.reply(text="genuine answer")
                await d.ack()

            server = asyncio.create_task(serve())
            reply = await asker.request("answerer", text="question", timeout=5)
            await server
            assert (reply.sender_id, reply.text) == ("answerer", "genuine answer")
            assert asker.ignored_replies == 1
            stray = await asker.receive(timeout=1)
            assert (stray.sender_id, stray.text) == ("evil", "forged answer")
    run(main())


def test_aio_genuine_reply_wins_when_a_third_agent_answers_first(broker, clients):
    evil = clients(latentbus.connect(broker.address))
    evil.register("evil")

    async def main():
        async with aio.connect(broker.address) as asker, \
                aio.connect(broker.address) as answerer:
            await asker.register("asker", topics=["news"])
            await answerer.register("answerer")
            accepted = []

            async def serve():
                d = await answerer.receive(timeout=5)
                accepted.append(await asyncio.to_thread(try_to_hijack, evil, "asker",
                                                        d.message_id, "news"))
                for _ in range(500):
                    if asker.pending_deliveries >= accepted[0]:
                        break
                    await asyncio.sleep(0.01)
                await d.reply(text="genuine answer")
                await d.ack()

            server = asyncio.create_task(serve())
            reply = await asker.request("answerer", text="question", timeout=5)
            await server
            assert (reply.sender_id, reply.text) == ("answerer", "genuine answer")
            assert asker.ignored_replies == accepted[0]
            for _ in range(accepted[0]):
                assert (await asker.receive(timeout=5)).sender_id == "evil"
    run(main())
