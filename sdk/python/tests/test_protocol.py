"""The sans-IO core both clients share (latentbus.protocol), without a broker: frames
go in, and what the transport must write, settle, deliver and report comes out."""
from __future__ import annotations

import collections
import concurrent.futures
import logging
import uuid

import grpc
import pytest

from latentbus import _failover, _frames
from latentbus.errors import BusError, MessageTooLarge, StreamClosed
from latentbus.messages import Delivery
from latentbus.protocol import Outcome, Protocol
from latentbus.v1 import broker_pb2, envelope_pb2, latent_pb2

OWNER = object()  # stands in for the client that deliveries belong to


def waiter() -> concurrent.futures.Future:
    return concurrent.futures.Future()


def make_core(**options) -> tuple[Protocol, list[BusError]]:
    reported: list[BusError] = []
    options = {"timeout": 10.0, "on_error": reported.append, "max_message_bytes": None,
               **options}
    return Protocol(OWNER, **options), reported


def registered_frame(seq: int, send_credits: int = 8,
                     max_message_bytes: int = 0) -> broker_pb2.BrokerFrame:
    frame = broker_pb2.BrokerFrame(seq=seq)
    frame.registered.agent_id = "me"
    frame.registered.send_credits = send_credits
    frame.registered.max_message_bytes = max_message_bytes
    return frame


def register(core: Protocol, credits: int = 64, send_credits: int = 8,
             max_message_bytes: int = 0) -> None:
    """Registers `core` as agent "me" through the frames register() exchanges."""
    future = waiter()
    frame = core.register_frame("me", None, (), credits, future)
    core.complete(core.feed(registered_frame(frame.seq, send_credits, max_message_bytes)),
                  pytest.fail)
    core.on_registered(future.result(0))


def text_envelope(core: Protocol, to: str = "you") -> envelope_pb2.Envelope:
    return core.send_envelope(to=to, text="hi", array=None, encoding=None, latent=None)


def pending_send(core: Protocol, to: str = "you"):
    """A registered core with one send waiting for its answer: (its frame, its waiter)."""
    register(core)
    future = waiter()
    return core.send_frame(text_envelope(core, to), future), future


def deliver_frame(sender: str, correlation_id: str = "",
                  message_id: str | None = None) -> broker_pb2.BrokerFrame:
    frame = broker_pb2.BrokerFrame()
    e = frame.deliver.envelope
    e.message_id = message_id or uuid.uuid4().hex
    e.sender_id = sender
    e.recipient.agent_id = "me"
    e.correlation_id = correlation_id
    e.text = f"from {sender}"
    e.delivered_form = envelope_pb2.PAYLOAD_FORM_TEXT
    return frame


def error_frame(seq: int, reason: int, detail: str = "", message_id: str = "",
                agent_ids=()) -> broker_pb2.BrokerFrame:
    frame = broker_pb2.BrokerFrame(seq=seq)
    frame.error.reason = reason
    frame.error.detail = detail
    frame.error.message_id = message_id
    frame.error.agent_ids.extend(agent_ids)
    return frame


def send_result_frame(seq: int, message_id: str) -> broker_pb2.BrokerFrame:
    frame = broker_pb2.BrokerFrame(seq=seq)
    frame.send_result.message_id = message_id
    outcome = frame.send_result.recipients.add()
    outcome.agent_id, outcome.form, outcome.reason = "you", envelope_pb2.PAYLOAD_FORM_TEXT, \
        "receiver_text_only"
    return frame


def credit_frame(credits: int) -> broker_pb2.BrokerFrame:
    frame = broker_pb2.BrokerFrame()
    frame.credit.credits = credits
    return frame


def ack(message_id: str, sender: str) -> broker_pb2.AgentFrame:
    return _frames.ack(message_id, sender)


def credit(credits: int) -> broker_pb2.AgentFrame:
    return _frames.credit(credits)


# -- requests and their answers ----------------------------------------------------------


def test_register_is_answered_by_registered_with_its_seq():
    core, _ = make_core()
    future = waiter()
    frame = core.register_frame("me", None, ("news",), 16, future)
    assert frame.seq == 1  # never 0: the broker's unsolicited frames carry 0
    assert (frame.register.agent_id, list(frame.register.topics),
            frame.register.initial_credits) == ("me", ["news"], 16)
    assert core.agent_id is None  # not until the registration is taken

    answer = registered_frame(frame.seq, send_credits=5, max_message_bytes=1000)
    outcome = core.feed(answer)
    assert outcome == Outcome(settle=[(future, answer)], credits_changed=True)
    assert core.send_credits == 5
    core.complete(outcome, pytest.fail)
    registered = core.on_registered(future.result(0))
    assert (core.agent_id, registered.send_credits, core.max_message_bytes) == ("me", 5, 1000)
    assert core.registered is registered
    # The next request gets the next number.
    assert core.subscribe_frame("news", False, waiter()).seq == 2


