"""The sans-IO core both clients share: one client's state and the protocol of its
agent stream, with no threads, no asyncio and no gRPC calls.

latentbus.client (a reader thread over grpc's sync API) and latentbus.aio (a reader
task over grpc.aio) are transports around one Protocol each. A transport owns the
channel, the Connect stream, the waiting and the locking; the Protocol decides the rest:

  * outgoing: register_frame(), subscribe_frame() and send_frame() number a request,
    record the waiter its answer settles and return the AgentFrame to write (on
    revision 2 a request's send has no waiter: its reply, or an Error naming it, answers
    it); ack_frame() is the Ack for a delivery, or None when a reply acked it already;
    expect_reply() records a request() waiting for its reply; send_envelope(),
    publish_request() and route_query_request() build what the calls carry;
  * incoming: feed(frame) returns an Outcome. The transport writes its `writes`
    (the ack of a reply the client takes itself, a returned delivery credit), wakes the
    senders waiting for a send credit when `credits_changed`, then hands it to
    complete(), which settles the waiters, queues the delivery and reports an error
    that answers no call to on_error;
  * requests written: a transport writes a request frame only when claim(frame) says
    so; while the client reconnects the frame waits for the next stream instead;
  * a lost stream: lost(cause) says whether to reconnect (and after how long, to which
    `address`: latentbus._failover has the rules) or not. When it does, reopen_frame()
    is the Register to write first on the next stream; its Registered, fed like any
    frame, returns in `writes` every request that the lost stream left unanswered (the
    same frames, the same message ids), so pending calls keep waiting across the
    reconnect;
  * the end: ended(cause) turns how the stream ended into the StreamClosed every later
    call raises, and returns an Outcome that fails every waiter.

Deliveries: the (sender, message id) of each delivery acked is remembered (dedup_window);
a repeat of one (its ack lost with a broker that died) is acked again and not handed over,
whether it comes after the ack or waits in the client's inbox when the first is acked
(take_queued_repeats). A delivery not acked yet is handed over again when it comes again.

Waiters are the transport's futures (concurrent.futures.Future or asyncio.Future): the
Protocol stores them, asks only done(), and hands them back in Outcome.settle.

Not thread-safe: the sync client calls it under its lock, the asyncio client from its
event loop. Applications use latentbus.connect() / latentbus.aio.connect() instead;
latentbus._base holds what else the two clients share.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
from typing import Any, Callable

import grpc

from latentbus import _failover, _frames, _replies, _rpc
from latentbus.errors import BusError, StreamClosed
from latentbus.messages import (Delivery, Registered, SendResult, build_envelope, latent_for,
                                new_message_id)
from latentbus.v1 import broker_pb2

log = logging.getLogger("latentbus")

# How long request() waits past its deadline for the broker's DEADLINE_EXCEEDED.
REPLY_GRACE_S = 2.0

# Revision 2: how many deliveries acked by our replies are remembered (so that the
# application's ack() of them writes nothing); the oldest are forgotten first.
REMEMBERED_REPLIES = 4096

# The answer each kind of request waits for, by AgentFrame.frame.
_ANSWER_NAMES = {"register": "Registered", "subscribe": "SubscribeResult",
                 "unsubscribe": "SubscribeResult", "send": "SendResult"}


def _describe(cause: BaseException | None) -> str:
    if isinstance(cause, grpc.RpcError) and hasattr(cause, "code"):
        return f"{cause.code().name}: {cause.details() if hasattr(cause, 'details') else ''}"
    return "ended by the broker" if cause is None else repr(cause)


def log_error(error: BusError) -> None:
    """The default on_error: logs an error that answers no pending call."""
    log.warning("latentbus: %s (message %s, agents %s)", error, error.message_id,
                ",".join(error.agent_ids))


def settle(waiter, value) -> None:
    """Completes a transport's future: raising `value` when it is an exception, else
    returning it. A waiter already done (an asyncio future nobody waits on) is left."""
    if waiter.done():
        return
    if isinstance(value, BaseException):
        waiter.set_exception(value)
    else:
        waiter.set_result(value)


# Reasons the broker gives per recipient of an accepted send (the others got it), as
# wire::IsPerRecipientReason in proto/error_reason.h.
_PER_RECIPIENT_REASONS = frozenset({"QUEUE_FULL", "MESSAGE_TOO_LARGE", "INTERNAL"})


@dataclasses.dataclass
class _Request:
    """A request frame waiting for its answer: `waiter` gets it (None: a revision-2
    request's send, answered by the request's reply); `written_on` is the stream it was
    last written on (-1: none yet)."""
    waiter: Any
    frame: broker_pb2.AgentFrame
    written_on: int = -1


@dataclasses.dataclass
class Outcome:
    """What one incoming frame, or the stream's end, asks of the transport: write
    `writes` (in order; the stream may be gone, so quietly), wake the senders waiting
    for a send credit if `credits_changed`, then Protocol.complete() for the rest.
    `writes` go out before any request claimed after the feed (see claim()): a
    Registered's requests written again come before newer ones."""
    writes: list = dataclasses.field(default_factory=list)    # AgentFrames
    settle: list = dataclasses.field(default_factory=list)    # (waiter, result or error)
    delivery: Delivery | None = None    # for receive(), in arrival order
    error: BusError | None = None       # answers no call: for on_error
    credits_changed: bool = False


