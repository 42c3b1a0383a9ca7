"""The sync client against a real broker (build/bin/latentbus broker on loopback).
tests/broker_stream_test.cc pins the broker's semantics; these tests pin what the SDK
makes of them."""
from __future__ import annotations

import signal
import threading
import time

import numpy as np
import pytest

import latentbus
from latentbus import BusError, StreamClosed, codec

SPEC_A = dict(hidden_size=64, embedding_size=48, max_soft_tokens=16, tap_layer=3, num_layers=8)


def spec(model_id="synthetic-a", preferred="int8/g32"):
    return latentbus.model_spec(model_id, f"fp-{model_id}", preferred_encoding=preferred,
                                **SPEC_A)


def eventually(condition, timeout=5.0) -> bool:
    """Polls `condition` until it holds or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def hidden(rows=4, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, 64)).astype(np.float32)


@pytest.fixture
def connect(broker, clients):
    """connect(agent_id, model=None, **register_kwargs) -> a registered Client."""
    def make(agent_id, model=None, *, address=None, on_error=None, **kwargs):
        client = clients(latentbus.connect(address or broker.address, on_error=on_error))
        client.register(agent_id, model, **kwargs)
        return client
    return make


def test_text_only_register(broker, connect):
    bus = connect("cli-1")
    reg = bus.registered
    assert reg.agent_id == "cli-1"
    assert reg.send_credits == 256  # broker defaults
    assert reg.max_message_bytes == 4 << 20
    assert reg.pending_redeliveries == 0
    assert bus.send_credits == 256
    agents = {a.agent_id: a for a in bus.list_agents()}
    assert agents["cli-1"].connected
    assert agents["cli-1"].model.model_id == ""  # registered without a model


def test_direct_send(connect, uid):
    alice, bob = connect("alice"), connect("bob")
    result = alice.send("bob", text="hello bob", metadata={"k": "v"},
                        message_class="instruction", message_id=f"m-{uid}",
                        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert result.message_id == f"m-{uid}"
    assert [(r.agent_id, r.form) for r in result.recipients] == [("bob", "text")]
    d = bob.receive(timeout=5)
    assert (d.message_id, d.sender_id, d.text) == (f"m-{uid}", "alice", "hello bob")
    assert d.metadata == {"k": "v"}
    assert d.message_class == "instruction"
    assert d.form == "text"
    assert d.delivery_attempt == 1
    assert d.traceparent.startswith("00-0af7651916cd43dd")
    assert d.latent is None
    d.ack()


def test_topic_fan_out_and_unsubscribe(connect):
    pub = connect("pub", topics=["news"])
    s1 = connect("s1", topics=["news"])
    s2 = connect("s2")
    other = connect("other", topics=["sports"])
    s2.subscribe("news")
    result = pub.send(topic="news", text="extra")
    assert sorted(r.agent_id for r in result.recipients) == ["s1", "s2"]
    assert s1.receive(timeout=5).text == "extra"
    d = s2.receive(timeout=5)
    assert (d.text, d.topic) == ("extra", "news")
    for quiet in (other, pub):  # not subscribed / the sender itself
        with pytest.raises(TimeoutError):
            quiet.receive(timeout=0.2)
    s2.unsubscribe("news")
    pub.send(topic="news", text="more")
    assert s1.receive(timeout=5).text == "more"
    with pytest.raises(TimeoutError):
        s2.receive(timeout=0.3)


@pytest.mark.parametrize("protocol", [1, 2])
def test_request_reply(connect, protocol):
    asker = connect("asker", protocol=protocol)
    answerer = connect("answerer", protocol=protocol)
    assert asker._core.protocol == protocol

    def serve():
        d = answerer.receive(timeout=5)
        assert d.expects_reply and d.deadline is not None
        d.reply(text=str(eval(d.text)))  # noqa: S307 - test arithmetic
        d.ack()

    server = threading.Thread(target=serve)
    server.start()
    reply = asker.request("answerer", text="2+2", timeout=5)
    server.join()
    assert reply.text == "4"
    assert reply.sender_id == "answerer"
    assert reply.message_class == "result"
    assert reply.correlation_id != ""
    # The client acked the reply itself, and it never reached receive(); the request was
    # acked by d.ack() (revision 1) or by the reply (revision 2: d.ack() wrote nothing).
    assert eventually(lambda: {a.agent_id: a.unacked
                               for a in asker.list_agents()}["asker"] == 0)
    assert eventually(lambda: {a.agent_id: a.unacked
                               for a in asker.list_agents()}["answerer"] == 0)
    unknown = asker.get_stats().counters.get("latentbus_unknown_acks_total", 0)
    assert unknown == 0
    with pytest.raises(TimeoutError):
        asker.receive(timeout=0.2)


def test_a_lean_request_refused_by_the_broker_raises_its_reason(connect):
    asker = connect("asker")  # revision 2: the request's send asks for no SendResult
    with pytest.raises(BusError) as e:
        asker.request("nobody-here", text="hello?", timeout=5)
    assert e.value.reason == "NO_ROUTE"


def test_request_without_reply_is_deadline_exceeded_from_the_broker(connect):
    asker = connect("asker")
    connect("silent")  # registered, never answers
    start = time.monotonic()
    with pytest.raises(BusError) as info:
        asker.request("silent", text="still there?", timeout=0.4)
    assert info.value.reason == "DEADLINE_EXCEEDED"
    assert info.value.detail == "no reply before the deadline"  # the broker's words
    assert info.value.message_id
    assert time.monotonic() - start < 0.4 + 1.5  # not the client's own grace timeout


def test_latent_reaches_text_only_receiver_as_text(connect, uid):
    sender = connect("sender", spec())
    person = connect("person")
    result = sender.send("person", array=hidden(), text="the same in words")
    assert [(r.agent_id, r.form, r.reason) for r in result.recipients] == \
        [("person", "text", "receiver_text_only")]
    d = person.receive(timeout=5)
    assert d.text == "the same in words"
    assert d.form == "text"
    assert d.latent is None


def test_latent_without_text_needs_text_and_fallback_resends(connect, uid):
    sender = connect("sender", spec())
    connect("person")
    with pytest.raises(BusError) as info:
        sender.send("person", array=hidden(), message_id=f"bare-{uid}")
    assert info.value.reason == "NEEDS_TEXT"
    assert info.value.agent_ids == ("person",)
    assert info.value.message_id == f"bare-{uid}"

    asked = []

    def produce_text():
        asked.append(1)
        return "generated text"

    result = sender.send("person", array=hidden(), message_id=f"again-{uid}",
                         text_fallback=produce_text)
    assert asked == [1]
    assert result.message_id == f"again-{uid}"


def test_python_packets_pass_broker_validation_and_damage_does_not(connect):
    sender = connect("sender", spec())
    connect("twin", spec())  # same model, no bridge: text
    for encoding in ("int4/g32", "int8/g64+rot", "fp16", "bf16+rot:9"):
        result = sender.send("twin", array=hidden(), encoding=encoding, text="t")
        assert result.recipients[0].reason == "no_bridge"
    packet = codec.encode(hidden(), "int4/g32", model_id="synthetic-a",
                          model_fingerprint="fp-synthetic-a", space=codec.Space.HIDDEN, layer=3)
    packet.checksum ^= 1
    with pytest.raises(BusError) as info:
        sender.send("twin", latent=packet, text="t")
    assert info.value.reason == "INVALID_PACKET"
    assert "checksum" in info.value.detail
    with pytest.raises(BusError) as info:
        sender.send("twin", array=hidden(rows=17), text="t")  # max_soft_tokens is 16
    assert info.value.reason == "INVALID_PACKET"
    assert "soft tokens" in info.value.detail


def test_text_only_client_cannot_send_latents(connect):
    person = connect("person")
    connect("alice", spec())
    with pytest.raises(ValueError, match="registered with a model"):
        person.send("alice", array=hidden(), text="x")
    packet = codec.encode(hidden(), "int4/g32", model_id="synthetic-a",
                          model_fingerprint="fp-synthetic-a", space=codec.Space.HIDDEN, layer=3)
    with pytest.raises(BusError) as info:
        person.send("alice", latent=packet, text="x")
    assert info.value.reason == "UNKNOWN_MODEL"


def test_unacked_messages_are_redelivered_after_reconnect(broker, connect, clients, uid):
    alice = connect("alice")
    bob = connect("bob")
    alice.send("bob", text="acked", message_id=f"m1-{uid}")
    alice.send("bob", text="not acked", message_id=f"m2-{uid}")
    first, second = bob.receive(timeout=5), bob.receive(timeout=5)
    assert (first.message_id, second.message_id) == (f"m1-{uid}", f"m2-{uid}")
    first.ack()
    bob.close()
    with pytest.raises(StreamClosed):
        bob.receive(timeout=1)
    bob2 = connect("bob")
    assert bob2.registered.pending_redeliveries == 1
    again = bob2.receive(timeout=5)
    assert (again.message_id, again.text) == (f"m2-{uid}", "not acked")
    assert again.delivery_attempt == 2
    again.ack()
    with pytest.raises(TimeoutError):
        bob2.receive(timeout=0.3)


def test_a_second_stream_for_the_same_id_replaces_the_first(connect):
    old = connect("alice")
    new = connect("alice")
    with pytest.raises(StreamClosed) as info:
        old.receive(timeout=5)
    assert info.value.grpc_code.name == "ABORTED"
    with pytest.raises(StreamClosed):
        old.send("alice", text="x")
    connect("bob").send("alice", text="to the new stream")
    assert new.receive(timeout=5).text == "to the new stream"


def test_unknown_recipient_is_no_route(connect):
    alice = connect("alice")
    with pytest.raises(BusError) as info:
        alice.send("nobody", text="anyone?")
    assert info.value.reason == "NO_ROUTE"
    assert "nobody" in info.value.detail
    with pytest.raises(BusError) as info:
        alice.send(topic="void", text="anyone?")
    assert info.value.reason == "NO_ROUTE"


def test_register_refused_with_the_brokers_reason(broker, clients):
    bad = spec()
    bad.hidden_size = 0
    client = clients(latentbus.connect(broker.address))
    with pytest.raises(StreamClosed) as info:
        client.register("alice", bad)
    assert info.value.reason == "INVALID_ARGUMENT"
    assert "hidden_size" in info.value.detail


def test_oversize_message(start_broker, clients):
    broker = start_broker("--max-message-bytes", "4096")
    alice = clients(latentbus.connect(broker.address))
    alice.register("alice")
    bob = clients(latentbus.connect(broker.address))
    bob.register("bob")
    assert alice.registered.max_message_bytes == 4096
    # On the stream the client refuses first, so the stream survives ...
    with pytest.raises(BusError) as info:
        alice.send("bob", text="x" * 5000)
    assert info.value.reason == "MESSAGE_TOO_LARGE"
    alice.send("bob", text="small")
    assert bob.receive(timeout=5).text == "small"
    # ... and Publish, from a client that learned the limit, is checked the same way.
    with pytest.raises(BusError) as info:
        alice.publish("bob", sender_id="alice", text="x" * 5000)
    assert info.value.reason == "MESSAGE_TOO_LARGE"
    assert "4096" in info.value.detail
    # A client without a stream does not know the broker's limit: the broker refuses.
    script = clients(latentbus.connect(broker.address))
    with pytest.raises(BusError) as info:
        script.publish("bob", sender_id="script", text="x" * 5000)
    assert info.value.reason == "MESSAGE_TOO_LARGE"
    assert "4096" in info.value.detail


def test_delivery_credits_bound_what_waits_in_the_client(connect):
    alice = connect("alice")
    bob = connect("bob", credits=2, protocol=1)
    for i in range(6):
        alice.send("bob", text=f"m{i}")
    assert eventually(lambda: bob.pending_deliveries >= 2)
    time.sleep(0.3)
    assert bob.pending_deliveries == 2  # the broker holds the rest until credits return
    got = [bob.receive(timeout=5).text for _ in range(6)]  # each receive returns a credit
    assert got == [f"m{i}" for i in range(6)]


def test_delivery_credits_bound_what_is_unacked_on_revision_2(connect):
    alice = connect("alice")
    bob = connect("bob", credits=2)
    for i in range(6):
        alice.send("bob", text=f"m{i}")
    got = [bob.receive(timeout=5), bob.receive(timeout=5)]
    with pytest.raises(TimeoutError):  # two unacked: the broker holds the rest
        bob.receive(timeout=0.3)
    for d in got:
        d.ack()  # each ack gives its credit back, no Credit frame
    got += [bob.receive(timeout=5) for _ in range(2)]
    for d in got[2:]:
        d.ack()
    got += [bob.receive(timeout=5) for _ in range(2)]
    assert [d.text for d in got] == [f"m{i}" for i in range(6)]


def test_send_credits_follow_registered_and_credit_frames(start_broker, clients):
    # The broker grants 4 send credits and returns them in Credit frames of 2 as sends
    # complete. 80 sends from 8 threads must never overdraw (NO_CREDIT) nor stall, and
    # the client's window must end where the broker's is: 4.
    broker = start_broker("--send-credits", "4")
    alice = clients(latentbus.connect(broker.address))
    alice.register("alice")
    bob = clients(latentbus.connect(broker.address))
    bob.register("bob", credits=1000)
    assert alice.registered.send_credits == 4
    assert alice._core.protocol == 2  # credits also ride on SendResult frames
    assert alice.send_credits == 4
    errors = []

    def sender(t):
        for i in range(10):
            try:
                alice.send("bob", text=f"{t}-{i}", timeout=5)
            except BusError as e:
                errors.append(e)

    threads = [threading.Thread(target=sender, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({bob.receive(timeout=5).text for _ in range(80)}) == 80
    # Every credit is back, but for at most one still waiting for a frame to ride on
    # (revision 2 writes a Credit frame of its own only for half the window).
    assert eventually(lambda: alice.send_credits >= 3), alice.send_credits
    assert alice.send_credits <= 4


def test_undelivered_deadline_reaches_on_error(broker, connect, uid):
    seen = []
    alice = connect("alice", on_error=seen.append)
    bob = connect("bob", credits=1)
    alice.send("bob", text="takes the only credit")
    alice.send("bob", text="waits", deadline=0.3, message_id=f"late-{uid}")
    assert eventually(lambda: seen)
    time.sleep(0.2)  # nothing else follows
    assert [(e.reason, e.message_id, e.agent_ids) for e in seen] == \
        [("DEADLINE_EXCEEDED", f"late-{uid}", ("bob",))]
    assert bob.receive(timeout=5).text == "takes the only credit"
    with pytest.raises(TimeoutError):
        bob.receive(timeout=0.3)  # the expired one is gone


def test_route_query_and_publish(connect):
    sender = connect("sender", spec())
    person = connect("person", topics=["room"])
    q = sender.route_query(topic="room", has_latent=True)
    assert [(d.agent_id, d.form, d.reason) for d in q.decisions] == \
        [("person", "text", "receiver_text_only")]
    assert q.error is not None and q.error.reason == "NEEDS_TEXT"
    assert sender.route_query(topic="room", has_latent=True, has_text=True).error is None
    with pytest.raises(TimeoutError):
        person.receive(timeout=0.2)  # a query sends nothing
    result = sender.publish(topic="room", sender_id="script", text="from a script")
    assert [r.agent_id for r in result.recipients] == ["person"]
    d = person.receive(timeout=5)
    assert (d.sender_id, d.text) == ("script", "from a script")
    with pytest.raises(BusError) as info:
        sender.publish("nobody", sender_id="script", text="x")
    assert info.value.reason == "NO_ROUTE"


def test_iteration_ends_on_close(connect):
    alice, bob = connect("alice"), connect("bob")
    for i in range(3):
        alice.send("bob", text=str(i))
    seen = []
    for d in bob:
        seen.append(d.text)
        d.ack()
        if len(seen) == 3:
            bob.close()
    assert seen == ["0", "1", "2"]


def test_close_racing_register_answers_it_at_once(broker, clients):
    client = clients(latentbus.connect(broker.address))
    stub = client._stub

    def stub_after_close(address):
        # close() runs between register()'s Register frame and its stream.
        closing = threading.Thread(target=client.close)
        closing.start()
        closing.join(5)
        return stub(address)

    client._stub = stub_after_close
    started = time.monotonic()
    with pytest.raises(StreamClosed, match="the client was closed"):
        client.register("late", timeout=5)  # not a TimeoutError after 5 s
    assert time.monotonic() - started < 2


def test_a_register_that_times_out_leaves_no_agent_behind(broker, clients):
    """The Registered that comes after register() gave up must not leave a registered
    agent with a live stream the application cannot use."""
    client = clients(latentbus.connect(broker.address))
    broker.process.send_signal(signal.SIGSTOP)  # the Registered comes after the timeout
    try:
        with pytest.raises(TimeoutError):
            client.register("late", timeout=0.3)
    finally:
        broker.process.send_signal(signal.SIGCONT)
    admin = clients(latentbus.connect(broker.address))
    deadline = time.monotonic() + 5
    while "late" in [a.agent_id for a in admin.list_agents() if a.connected]:
        assert time.monotonic() < deadline, "the timed-out stream is still registered"
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "latentbus-late"]


def test_revision_1_window_stays_after_a_reconnect(start_broker, clients):
    """Deliveries that came on a stream since lost are not counted against the next one:
    the broker never spent that stream's credits on them, and returning credits for them
    widened the window for good (4 asked, 8 outstanding)."""
    first, second = start_broker(), start_broker()
    receiver = clients(latentbus.connect(f"{first.address},{second.address}",
                                         backoff_initial=0.05, backoff_max=0.2))
    receiver.register("r", credits=4, protocol=1)
    old = clients(latentbus.connect(first.address))
    for i in range(4):
        old.publish("r", sender_id="p", text=f"old{i}")
    assert eventually(lambda: receiver.pending_deliveries == 4)
    first.kill()
    assert eventually(lambda: receiver.reconnects >= 1)
    for _ in range(4):
        assert receiver.receive(timeout=5).text.startswith("old")
    new = clients(latentbus.connect(second.address))
    for i in range(12):
        new.publish("r", sender_id="p", text=f"new{i}")
    assert eventually(lambda: receiver.pending_deliveries == 4)
    time.sleep(0.5)  # room for deliveries beyond the window to arrive, if any would
    assert receiver.pending_deliveries == 4