def test_calls_that_need_a_registration_refuse_before_it():
    core, _ = make_core()
    with pytest.raises(RuntimeError, match=r"register\(\) first"):
        core.subscribe_frame("news", True, waiter())
    with pytest.raises(RuntimeError, match=r"register\(\) first"):
        text_envelope(core)
    # Bad arguments are reported first.
    with pytest.raises(ValueError, match="not both"):
        core.send_envelope(to="you", topic="t", text="hi", array=None, encoding=None,
                           latent=None)
    with pytest.raises(ValueError, match="window must be >= 1"):
        core.register_frame("me", None, (), 0, waiter())


def test_send_is_answered_by_its_send_result_and_the_envelope_names_the_sender():
    core, reported = make_core()
    register(core)
    envelope = text_envelope(core)
    assert envelope.sender_id == "me"
    future = waiter()
    frame = core.send_frame(envelope, future)
    assert frame.send.envelope == envelope

    other = core.send_frame(envelope, waiter())  # a second send in flight
    outcome = core.feed(send_result_frame(frame.seq, envelope.message_id))
    assert outcome.settle == [(future, send_result_frame(frame.seq, envelope.message_id))]
    core.complete(outcome, pytest.fail)
    result = core.send_result(future.result(0))
    assert result.message_id == envelope.message_id
    assert [(r.agent_id, r.form, r.reason) for r in result.recipients] == \
        [("you", "text", "receiver_text_only")]
    # An answer is taken once; a repeat, or an answer nobody asked for, settles nothing.
    assert core.feed(send_result_frame(frame.seq, envelope.message_id)) == Outcome()
    assert core.feed(send_result_frame(other.seq + 1, "x")) == Outcome()
    assert reported == []


def test_an_error_answering_a_request_fails_it():
    core, reported = make_core()
    frame, future = pending_send(core, to="nobody")
    outcome = core.feed(error_frame(frame.seq, broker_pb2.NO_ROUTE, "no agent 'nobody'"))
    core.complete(outcome, pytest.fail)
    error = future.exception(0)
    assert isinstance(error, BusError) and str(error) == "NO_ROUTE: no agent 'nobody'"
    assert reported == []


def test_a_timed_out_request_is_forgotten_and_its_late_answer_dropped():
    core, reported = make_core()
    frame, future = pending_send(core)
    error = core.timed_out(frame, 1.5)
    assert isinstance(error, TimeoutError)
    assert str(error) == "no SendResult from the broker within 1.5 s"
    assert core.feed(send_result_frame(frame.seq, "late")) == Outcome()
    # A late refusal answers nothing any more: it goes to on_error.
    late = core.feed(error_frame(frame.seq, broker_pb2.QUEUE_FULL))
    assert late.settle == [] and late.error.reason == "QUEUE_FULL"
    core.complete(late, pytest.fail)
    assert [e.reason for e in reported] == ["QUEUE_FULL"]
    assert not future.done()

    subscribe = core.subscribe_frame("news", True, waiter())
    assert str(core.timed_out(subscribe, 2)) == "no SubscribeResult from the broker within 2 s"
    unsubscribe = core.subscribe_frame("news", False, waiter())
    assert str(core.timed_out(unsubscribe, 2)) == \
        "no SubscribeResult from the broker within 2 s"
    fresh, _ = make_core()
    registering = fresh.register_frame("me", None, (), 4, waiter())
    assert str(fresh.timed_out(registering, 3.0)) == \
        "no Registered from the broker within 3.0 s"


def test_an_answer_for_a_waiter_already_done_is_not_taken():
    # An asyncio future can be cancelled under the core; its answer is then no answer.
    core, reported = make_core()
    frame, future = pending_send(core)
    future.cancel()
    outcome = core.feed(error_frame(frame.seq, broker_pb2.NO_ROUTE))
    assert outcome.settle == [] and outcome.error.reason == "NO_ROUTE"
    # Likewise a request() whose waiter is done: its DEADLINE_EXCEEDED goes to on_error.
    reply = waiter()
    core.expect_reply("you", "req-1", reply)
    reply.cancel()
    outcome = core.feed(error_frame(0, broker_pb2.DEADLINE_EXCEEDED, "", "req-1"))
    assert outcome.settle == [] and outcome.error.message_id == "req-1"
    assert reported == []  # the transport reports it, through complete()


# -- NEEDS_TEXT ----------------------------------------------------------------------------