class Protocol:
    """One client's state: its pending calls, its stream's credits, its registration."""

    def __init__(self, owner: Any, *, timeout: float,
                 on_error: Callable[[BusError], None] | None,
                 max_message_bytes: int | None, addresses=("",), reconnect: bool = True,
                 backoff_initial: float = 0.1, backoff_max: float = 5.0,
                 dedup_window: int = 4096):
        """`owner` is the client deliveries belong to (Delivery.ack() and reply() call
        it). The rest are the client's options (see latentbus.client.Client), validated
        here; `addresses` is the broker list, as _failover.split_addresses gives it."""
        self._owner = owner
        self.timeout = timeout  # the default wait for the broker's answers
        self._on_error = on_error or log_error
        self._configured_limit = _frames.check_max_message_bytes(max_message_bytes)
        # AgentFrame.seq: never 0, which the broker's unsolicited frames carry.
        self._seqs = itertools.count(1)
        self._pending: dict[int, _Request] = {}  # seq of a request -> it
        self._request_sends: dict[str, int] = {}  # request() id -> seq of its waiterless send
        # Sends of the last stream to write again on this one once a send credit comes
        # (seqs, in order; see _reinstalled): while any wait, no credit is free.
        self._held: dict[int, None] = {}
        self.replies: dict[str, _replies.PendingReply] = {}  # request id -> its waiter
        self._delivery_credits: _frames.DeliveryCredits | None = None
        # What register() registered: (agent id, model, delivery credits, protocol offered).
        self._registration: tuple[str, Any, int, int] = ("", None, 0, _frames.PROTOCOL)
        self._register_seq = 0  # of the Register written last
        self.topics: dict[str, None] = {}  # subscribed now, in order: a reconnect's Register
        self.send_credits = 0
        # Failover (latentbus._failover).
        self.addresses = tuple(addresses)
        self._address_index = 0
        self._first_tries = 1  # addresses tried by the first registration
        self.reconnect = reconnect
        self._backoff = _failover.Backoff(backoff_initial, backoff_max)
        self._retries = 0  # reconnect attempts since the stream was lost
        self._stream = 0  # the stream in use: one more each time one is lost
        self.connected = False  # a stream is up and registered
        self.reconnects = 0
        self._acked = _failover.KeyWindow(dedup_window)
        self.repeats_dropped = 0
        self.end: StreamClosed | None = None  # why the stream ended, once it has
        self.closed = False
        self.agent_id: str | None = None
        self.model = None
        self.registered: Registered | None = None
        self.go_away: str | None = None
        self.ignored_replies = 0
        self.protocol = 1  # the stream's revision, from Registered
        self._replied = _failover.KeyWindow(REMEMBERED_REPLIES)
        # The keys in _acked that only a reply put there (reply_failed takes them out).
        self._acked_by_reply = _failover.KeyWindow(REMEMBERED_REPLIES)

    # -- state --------------------------------------------------------------------------

    def wait_limit(self, timeout: float | None) -> float:
        """How long to wait for the broker: `timeout`, or the client's default."""
        return self.timeout if timeout is None else timeout

    @property
    def address(self) -> str:
        """The broker the stream uses (or the next one opens at)."""
        return self.addresses[self._address_index]

    @property
    def max_message_bytes(self) -> int:
        """The broker's limit from Registered once registered, else the option."""
        return _frames.message_limit(self.registered, self._configured_limit)

    def check_open(self) -> None:
        """Raises why the stream ended, or StreamClosed once the client is closed."""
        if self.end is not None:
            raise self.end
        if self.closed:
            raise StreamClosed.closed_locally()

    def require_registered(self) -> None:
        if self.registered is None:
            raise RuntimeError("register() first")

    @property
    def lean(self) -> bool:
        """True on stream protocol revision 2 (broker.proto)."""
        return self.protocol >= 2

    def close(self) -> bool:
        """Marks the client closed; False when it already was."""
        if self.closed:
            return False
        self.closed = True
        return True

    # -- what calls carry ---------------------------------------------------------------

    def send_envelope(self, *, array, encoding, latent, **fields):
        """The envelope send() writes: `fields` as messages.build_envelope takes them,
        the latent from `array` (encoded for the registered model) or `latent`, and
        this agent as the sender. Raises ValueError for bad arguments, then
        RuntimeError before register()."""
        envelope = build_envelope(latent=latent_for(self.model, array, encoding, latent),
                                  sender_id=self.agent_id or "", **fields)
        self.require_registered()
        return envelope

    def request_envelope(self, *, to, topic, message_id: str, timeout: float,
                         array=None, encoding=None, latent=None, **fields):
        """The envelope a revision-2 request() writes without waiting for a SendResult:
        as send_envelope, with expects_reply and a deadline `timeout` seconds away."""
        return self.send_envelope(to=to, topic=topic, message_id=message_id,
                                  expects_reply=True, deadline=timeout, array=array,
                                  encoding=encoding, latent=latent, **fields)

    def publish_request(self, *, sender_id: str | None, array, encoding, latent,
                        **fields) -> broker_pb2.PublishRequest:
        """What publish() sends as `sender_id` (default: this agent). Raises
        MessageTooLarge when the envelope is over max_message_bytes."""
        envelope = build_envelope(latent=latent_for(self.model, array, encoding, latent),
                                  **fields)
        request = _rpc.publish_request(envelope, sender_id or self.agent_id or "")
        _frames.check_size(request.envelope, self.max_message_bytes)
        return request

    def route_query_request(self, *, sender_id: str | None,
                            **fields) -> broker_pb2.RouteQueryRequest:
        return _rpc.route_query_request(sender_id=sender_id or self.agent_id or "", **fields)

    # -- requests on the stream ---------------------------------------------------------

    def register_frame(self, agent_id: str, model, topics, credits: int, waiter,
                       protocol: int = _frames.PROTOCOL) -> broker_pb2.AgentFrame:
        """The Register frame; `waiter` gets the Registered frame. `credits` is the
        delivery window (ValueError below 1); `protocol` the revision offered (1 or 2)."""
        if protocol not in (1, 2):
            raise ValueError(f"protocol must be 1 or 2, got {protocol!r}")
        self._delivery_credits = _frames.DeliveryCredits(credits)
        topics = list(dict.fromkeys(topics))
        frame = self._request(waiter, lambda seq: _frames.register(
            seq, agent_id, model, topics, credits, protocol))
        self._registration = (agent_id, model, credits, protocol)
        self._register_seq = frame.seq
        self.topics = dict.fromkeys(topics)
        return frame

    def on_registered(self, frame: broker_pb2.BrokerFrame) -> Registered:
        """The registration that register() waited for (the frame its waiter got),
        taken when its Registered was fed: from then on the client is that agent."""
        if self.registered is None:
            self._take_registration(frame)
        return self.registered

    def _take_registration(self, frame: broker_pb2.BrokerFrame) -> None:
        self.agent_id, self.model = self._registration[:2]
        self.registered = Registered.from_proto(frame.registered)
        self.protocol = max(1, frame.registered.protocol)

    def subscribe_frame(self, topic: str, on: bool, waiter) -> broker_pb2.AgentFrame:
        """A Subscribe (`on`) or Unsubscribe frame; `waiter` gets the SubscribeResult."""
        self.require_registered()
        return self._request(waiter, lambda seq: _frames.subscribe(seq, topic, on))

    def check_size(self, envelope) -> None:
        """Raises MessageTooLarge for an envelope the broker would refuse as too large."""
        _frames.check_size(envelope, self.max_message_bytes)

    def take_send_credit(self, deadline: float, now: float) -> float | None:
        """Spends one send credit: None when taken, else how long to wait for a Credit
        frame before asking again. Raises BusError NO_CREDIT once `deadline` (on the
        clock `now` reads) has passed, and why the stream ended once it has."""
        self.check_open()
        if self.send_credits > 0:
            self.send_credits -= 1
            return None
        remaining = deadline - now
        if remaining <= 0:
            raise BusError("NO_CREDIT", "the broker granted no send credit in time")
        return remaining

    def send_frame(self, envelope, waiter) -> broker_pb2.AgentFrame:
        """The Send frame for `envelope` (a send credit taken); `waiter` gets the
        SendResult frame, or the BusError that refuses the message. `waiter` None (only
        on revision 2, see request_wants_result): a request's send that asks for no
        SendResult; its reply, or an Error naming it, settles the request."""
        if waiter is None:
            frame = self._request(None, lambda seq: _frames.send(seq, envelope,
                                                                 want_result=False))
            self._request_sends[envelope.message_id] = frame.seq
            return frame
        return self._request(waiter, lambda seq: _frames.send(seq, envelope))

    def claim(self, frame: broker_pb2.AgentFrame) -> bool:
        """Whether the transport writes `frame` (from subscribe_frame or send_frame) now:
        True while a registered stream is up, on which it then counts as written; False
        while the client reconnects (the next stream's Registered returns it to write),
        once that Registered has returned it or holds it for a send credit (built before
        it, claimed after: it is written once), or once it needs no writing (answered,
        timed out, the end)."""
        request = self._pending.get(frame.seq)
        if (request is None or not self.connected or request.written_on == self._stream or
                frame.seq in self._held):
            return False
        request.written_on = self._stream
        return True

    def request_wants_result(self, text_fallback) -> bool:
        """Whether request() waits for its send's SendResult: always before revision 2;
        on revision 2 only when a text_fallback may have to resend it with text."""
        return not self.lean or text_fallback is not None

    def ack_frame(self, delivery: Delivery) -> broker_pb2.AgentFrame | None:
        """The Ack for `delivery`; None when our reply acked it (revision 2). A repeat
        of `delivery` will not be handed over (dedup_window)."""
        key = (delivery.sender_id, delivery.message_id)
        self._acked_by_reply.discard(key)  # the ack owns the dedup entry now
        self._acked.add(key)
        if self._replied.discard(key):
            return None
        return _frames.ack(delivery.message_id, delivery.sender_id)

    def take_queued_repeats(self, delivery: Delivery, inbox) -> list:
        """With dedup_window: removes from `inbox` (the transport's deque of deliveries
        not taken yet; other items stay, in order) every repeat of `delivery`, which the
        application just acked (a redelivery that came before the ack), and returns the
        frames that ack them (on revision 1 with the Credit frames due): they are never
        handed over, as a repeat coming after the ack is not. As the C++ client's
        Client::Ack."""
        if self._acked.size == 0:
            return []
        key = (delivery.sender_id, delivery.message_id)

        def repeats(item) -> bool:
            return isinstance(item, Delivery) and (item.sender_id, item.message_id) == key

        taken = [item for item in inbox if repeats(item)]
        if not taken:
            return []
        kept = [item for item in inbox if not repeats(item)]
        inbox.clear()
        inbox.extend(kept)
        writes = []
        for repeat in taken:
            self.repeats_dropped += 1
            writes.extend(self._ack_writes(repeat.envelope))
        return writes

    def replying(self, delivery: Delivery) -> None:
        """Records that a reply to `delivery` is being sent: on revision 2 it acks it, so
        a repeat of `delivery` is not handed over either (dedup_window), as after ack()."""
        if self.lean:
            key = (delivery.sender_id, delivery.message_id)
            self._replied.add(key)
            if self._acked.size > 0 and key not in self._acked:
                self._acked.add(key)
                self._acked_by_reply.add(key)

    def reply_failed(self, delivery: Delivery) -> None:
        """The reply to `delivery` raised: it may never have left (too large, no credit,
        no stream), so a later ack() of the request must be written, or its delivery
        credit never comes back. (If it did reach the broker, that Ack is one too many,
        which the broker ignores.) Nothing acked it: its repeats are handed over again."""
        key = (delivery.sender_id, delivery.message_id)
        self._replied.discard(key)
        if self._acked_by_reply.discard(key):
            self._acked.discard(key)

    @staticmethod
    def send_result(frame: broker_pb2.BrokerFrame) -> SendResult:
        result = frame.send_result
        return SendResult.from_proto(result.message_id, result.recipients)

    @staticmethod
    def resends_with_text(error: BusError, envelope, text_fallback) -> bool:
        """Whether a send refused with `error` goes again with text_fallback()'s text
        and the same message id: a NEEDS_TEXT refusal of an envelope that has no text,
        when a fallback is given."""
        return error.reason == "NEEDS_TEXT" and text_fallback is not None and not envelope.text

    def timed_out(self, request: broker_pb2.AgentFrame, timeout: float) -> TimeoutError:
        """Forgets `request`, whose answer did not come within `timeout` seconds (a late
        one is dropped; it is not written again after a reconnect), and returns the error
        to raise."""
        self._pending.pop(request.seq, None)
        what = _ANSWER_NAMES[request.WhichOneof("frame")]
        return TimeoutError(f"no {what} from the broker within {timeout} s")

    def abandon(self, request: broker_pb2.AgentFrame) -> None:
        """Forgets `request`, whose caller went away (its task was cancelled): a late
        answer is dropped, and it is not written again after a reconnect."""
        self._pending.pop(request.seq, None)

    def unsent(self, frame: broker_pb2.AgentFrame, waited: float) -> TimeoutError:
        """Forgets `frame`, claimed but never written: other writes held the stream for
        `waited` seconds. A send gives its credit back when the stream it was taken on
        is still the current one. Returns the error to raise."""
        request = self._pending.pop(frame.seq, None)
        if (request is not None and frame.WhichOneof("frame") == "send" and
                request.written_on == self._stream and self.connected):
            self.send_credits += 1
        what = _ANSWER_NAMES[frame.WhichOneof("frame")]
        return TimeoutError(f"other writes held the stream for {waited} s, so the frame "
                            f"asking for a {what} was not sent")

    def write_timed_out(self, request: broker_pb2.AgentFrame, timeout: float) -> TimeoutError:
        """Forgets `request`, whose frame the broker took none of within `timeout` seconds
        (it stopped reading; the transport reset the stream, so nothing of it counts), and
        returns the error to raise."""
        self._pending.pop(request.seq, None)
        what = _ANSWER_NAMES[request.WhichOneof("frame")]
        return TimeoutError(f"the broker read nothing within {timeout} s, so the frame asking "
                            f"for a {what} was not sent; the stream was reset (reconnecting)")

    def _request(self, waiter, build: Callable[[int], broker_pb2.AgentFrame]
                 ) -> broker_pb2.AgentFrame:
        """The frame build(seq) makes, numbered and kept until its answer."""
        self.check_open()
        frame = build(next(self._seqs))
        self._pending[frame.seq] = _Request(waiter, frame)
        return frame

    # -- request() ----------------------------------------------------------------------

    def expect_reply(self, to: str | None, message_id: str | None, waiter) -> str:
        """Records a request() to agent `to` (None: a topic) whose reply settles
        `waiter`; returns the request's message id (`message_id`, or a new one)."""
        message_id = message_id or new_message_id()
        self.check_open()
        self.replies[message_id] = _replies.PendingReply(waiter, to)
        return message_id

    def forget_reply(self, message_id: str) -> None:
        """The request() `message_id` is over: its reply no longer waited for, its send
        no longer written again."""
        self.replies.pop(message_id, None)
        seq = self._request_sends.pop(message_id, None)
        if seq is not None:
            self._pending.pop(seq, None)

    @staticmethod
    def no_reply(message_id: str, timeout: float) -> BusError:
        """What request() raises when no reply came in time."""
        return BusError("DEADLINE_EXCEEDED", f"no reply within {timeout} s",
                        message_id=message_id)

    # -- incoming -----------------------------------------------------------------------

    def feed(self, frame: broker_pb2.BrokerFrame) -> Outcome:
        """What a frame from the broker means. An answer (Registered, SendResult,
        SubscribeResult, Error) settles the request with its seq; an Error that answers
        none fails the request() it names when it is DEADLINE_EXCEEDED, else goes to
        on_error. Registered sets the send credits, Credit adds to them, and so do the
        send_credits any frame carries on revision 2; sends held since a reconnect take
        them first (their frames join `writes`)."""
        outcome = self._feed(frame)
        if frame.send_credits:
            self.send_credits += frame.send_credits
            outcome.credits_changed = True
        if self._held and outcome.credits_changed:
            outcome.writes.extend(self._release_held())
        return outcome

    def _feed(self, frame: broker_pb2.BrokerFrame) -> Outcome:
        kind = frame.WhichOneof("frame")
        if kind == "deliver":
            return self._deliver(frame.deliver.envelope)
        if kind == "credit":
            self.send_credits += frame.credit.credits
            return Outcome(credits_changed=True)
        if kind == "registered":
            return self._registered(frame)
        if kind == "error":
            error = BusError.from_proto(frame.error)
            answered = self._answer(frame.seq, error)
            return Outcome(settle=answered) if answered else self._unsolicited(error)
        if kind == "subscribe_result":
            result = frame.subscribe_result
            if result.subscribed:
                self.topics[result.topic] = None
            else:
                self.topics.pop(result.topic, None)
        if kind in ("send_result", "subscribe_result"):
            return Outcome(settle=self._answer(frame.seq, frame))
        if kind == "go_away":
            self.go_away = frame.go_away.detail or "the broker is draining"
            log.warning("latentbus: broker going away: %s", self.go_away)
        return Outcome()

    def consumed(self, delivery: Delivery | None = None) -> broker_pb2.AgentFrame | None:
        """Records one delivery taken by the application; returns the Credit frame to
        write when a batch of delivery credits is due (see _frames.DeliveryCredits).
        None on revision 2, where every ack gives its delivery's credit back, and for a
        delivery that came on a stream since lost: the broker never spent a credit of
        this stream on it, and returning one would widen the window for good."""
        if self.lean:
            return None
        if delivery is not None and delivery._stream != self._stream:
            return None
        credits = self._delivery_credits.consumed()
        return _frames.credit(credits) if credits else None

    # -- failover -------------------------------------------------------------------------

    def lost(self, cause: BaseException | None) -> float | None:
        """The stream ended, `cause` as ended() takes it. Returns how many seconds to
        wait before opening the next stream, to `address` (which may have moved on), or
        None when the end is final: then ended(cause). The first registration moves on
        to the next broker at once while one is unreachable; a registered client
        reconnects unless the end is final (latentbus._failover), first to the same
        broker (to the next one after the broker's GoAway), then to the next ones in
        turn, waiting longer each time."""
        self.connected = False
        self.send_credits = 0  # the next stream's Registered grants them
        self._held.clear()  # the next Registered holds what it cannot write
        self._stream += 1
        if self.closed or self.end is not None:
            return None
        code = _failover.stream_end_code(cause)
        if self.registered is None:
            if code != grpc.StatusCode.UNAVAILABLE or self._first_tries >= len(self.addresses):
                return None
            self._first_tries += 1
            self._next_address()
            log.info("latentbus: broker unreachable (%s); trying %s", _describe(cause),
                     self.address)
            return 0.0
        if code is None or code in _failover.FINAL_CODES or not self.reconnect:
            return None
        if self._retries > 0:
            self._next_address()
        elif self.go_away is not None and len(self.addresses) > 1:
            # The broker said it was leaving (draining): the next one first.
            self.go_away = None
            self._next_address()
        self._retries += 1
        wait = self._backoff.next()
        log.warning("latentbus: %s: stream lost (%s); reconnecting to %s in %.2f s",
                    self.agent_id, _describe(cause), self.address, wait)
        return wait

    def reopen_frame(self) -> broker_pb2.AgentFrame | None:
        """The Register to write first on the next stream: the same agent id, model,
        delivery credits and protocol, with the topics subscribed now. None when no
        stream is to be opened: the client was closed, or register() stopped waiting."""
        if self.closed or self.end is not None:
            return None
        if self.registered is None:  # the first registration, at the next broker
            request = self._pending.get(self._register_seq)
            return request.frame if request is not None else None
        last = self._pending.get(self._register_seq)
        if last is not None and last.waiter is None:  # a stream lost before its answer
            del self._pending[self._register_seq]
        agent_id, model, credits, protocol = self._registration
        topics = list(self.topics)
        frame = self._request(None, lambda seq: _frames.register(
            seq, agent_id, model, topics, credits, protocol))
        self._register_seq = frame.seq
        return frame

    def _registered(self, frame: broker_pb2.BrokerFrame) -> Outcome:
        """Registered: the answer to register() (its waiter gets it), or to reopen_frame()
        (the stream is back: the requests it has not seen are written again)."""
        self.send_credits = frame.registered.send_credits
        request = self._pending.pop(frame.seq, None) if frame.seq else None
        if request is None:
            return Outcome(credits_changed=True)
        self.connected = True
        self._retries = 0
        self._backoff.reset()
        if request.waiter is None:
            return self._reinstalled(frame)
        if self.registered is None:
            self._take_registration(frame)
        settle = [] if request.waiter.done() else [(request.waiter, frame)]
        return Outcome(settle=settle, credits_changed=True)

    def _reinstalled(self, frame: broker_pb2.BrokerFrame) -> Outcome:
        """The stream is back: the requests the lost one left unanswered are written again,
        in the order they were first written, each send taking a send credit. Sends
        beyond the credits the Registered grants are held, in order, and written as
        credits come (Credit frames, credits riding on frames: feed()); until they are,
        no credit is free for newer sends, which keeps them behind. Writing them all at
        once would not do: on revision 2 a request's send stays unanswered until its
        reply while its credit came back when the broker took it, so more of them may
        be pending than the broker grants, and a send over the credits is refused
        (NO_CREDIT, which fails its request())."""
        self.registered = Registered.from_proto(frame.registered)
        self.protocol = max(1, frame.registered.protocol)
        self._delivery_credits = _frames.DeliveryCredits(self._registration[2])
        self.reconnects += 1
        resend = []
        for seq in sorted(self._pending):  # in the order they were first written
            request = self._pending[seq]
            if request.frame.HasField("register") or request.written_on == self._stream:
                continue
            if request.frame.HasField("send"):
                if self._held or self.send_credits == 0:
                    self._held[seq] = None
                    continue
                self.send_credits -= 1
            request.written_on = self._stream
            resend.append(request.frame)
        log.info("latentbus: %s: registered again at %s; resent %d unanswered request(s), "
                 "%d send(s) waiting for a send credit", self.agent_id, self.address,
                 len(resend), len(self._held))
        return Outcome(writes=resend, credits_changed=True)

    def _release_held(self) -> list:
        """The held sends that the send credits now allow, in order, each taking one
        (those answered, timed out or forgotten meanwhile are dropped)."""
        writes = []
        while self._held and self.send_credits > 0:
            seq = next(iter(self._held))
            del self._held[seq]
            request = self._pending.get(seq)
            if request is None:
                continue
            self.send_credits -= 1
            request.written_on = self._stream
            writes.append(request.frame)
        return writes

    def _next_address(self) -> None:
        self._address_index = (self._address_index + 1) % len(self.addresses)

    def ended(self, cause: BaseException | None) -> Outcome:
        """The stream is over: `cause` is None when the broker ended it, else what the
        read raised (a grpc.RpcError, a StreamClosed the transport chose), or any other
        error in the client, reading or reconnecting, which is logged. Once close() was called it ended locally, whatever the cause.
        Every pending call fails with the StreamClosed kept in `end`."""
        if cause is None:
            end = StreamClosed("ERROR_REASON_UNSPECIFIED", "the broker ended the stream",
                               grpc_code=grpc.StatusCode.OK)
        elif isinstance(cause, StreamClosed):
            end = cause
        elif isinstance(cause, grpc.RpcError):
            end = StreamClosed.from_rpc_error(cause)
        else:  # a bug here must not leave callers waiting forever
            log.error("latentbus: reader failed", exc_info=cause)
            end = StreamClosed("INTERNAL", f"client reader failed: {cause!r}")
        if self.closed:
            end = StreamClosed.closed_locally()
        self.end = end
        self.connected = False
        waiters = ([request.waiter for request in self._pending.values()
                    if request.waiter is not None] +
                   [reply.future for reply in self.replies.values()])
        self._pending.clear()
        self._held.clear()
        self._request_sends.clear()
        self.replies.clear()
        return Outcome(settle=[(waiter, end) for waiter in waiters], credits_changed=True)

    def complete(self, outcome: Outcome, enqueue: Callable[[Delivery], Any]) -> None:
        """Does what is left of `outcome` once its frames are written: settles its
        waiters, passes its delivery to `enqueue`, reports its error to on_error (an
        exception there is logged)."""
        for waiter, value in outcome.settle:
            settle(waiter, value)
        if outcome.delivery is not None:
            enqueue(outcome.delivery)
        if outcome.error is not None:
            try:
                self._on_error(outcome.error)
            except Exception:
                log.exception("latentbus: on_error callback failed")

    def _answer(self, seq: int, value) -> list:
        """The waiter of request `seq` with its answer; [] when no live request has it."""
        request = self._pending.pop(seq, None) if seq else None
        if request is None or request.waiter is None or request.waiter.done():
            return []
        return [(request.waiter, value)]

    def _unsolicited(self, error: BusError) -> Outcome:
        # Revision 2: a request's send has no waiter of its own, so a refusal naming the
        # request ends it; but not one that names some of a topic request's subscribers
        # (their queue was full, ...): the others have it and may answer.
        if self.lean and error.reason in _PER_RECIPIENT_REASONS and error.agent_ids:
            pending = self.replies.get(error.message_id)
            if pending is not None and pending.responder is None:
                return Outcome(error=error)
        reply = (self.replies.pop(error.message_id, None)
                 if error.reason == "DEADLINE_EXCEEDED" or self.lean else None)
        if reply is not None and not reply.future.done():
            return Outcome(settle=[(reply.future, error)])
        return Outcome(error=error)

    def _deliver(self, envelope) -> Outcome:
        """A delivery goes to receive(), unless it is the reply a request() waits for
        (see latentbus._replies): then the client acks it and hands it to the waiter."""
        key = (envelope.sender_id, envelope.message_id)
        if key in self._acked:  # acked already, the ack lost with a broker: ack it again
            self.repeats_dropped += 1
            return Outcome(writes=self._ack_writes(envelope))
        delivery = Delivery(envelope, self._owner, self._stream)
        reply = self.replies.get(envelope.correlation_id) if envelope.correlation_id else None
        if reply is None:
            return Outcome(delivery=delivery)
        if not reply.accepts(envelope):
            self.ignored_replies += 1
            _replies.log_refused(self.agent_id, envelope, reply.responder)
            return Outcome(delivery=delivery)
        del self.replies[envelope.correlation_id]
        if reply.future.done():
            return Outcome(delivery=delivery)
        self._acked.add(key)
        return Outcome(writes=self._ack_writes(envelope), settle=[(reply.future, delivery)])

    def _ack_writes(self, envelope) -> list:
        """The Ack of a delivery the client takes itself, and on revision 1 the Credit
        frame due once it counts as consumed."""
        writes = [_frames.ack(envelope.message_id, envelope.sender_id)]
        credit = self.consumed()
        if credit is not None:
            writes.append(credit)
        return writes