def test_needs_text_triggers_a_resend_with_text_and_the_same_message_id():
    core, reported = make_core()
    register(core)
    packet = latent_pb2.LatentPacket(model_id="m")
    envelope = core.send_envelope(to="person", latent=packet, array=None, encoding=None)
    first = waiter()
    frame = core.send_frame(envelope, first)
    core.complete(core.feed(error_frame(frame.seq, broker_pb2.NEEDS_TEXT, "needs text",
                                        envelope.message_id, ["person"])), pytest.fail)
    refusal = first.exception(0)
    assert (refusal.reason, refusal.agent_ids) == ("NEEDS_TEXT", ("person",))

    fallback = lambda: "in words"  # noqa: E731
    assert core.resends_with_text(refusal, envelope, fallback)
    envelope.text = fallback()
    again = core.send_frame(envelope, waiter())
    assert again.seq != frame.seq
    assert (again.send.envelope.message_id, again.send.envelope.text) == \
        (envelope.message_id, "in words")
    assert again.send.envelope.latent == packet
    # Once: an envelope that already has text is not resent, nor without a fallback,
    # nor for another refusal.
    assert not core.resends_with_text(refusal, envelope, fallback)
    envelope.ClearField("text")
    assert not core.resends_with_text(refusal, envelope, None)
    assert not core.resends_with_text(BusError("NO_ROUTE"), envelope, fallback)
    assert reported == []


# -- replies -------------------------------------------------------------------------------


def test_a_reply_from_an_agent_the_request_did_not_address_is_ignored(caplog):
    core, reported = make_core()
    register(core)
    future = waiter()
    request_id = core.expect_reply("answerer", "req-1", future)
    assert request_id == "req-1"

    forged = deliver_frame("evil", correlation_id="req-1")
    with caplog.at_level(logging.WARNING, logger="latentbus"):
        outcome = core.feed(forged)
    assert outcome.writes == [] and outcome.settle == []
    assert isinstance(outcome.delivery, Delivery)  # an ordinary delivery for receive()
    assert (outcome.delivery.sender_id, outcome.delivery.envelope) == \
        ("evil", forged.deliver.envelope)
    assert core.ignored_replies == 1
    assert "ignored a reply to request req-1 from evil" in caplog.text
    assert "req-1" in core.replies and not future.done()

    genuine = deliver_frame("answerer", correlation_id="req-1", message_id="r-1")
    outcome = core.feed(genuine)
    assert outcome.delivery is None
    assert outcome.writes == [ack("r-1", "answerer")]  # the client acks what it takes
    [(settled, delivery)] = outcome.settle
    assert settled is future and delivery.envelope == genuine.deliver.envelope
    assert core.replies == {} and core.ignored_replies == 1
    # A second reply to the same request is an ordinary delivery.
    assert core.feed(deliver_frame("answerer", correlation_id="req-1")).delivery is not None


def test_a_request_to_a_topic_takes_its_reply_from_any_sender():
    core, _ = make_core()
    register(core)
    future = waiter()
    request_id = core.expect_reply(None, None, future)
    assert len(request_id) == 32  # a new message id
    outcome = core.feed(deliver_frame("worker-7", correlation_id=request_id))
    [(settled, delivery)] = outcome.settle
    assert settled is future and delivery.sender_id == "worker-7"
    assert core.ignored_replies == 0


def test_a_forgotten_request_takes_no_reply():
    core, _ = make_core()
    register(core)
    core.expect_reply("answerer", "req-1", waiter())
    core.forget_reply("req-1")
    outcome = core.feed(deliver_frame("answerer", correlation_id="req-1"))
    assert outcome.settle == [] and outcome.delivery.sender_id == "answerer"
    error = core.no_reply("req-1", 0.5)
    assert (str(error), error.message_id) == ("DEADLINE_EXCEEDED: no reply within 0.5 s",
                                              "req-1")


def test_deadline_exceeded_for_a_pending_request_fails_it_other_errors_go_to_on_error():
    core, reported = make_core()
    register(core)
    future = waiter()
    core.expect_reply("answerer", "req-1", future)
    outcome = core.feed(error_frame(0, broker_pb2.DEADLINE_EXCEEDED, "expired", "req-1"))
    assert outcome.error is None
    core.complete(outcome, pytest.fail)
    assert future.exception(0).reason == "DEADLINE_EXCEEDED"
    assert core.replies == {}

    # Not a pending request, or not DEADLINE_EXCEEDED: the error answers no call.
    core.expect_reply("answerer", "req-2", waiter())
    for frame in (error_frame(0, broker_pb2.DEADLINE_EXCEEDED, "expired", "plain-send"),
                  error_frame(0, broker_pb2.QUEUE_FULL, "full", "req-2", ["a", "b"])):
        outcome = core.feed(frame)
        assert outcome.settle == []
        core.complete(outcome, pytest.fail)
    assert [(e.reason, e.message_id, e.agent_ids) for e in reported] == \
        [("DEADLINE_EXCEEDED", "plain-send", ()), ("QUEUE_FULL", "req-2", ("a", "b"))]
    assert "req-2" in core.replies


# -- credits -------------------------------------------------------------------------------


@pytest.mark.parametrize("window, batches", [(64, [32, 32]), (4, [2, 2]), (5, [2, 2]),
                                             (1, [1, 1]), (2, [1, 1])])
def test_delivery_credits_are_returned_in_batches_of_half_the_window(window, batches):
    core, _ = make_core()
    register(core, credits=window)
    returned = []
    for _ in range(max(1, window // 2) * len(batches)):
        frame = core.consumed()
        if frame is not None:
            returned.append(frame)
    assert returned == [credit(n) for n in batches]


def test_a_reply_the_client_takes_counts_as_a_consumed_delivery():
    core, _ = make_core()
    register(core, credits=4)  # a Credit frame per 2 deliveries taken
    assert core.consumed() is None  # one taken by receive()
    core.expect_reply("answerer", "req-1", waiter())
    outcome = core.feed(deliver_frame("answerer", correlation_id="req-1", message_id="r-1"))
    assert outcome.writes == [ack("r-1", "answerer"), credit(2)]
    # An ordinary delivery is counted only when the application takes it.
    assert core.feed(deliver_frame("someone")).writes == []
    assert core.consumed() is None


def test_send_credits_follow_registered_and_credit_frames():
    core, _ = make_core()
    register(core, send_credits=1)
    assert core.send_credits == 1
    assert core.take_send_credit(deadline=100.0, now=0.0) is None  # taken
    assert core.send_credits == 0
    assert core.take_send_credit(deadline=100.0, now=40.0) == 60.0  # wait, then ask again
    with pytest.raises(BusError) as info:
        core.take_send_credit(deadline=100.0, now=100.0)
    assert str(info.value) == "NO_CREDIT: the broker granted no send credit in time"

    assert core.feed(credit_frame(3)) == Outcome(credits_changed=True)
    assert core.send_credits == 3  # Credit adds
    assert core.feed(registered_frame(0, send_credits=2)).credits_changed
    assert core.send_credits == 2  # Registered sets


# -- the end of the stream -----------------------------------------------------------------


class FakeRpcError(grpc.RpcError):
    def code(self):
        return grpc.StatusCode.ABORTED

    def details(self):
        return "[PERMISSION_DENIED] another stream registered this agent id"


def pending_everything(core: Protocol) -> list[concurrent.futures.Future]:
    futures = [waiter(), waiter()]
    core.send_frame(text_envelope(core), futures[0])
    core.expect_reply("you", "req-1", futures[1])
    return futures


def test_the_end_fails_every_pending_call_and_every_later_one():
    core, reported = make_core()
    register(core)
    futures = pending_everything(core)
    outcome = core.ended(FakeRpcError())
    assert outcome.credits_changed  # senders waiting for a credit must see the end
    core.complete(outcome, pytest.fail)
    end = core.end
    assert isinstance(end, StreamClosed) and end.grpc_code == grpc.StatusCode.ABORTED
    assert end.reason == "PERMISSION_DENIED"
    assert [f.exception(0) for f in futures] == [end, end]
    for call in (core.check_open,
                 lambda: core.take_send_credit(deadline=1.0, now=0.0),
                 lambda: core.send_frame(envelope_pb2.Envelope(), waiter()),
                 lambda: core.expect_reply("you", None, waiter())):
        with pytest.raises(StreamClosed) as info:
            call()
        assert info.value is end
    assert reported == []


def test_how_the_stream_ended_decides_the_error():
    core, _ = make_core()
    core.ended(None)
    assert (str(core.end), core.end.grpc_code) == \
        ("ERROR_REASON_UNSPECIFIED: the broker ended the stream", grpc.StatusCode.OK)

    core, _ = make_core()
    chosen = StreamClosed.closed_locally()
    core.ended(chosen)
    assert core.end is chosen

    # After close() the stream ended locally, whatever the read said.
    core, _ = make_core()
    assert core.close() and not core.close()
    core.ended(FakeRpcError())
    assert (str(core.end), core.end.grpc_code) == \
        ("ERROR_REASON_UNSPECIFIED: the client was closed", grpc.StatusCode.CANCELLED)


def test_a_bug_in_the_reader_ends_the_stream_and_is_logged(caplog):
    core, _ = make_core()
    register(core)
    futures = pending_everything(core)
    try:
        raise KeyError("boom")
    except KeyError as e:
        bug = e
    with caplog.at_level(logging.ERROR, logger="latentbus"):
        core.complete(core.ended(bug), pytest.fail)
    assert str(core.end) == "INTERNAL: client reader failed: KeyError('boom')"
    assert all(f.exception(0) is core.end for f in futures)
    [record] = caplog.records
    assert record.getMessage() == "latentbus: reader failed" and record.exc_info[1] is bug


def test_a_closed_client_refuses_new_requests():
    core, _ = make_core()
    core.close()
    with pytest.raises(StreamClosed, match="the client was closed"):
        core.register_frame("me", None, (), 4, waiter())


# -- everything else -----------------------------------------------------------------------


def test_an_ordinary_delivery_goes_to_receive_in_order():
    core, _ = make_core()
    register(core)
    queue = []
    for sender in ("a", "b", "c"):
        outcome = core.feed(deliver_frame(sender))
        assert (outcome.writes, outcome.settle) == ([], [])
        core.complete(outcome, queue.append)
    assert [d.sender_id for d in queue] == ["a", "b", "c"]
    assert all(d._client is OWNER for d in queue)  # ack() and reply() go to the client


def test_go_away_is_recorded_and_unknown_frames_are_ignored(caplog):
    core, _ = make_core()
    frame = broker_pb2.BrokerFrame()
    frame.go_away.SetInParent()
    with caplog.at_level(logging.WARNING, logger="latentbus"):
        assert core.feed(frame) == Outcome()
    assert core.go_away == "the broker is draining"
    assert "broker going away: the broker is draining" in caplog.text
    frame.go_away.detail = "restarting"
    core.feed(frame)
    assert core.go_away == "restarting"
    assert core.feed(broker_pb2.BrokerFrame()) == Outcome()


def test_an_on_error_callback_that_raises_is_logged(caplog):
    def on_error(error):
        raise RuntimeError("callback bug")

    core, _ = make_core(on_error=on_error)
    with caplog.at_level(logging.ERROR, logger="latentbus"):
        core.complete(core.feed(error_frame(0, broker_pb2.QUEUE_FULL)), pytest.fail)
    assert "on_error callback failed" in caplog.text


def test_unsolicited_errors_are_logged_by_default(caplog):
    core, _ = make_core(on_error=None)
    with caplog.at_level(logging.WARNING, logger="latentbus"):
        core.complete(core.feed(error_frame(0, broker_pb2.QUEUE_FULL, "full", "m-1",
                                            ["a", "b"])), pytest.fail)
    assert "latentbus: QUEUE_FULL: full (message m-1, agents a,b)" in caplog.text


def test_the_size_limit_is_the_option_until_the_broker_announces_one():
    core, _ = make_core(max_message_bytes=300)
    big = dict(to="you", text="x" * 400, array=None, encoding=None, latent=None)
    with pytest.raises(MessageTooLarge) as info:
        core.publish_request(sender_id="me", **big)
    assert info.value.limit == 300
    register(core, max_message_bytes=1000)
    envelope = core.send_envelope(**big)
    core.check_size(envelope)  # under the broker's 1000
    assert core.publish_request(sender_id=None, **big).envelope.sender_id == "me"
    with pytest.raises(ValueError, match="max_message_bytes must be an int"):
        make_core(max_message_bytes=-1)


# -- stream protocol revision 2 (broker.proto, "Protocol revision 2") ------------------------


def register_lean(core: Protocol, credits: int = 4, send_credits: int = 8) -> None:
    """Registers `core` on revision 2 (the broker answers Registered.protocol = 2)."""
    future = waiter()
    frame = core.register_frame("me", None, (), credits, future)
    assert frame.register.protocol == 2  # offered by default
    answer = registered_frame(frame.seq, send_credits)
    answer.registered.protocol = 2
    core.complete(core.feed(answer), pytest.fail)
    core.on_registered(future.result(0))
    assert core.lean


def test_an_older_broker_keeps_the_client_on_revision_1():
    core, _ = make_core()
    register(core)  # Registered without a protocol: a broker before revision 2
    assert core.protocol == 1 and not core.lean
    assert core.request_wants_result(None)
    with pytest.raises(ValueError):
        core.register_frame("me", None, (), 4, waiter(), protocol=3)


def test_a_lean_request_asks_for_no_send_result_and_an_error_naming_it_ends_it():
    core, reported = make_core()
    register_lean(core)
    assert not core.request_wants_result(None)
    assert core.request_wants_result(lambda: "text")  # a NEEDS_TEXT resend needs the answer
    future = waiter()
    core.expect_reply("answerer", "req-1", future)
    frame = core.send_frame(text_envelope(core, "answerer"), None)
    assert not frame.send.want_result
    # No waiter is kept for it: an Error with its seq finds the request by message id.
    outcome = core.feed(error_frame(frame.seq, broker_pb2.QUEUE_FULL, "full", "req-1"))
    core.complete(outcome, pytest.fail)
    assert future.exception(0).reason == "QUEUE_FULL"
    assert reported == []
    # An ordinary send still asks for its answer.
    assert core.send_frame(text_envelope(core), waiter()).send.want_result


def test_lean_acks_give_credits_back_so_no_credit_frames_are_written():
    core, _ = make_core()
    register_lean(core, credits=2)
    assert [core.consumed() for _ in range(4)] == [None] * 4
    core.expect_reply("answerer", "req-1", waiter())
    outcome = core.feed(deliver_frame("answerer", correlation_id="req-1", message_id="r-1"))
    assert outcome.writes == [ack("r-1", "answerer")]  # and no Credit frame


def test_a_reply_acks_its_request_so_a_later_ack_writes_nothing():
    core, _ = make_core()
    register_lean(core)
    request = Delivery(deliver_frame("asker", message_id="req-1").deliver.envelope, OWNER)
    other = Delivery(deliver_frame("asker", message_id="req-2").deliver.envelope, OWNER)
    core.replying(request)
    assert core.ack_frame(request) is None
    assert core.ack_frame(request) == ack("req-1", "asker")  # remembered once
    assert core.ack_frame(other) == ack("req-2", "asker")


def test_on_revision_1_a_reply_does_not_ack():
    core, _ = make_core()
    register(core)
    request = Delivery(deliver_frame("asker", message_id="req-1").deliver.envelope, OWNER)
    core.replying(request)
    assert core.ack_frame(request) == ack("req-1", "asker")


def test_send_credits_riding_on_any_frame_are_added():
    core, _ = make_core()
    register_lean(core, send_credits=8)
    frame = deliver_frame("someone")
    frame.send_credits = 3
    outcome = core.feed(frame)
    assert outcome.credits_changed and outcome.delivery is not None
    assert core.send_credits == 11


# -- failover (latentbus._failover) ----------------------------------------------------------


class Unavailable(grpc.RpcError):
    def __init__(self, code=grpc.StatusCode.UNAVAILABLE):
        self._code = code

    def code(self):
        return self._code

    def details(self):
        return "Socket closed"


def test_a_lost_stream_goes_back_to_its_broker_first_then_to_the_next_ones():
    core, _ = make_core(addresses=("a:1", "b:2", "c:3"), backoff_initial=0.1, backoff_max=0.4)
    register(core)
    assert core.connected and core.address == "a:1"
    steps = [(core.lost(Unavailable()), core.address) for _ in range(5)]
    assert [address for _, address in steps] == ["a:1", "b:2", "c:3", "a:1", "b:2"]
    # Jittered doubling: [nominal/2, nominal], nominal 0.1, 0.2, 0.4, 0.4, ...
    for (wait, _), nominal in zip(steps, [0.1, 0.2, 0.4, 0.4, 0.4]):
        assert nominal / 2 <= wait <= nominal
    assert not core.connected and core.send_credits == 0 and core.end is None


def test_after_a_go_away_the_next_broker_comes_first():
    core, _ = make_core(addresses=("a:1", "b:2"))
    register(core)
    frame = broker_pb2.BrokerFrame()
    frame.go_away.detail = "broker is shutting down"
    core.feed(frame)
    assert core.lost(Unavailable()) is not None
    assert core.address == "b:2"


@pytest.mark.parametrize("code", sorted(_failover.FINAL_CODES, key=lambda c: c.name))
def test_a_final_end_is_not_reconnected(code):
    core, _ = make_core(addresses=("a:1", "b:2"))
    register(core)
    assert core.lost(Unavailable(code)) is None


def test_ends_the_client_chose_or_a_bug_caused_are_not_reconnected_nor_is_a_client_told_not_to():
    for cause in (StreamClosed.closed_locally(), KeyError("bug")):
        core, _ = make_core()
        register(core)
        assert core.lost(cause) is None
    core, _ = make_core(reconnect=False)
    register(core)
    assert core.lost(Unavailable()) is None
    core, _ = make_core()
    register(core)
    core.close()
    assert core.lost(Unavailable()) is None
    # The broker ending the stream with OK is no reason to stop.
    core, _ = make_core()
    register(core)
    assert core.lost(None) is not None


def test_the_first_registration_moves_on_at_once_past_unreachable_brokers_only():
    core, _ = make_core(addresses=("a:1", "b:2"))
    frame = core.register_frame("me", None, (), 4, waiter())
    assert core.lost(Unavailable()) == 0.0 and core.address == "b:2"
    assert core.reopen_frame() is frame  # the same Register, its waiter still waiting
    assert core.lost(Unavailable()) is None  # every broker tried once
    core, _ = make_core(addresses=("a:1", "b:2"))
    core.register_frame("me", None, (), 4, waiter())
    assert core.lost(Unavailable(grpc.StatusCode.UNAUTHENTICATED)) is None  # the answer


def test_registering_again_writes_every_unanswered_request_with_the_same_frame():
    core, _ = make_core(addresses=("a:1", "b:2"))
    future = waiter()
    first = core.register_frame("me", None, ("news", "news"), 4, future, protocol=2)
    core.complete(core.feed(registered_frame(first.seq, send_credits=8)), pytest.fail)
    core.on_registered(future.result(0))
    subscribe = core.subscribe_frame("sport", True, waiter())
    assert core.claim(subscribe)
    answer = broker_pb2.BrokerFrame(seq=subscribe.seq)
    answer.subscribe_result.topic, answer.subscribe_result.subscribed = "sport", True
    core.feed(answer)
    answered = core.send_frame(text_envelope(core), waiter())
    core.claim(answered)
    core.feed(send_result_frame(answered.seq, answered.send.envelope.message_id))
    unanswered_waiter = waiter()
    unanswered = core.send_frame(text_envelope(core), unanswered_waiter)
    assert core.claim(unanswered)
    reply = waiter()
    request_id = core.expect_reply("you", None, reply)
    request = core.send_frame(core.request_envelope(to="you", topic=None, text="q?",
                                                    message_id=request_id, timeout=5), None)
    assert core.claim(request)

    assert core.lost(Unavailable()) is not None
    meanwhile = core.send_frame(text_envelope(core), waiter())
    assert not core.claim(meanwhile)  # no stream: the next one writes it
    again = core.reopen_frame()
    assert (again.register.agent_id, list(again.register.topics),
            again.register.initial_credits, again.register.protocol) == \
        ("me", ["news", "sport"], 4, 2)
    outcome = core.feed(registered_frame(again.seq, send_credits=8))
    assert outcome.writes == [unanswered, request, meanwhile]  # same seqs and message ids
    assert outcome.settle == [] and outcome.credits_changed
    assert core.reconnects == 1 and core.connected
    assert core.send_credits == 8 - 3  # a credit for each send written again
    assert not unanswered_waiter.done() and not reply.done()
    # Their answers come on the new stream.
    core.complete(core.feed(send_result_frame(unanswered.seq, "x")), pytest.fail)
    assert unanswered_waiter.done()
    core.complete(core.feed(deliver_frame("you", correlation_id=request_id)), pytest.fail)
    assert reply.result(0).sender_id == "you"
    core.forget_reply(request_id)
    # A second loss resends only what is still unanswered.
    core.lost(Unavailable())
    third = core.reopen_frame()
    assert core.feed(registered_frame(third.seq)).writes == [meanwhile]
    assert core.reconnects == 2


def test_a_request_built_before_the_reconnect_and_claimed_after_it_is_written_once():
    core, _ = make_core()
    register(core)
    future = waiter()
    frame = core.send_frame(text_envelope(core), future)  # not claimed yet: the stream breaks
    core.lost(Unavailable())
    again = core.reopen_frame()
    assert core.feed(registered_frame(again.seq)).writes == [frame]
    assert not core.claim(frame)  # the Registered wrote it already
    newer = core.send_frame(text_envelope(core), waiter())
    assert core.claim(newer)


def test_sends_written_again_take_send_credits_and_the_rest_wait_for_them():
    core, _ = make_core()
    register_lean(core, send_credits=8)
    # Revision 2: four request()s wait for their replies; the broker took their sends and
    # gave each credit back, so more are pending than the next broker will grant.
    requests = []
    for i in range(4):
        request_id = core.expect_reply("you", f"req-{i}", waiter())
        frame = core.send_frame(core.request_envelope(
            to="you", topic=None, text="q?", message_id=request_id, timeout=5), None)
        assert core.claim(frame)
        requests.append(frame)
    subscribe = core.subscribe_frame("news", True, waiter())
    assert core.claim(subscribe)
    core.lost(Unavailable())
    again = core.reopen_frame()
    registered = registered_frame(again.seq, send_credits=1)
    registered.registered.protocol = 2
    # One credit: the first send, and the subscribe (no credit needed); the rest wait.
    assert core.feed(registered).writes == [requests[0], subscribe]
    assert core.send_credits == 0 and not core.claim(requests[1])
    assert core.take_send_credit(deadline=1.0, now=0.0) == 1.0  # newer sends wait behind
    assert core.feed(credit_frame(1)).writes == [requests[1]]
    core.forget_reply("req-2")  # timed out meanwhile: dropped, no credit taken
    riding = deliver_frame("someone")
    riding.send_credits = 3
    assert core.feed(riding).writes == [requests[3]]
    assert core.send_credits == 2  # free again for newer sends
    assert core.take_send_credit(deadline=1.0, now=0.0) is None


def test_a_repeat_of_an_acked_delivery_is_acked_again_and_not_handed_over():
    core, _ = make_core()
    register(core)
    acked = core.feed(deliver_frame("you", message_id="m1")).delivery
    assert core.ack_frame(acked) == ack("m1", "you")
    repeat = core.feed(deliver_frame("you", message_id="m1"))
    assert repeat == Outcome(writes=[ack("m1", "you")])
    assert core.repeats_dropped == 1
    # Not acked yet: handed over again. The same id from another sender is another message.
    assert core.feed(deliver_frame("you", message_id="m2")).delivery is not None
    assert core.feed(deliver_frame("you", message_id="m2")).delivery is not None
    assert core.feed(deliver_frame("them", message_id="m1")).delivery is not None
    assert core.repeats_dropped == 1


def test_acking_a_delivery_takes_its_repeats_waiting_in_the_inbox():
    core, _ = make_core()
    register(core, credits=2)  # revision 1: a Credit frame per delivery consumed
    first, other, repeat = (core.feed(deliver_frame(sender, message_id=message_id)).delivery
                            for sender, message_id in (("you", "m1"), ("them", "m1"),
                                                       ("you", "m1")))
    assert repeat is not None  # not acked yet when it came: queued like any delivery
    end = object()  # a transport's own sentinel
    inbox = collections.deque([other, repeat, end])
    assert core.consumed() == credit(1)  # the application took `first`
    assert core.ack_frame(first) == ack("m1", "you")
    assert core.take_queued_repeats(first, inbox) == [ack("m1", "you"), credit(1)]
    assert list(inbox) == [other, end] and core.repeats_dropped == 1
    # dedup_window=0 hands every delivery over.
    core, _ = make_core(dedup_window=0)
    register(core)
    first, repeat = (core.feed(deliver_frame("you", message_id="m1")).delivery
                     for _ in range(2))
    inbox = collections.deque([repeat])
    core.ack_frame(first)
    assert core.take_queued_repeats(first, inbox) == [] and list(inbox) == [repeat]


def test_a_send_never_written_is_forgotten_and_gives_its_credit_back():
    core, _ = make_core()
    register(core, send_credits=2)
    assert core.take_send_credit(deadline=1.0, now=0.0) is None
    frame = core.send_frame(text_envelope(core, "you"), waiter())
    assert core.claim(frame) and core.send_credits == 1
    error = core.unsent(frame, 2.0)
    assert isinstance(error, TimeoutError) and "was not sent" in str(error)
    assert core.send_credits == 2
    # Forgotten: a reconnect does not write it again.
    core.lost(Unavailable())
    again = core.reopen_frame()
    assert core.feed(registered_frame(again.seq, send_credits=8)).writes == []


def test_a_reply_keeps_repeats_of_its_request_from_the_application_as_an_ack_does():
    core, _ = make_core()
    register_lean(core)
    request = core.feed(deliver_frame("you", message_id="q1")).delivery
    core.replying(request)  # revision 2: the reply acks the request
    # A redelivery (the reply lost with a stream) is acked again, not handed over...
    repeat = core.feed(deliver_frame("you", message_id="q1"))
    assert repeat.delivery is None and core.repeats_dropped == 1
    # ...as is a copy that was already waiting in the inbox when the reply went.
    queued = core.feed(deliver_frame("you", message_id="q2")).delivery
    waiting = core.feed(deliver_frame("you", message_id="q2")).delivery
    inbox = collections.deque([waiting])
    core.replying(queued)
    assert core.take_queued_repeats(queued, inbox) and not inbox
    assert core.repeats_dropped == 2
    # A reply that failed acked nothing: repeats are handed over, and ack() writes its Ack.
    failed = core.feed(deliver_frame("you", message_id="q3")).delivery
    core.replying(failed)
    core.reply_failed(failed)
    assert core.feed(deliver_frame("you", message_id="q3")).delivery is not None
    # ...but not when the application had acked the request before the reply failed.
    acked = core.feed(deliver_frame("you", message_id="q4")).delivery
    core.ack_frame(acked)
    core.replying(acked)
    core.reply_failed(acked)
    assert core.feed(deliver_frame("you", message_id="q4")).delivery is None
    # Revision 1: a reply acks nothing; the request's ack() does.
    core, _ = make_core()
    register(core)
    request = core.feed(deliver_frame("you", message_id="q1")).delivery
    core.replying(request)
    assert core.feed(deliver_frame("you", message_id="q1")).delivery is not None


def test_the_dedup_window_forgets_the_oldest_and_0_turns_it_off():
    core, _ = make_core(dedup_window=2)
    register(core)
    for message_id in ("m1", "m2", "m3"):
        core.ack_frame(core.feed(deliver_frame("you", message_id=message_id)).delivery)
    assert core.feed(deliver_frame("you", message_id="m1")).delivery is not None
    assert core.feed(deliver_frame("you", message_id="m3")).delivery is None
    core, _ = make_core(dedup_window=0)
    register(core)
    core.ack_frame(core.feed(deliver_frame("you", message_id="m1")).delivery)
    assert core.feed(deliver_frame("you", message_id="m1")).delivery is not None
    with pytest.raises(ValueError, match="window size"):
        make_core(dedup_window=-1)


def test_addresses_and_backoff_are_checked():
    assert _failover.split_addresses(" a:1 , b:2,") == ("a:1", "b:2")
    assert _failover.split_addresses(["a:1", "b:2"]) == ("a:1", "b:2")
    for bad in ("", " , ", []):
        with pytest.raises(ValueError, match="no broker address"):
            _failover.split_addresses(bad)
    with pytest.raises(ValueError, match="backoff_initial"):
        make_core(backoff_initial=-1)
