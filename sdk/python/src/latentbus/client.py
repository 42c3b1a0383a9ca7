"""The synchronous client: one connection to the broker and, after register(), one
agent's Connect stream served by a background reader thread.

    import latentbus
    with latentbus.connect("127.0.0.1:7070", token="s3cret") as bus:
        bus.register("planner")                       # text-only: no model
        bus.send("worker-1", text="summarise the report")
        d = bus.receive(timeout=5)
        d.ack()

Thread safety: every method may be called from any thread. Deliveries reach the
application through receive() / iteration in arrival order; replies to request() are
handed to the waiting caller instead (and acked by the client). A request addressed to
an agent accepts its reply only from that agent (latentbus._replies).
"""
from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from typing import Callable, Iterator

import grpc

from latentbus import _frames, _replies, _rpc, connection
from latentbus.errors import BusError, StreamClosed
from latentbus.messages import (Delivery, Registered, RouteQueryResult, SendResult,
                                build_envelope, latent_for, new_message_id)
from latentbus.v1 import broker_pb2, broker_pb2_grpc

log = logging.getLogger("latentbus")

_END = object()  # inbox sentinel: the stream ended
# How long request() waits past its deadline for the broker's DEADLINE_EXCEEDED.
_REPLY_GRACE_S = 2.0


def _log_error(error: BusError) -> None:
    log.warning("latentbus: %s (message %s, agents %s)", error, error.message_id,
                ",".join(error.agent_ids))


class Client:
    """Create with latentbus.connect(). Close with close() or a `with` block."""

    def __init__(self, address: str, *, token: str | None = None, tls: bool = False,
                 root_ca=None, timeout: float = 10.0,
                 on_error: Callable[[BusError], None] | None = None, channel_options=(),
                 max_message_bytes: int | None = None):
        """`address` is host:port. `token` is sent as `authorization: Bearer <token>`
        on every call. `root_ca` (PEM bytes/text or a file path) or tls=True selects
        TLS. `timeout` bounds each wait for the broker's answer. `on_error` receives
        Error frames that answer no pending call (a plain send's deadline passing
        undelivered, QUEUE_FULL for some topic recipients after a SendResult); by
        default they are logged. `max_message_bytes` is the envelope size publish()
        checks before sending while no stream is registered (default: the broker's
        default, 4 MiB; 0: no local check); once register() has returned, the limit
        the broker announced in Registered is used for every send and publish."""
        self.address = address
        self._channel = connection.sync_channel(address, tls=tls, root_ca=root_ca,
                                                options=channel_options)
        self._stub = broker_pb2_grpc.BrokerStub(self._channel)
        self._metadata = connection.metadata(token)
        self._timeout = timeout
        self._on_error = on_error or _log_error
        self._seq = _frames.Sequencer()
        self._lock = threading.Lock()
        self._credit_cond = threading.Condition(self._lock)
        self._pending: dict[int, concurrent.futures.Future] = {}
        self._max_message_bytes = _frames.check_max_message_bytes(max_message_bytes)
        self._reply_waiters: dict[str, _replies.PendingReply] = {}
        self._outbox: queue.Queue = queue.Queue()
        self._inbox: queue.Queue = queue.Queue()
        self._send_credits = 0
        self._call = None
        self._reader: threading.Thread | None = None
        self._delivery_credits: _frames.DeliveryCredits | None = None
        self._end: StreamClosed | None = None
        self._closing = False
        self._closed = False
        self.agent_id: str | None = None
        self.model = None
        self.registered: Registered | None = None
        self.go_away: str | None = None  # set when the broker announces it is draining
        # Deliveries that carried a pending request's correlation id but came from an
        # agent the request was not addressed to (not taken as its reply).
        self.ignored_replies = 0

    # -- stream ----------------------------------------------------------------------

    def register(self, agent_id: str, model=None, *, topics=(), credits: int = 64,
                 timeout: float | None = None) -> Registered:
        """Opens the Connect stream as `agent_id`. `model` (a ModelSpec, see
        latentbus.model_spec) lets the agent send and receive latents; without it the
        broker treats the agent as a text-only client. `credits` is the delivery window:
        at most that many deliveries wait in this client before the application takes
        them. Raises BusError (StreamClosed) when the broker refuses."""
        if self._call is not None or self._closed:
            raise RuntimeError("register() once per Client: one Client is one agent stream")
        self._delivery_credits = _frames.DeliveryCredits(credits)
        seq = self._seq.next()
        future = self._expect(seq)
        self._outbox.put(_frames.register(seq, agent_id, model, topics, credits))
        self._call = self._stub.Connect(self._requests(), metadata=self._metadata)
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name=f"latentbus-{agent_id}")
        self._reader.start()
        frame = self._wait(seq, future, timeout, "Registered")
        self.agent_id, self.model = agent_id, model
        self.registered = Registered.from_proto(frame.registered)
        return self.registered

    def subscribe(self, topic: str, timeout: float | None = None) -> None:
        self._subscription(topic, True, timeout)

    def unsubscribe(self, topic: str, timeout: float | None = None) -> None:
        self._subscription(topic, False, timeout)

    def send(self, to: str | None = None, *, topic: str | None = None, text: str | None = None,
             array=None, encoding=None, latent=None, message_class="context", deadline=None,
             metadata=None, message_id: str | None = None, correlation_id: str | None = None,
             expects_reply: bool = False, traceparent: str | None = None,
             tracestate: str | None = None, text_fallback: Callable[[], str] | None = None,
             timeout: float | None = None) -> SendResult:
        """Sends to an agent (`to`) or a topic. Content: `text`, and/or a latent, either
        `array` (float hidden states [T, hidden_size], encoded with `encoding`,
        default int4/g32) or a ready `latent` (codec.Packet / LatentPacket).
        `deadline`: seconds from now or an absolute datetime. When the broker answers
        NEEDS_TEXT and `text_fallback` is given, the message is resent once with its
        text and the same message id. Waits for a send credit, then for the broker's
        answer; raises BusError on refusal."""
        envelope = build_envelope(
            to=to, topic=topic, text=text,
            latent=latent_for(self.model, array, encoding, latent),
            message_class=message_class, deadline=deadline, metadata=metadata,
            message_id=message_id, correlation_id=correlation_id,
            expects_reply=expects_reply, traceparent=traceparent, tracestate=tracestate,
            sender_id=self.agent_id or "")
        return self._send_envelope(envelope, text_fallback, timeout)

    def request(self, to: str | None = None, *, topic: str | None = None,
                timeout: float = 10.0, **kwargs) -> Delivery:
        """Sends with expects_reply and a deadline `timeout` seconds away, and returns
        the first reply (already acked). A request to an agent (`to`) takes its reply
        only from that agent: a delivery carrying this request's id from anyone else
        is counted in `ignored_replies`, logged, and left to receive() like any other
        delivery. For a request to a topic the broker decides who may answer. Raises
        BusError: the send's refusal, or DEADLINE_EXCEEDED when no reply came in time."""
        message_id = kwargs.pop("message_id", None) or new_message_id()
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._check_open()
            self._reply_waiters[message_id] = _replies.PendingReply(future, to)
        try:
            self.send(to, topic=topic, message_id=message_id, expects_reply=True,
                      deadline=timeout, timeout=timeout, **kwargs)
            try:
                return future.result(timeout=timeout + _REPLY_GRACE_S)
            except concurrent.futures.TimeoutError:
                raise BusError("DEADLINE_EXCEEDED", f"no reply within {timeout} s",
                               message_id=message_id) from None
        finally:
            with self._lock:
                self._reply_waiters.pop(message_id, None)

    def reply(self, delivery: Delivery, *, message_class="result", **kwargs) -> SendResult:
        """Answers `delivery` (a request): addressed to its sender, correlated to it."""
        return self.send(delivery.sender_id, correlation_id=delivery.message_id,
                         message_class=message_class, **kwargs)

    def receive(self, timeout: float | None = None) -> Delivery:
        """The next delivery. Raises TimeoutError after `timeout` seconds (None: wait
        forever) and StreamClosed once the stream has ended and nothing is left."""
        if self._call is None:
            raise RuntimeError("register() first")
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no delivery within {timeout} s") from None
        if item is _END:
            self._inbox.put(_END)
            raise self._end
        self._consumed()
        return item

    def __iter__(self) -> Iterator[Delivery]:
        """Deliveries until the stream ends (StreamClosed is raised unless close() ended it)."""
        while True:
            try:
                yield self.receive()
            except StreamClosed:
                if self._closing:
                    return
                raise

    def ack(self, delivery: Delivery) -> None:
        """Marks a delivery processed; it will not be redelivered."""
        self._write(_frames.ack(delivery.message_id, delivery.sender_id))

    @property
    def pending_deliveries(self) -> int:
        """Deliveries received from the broker and not yet taken by receive()."""
        return sum(1 for item in list(self._inbox.queue) if item is not _END)

    @property
    def send_credits(self) -> int:
        with self._lock:
            return self._send_credits

    @property
    def max_message_bytes(self) -> int:
        """The envelope size limit sends are checked against before they leave: the
        broker's, from Registered, once registered; until then the max_message_bytes
        option (0: none)."""
        return _frames.message_limit(self.registered, self._max_message_bytes)

    # -- unary RPCs --------------------------------------------------------------------

    def publish(self, to: str | None = None, *, topic: str | None = None,
                sender_id: str | None = None, text: str | None = None, array=None,
                encoding=None, latent=None, message_class="context", deadline=None,
                metadata=None, message_id: str | None = None,
                timeout: float | None = None) -> SendResult:
        """Sends one envelope without a stream (the Publish RPC) as `sender_id`
        (default: this client's agent id). An envelope over the message size limit
        (see __init__'s max_message_bytes) raises MessageTooLarge before anything is
        sent. Raises BusError when nothing was delivered."""
        envelope = build_envelope(
            to=to, topic=topic, text=text, latent=latent_for(self.model, array, encoding, latent),
            message_class=message_class, deadline=deadline, metadata=metadata,
            message_id=message_id)
        request = _rpc.publish_request(envelope, sender_id or self.agent_id or "")
        _frames.check_size(request.envelope, self.max_message_bytes)
        return _rpc.publish_result(self._unary(self._stub.Publish, request, timeout))

    def route_query(self, to: str | None = None, *, topic: str | None = None,
                    message_class="context", has_text: bool = False, has_latent: bool = False,
                    sender_id: str | None = None, model_id: str = "",
                    timeout: float | None = None) -> RouteQueryResult:
        """What a send would do per recipient (latent or text, bridge, fidelity) and the
        refusal it would meet, without sending."""
        request = _rpc.route_query_request(
            sender_id=sender_id or self.agent_id or "", to=to, topic=topic,
            message_class=message_class, has_text=has_text, has_latent=has_latent,
            model_id=model_id)
        return RouteQueryResult.from_proto(self._unary(self._stub.RouteQuery, request, timeout))

    def list_agents(self, timeout: float | None = None):
        """Admin: the connected agents (latentbus.v1.AgentInfo messages)."""
        return list(self._unary(self._stub.ListAgents, broker_pb2.ListAgentsRequest(),
                                timeout).agents)

    def list_bridges(self, timeout: float | None = None):
        """Admin: the loaded bridges (latentbus.v1.BridgeInfo messages)."""
        return list(self._unary(self._stub.ListBridges, broker_pb2.ListBridgesRequest(),
                                timeout).bridges)

    def get_stats(self, timeout: float | None = None) -> broker_pb2.GetStatsResponse:
        """Admin: counters and gauges."""
        return self._unary(self._stub.GetStats, broker_pb2.GetStatsRequest(), timeout)

    # -- lifecycle ---------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Ends the stream (unacked deliveries are redelivered to the next stream of this
        agent id) and the channel. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._call is not None:
            self._closing = True
            self._outbox.put(None)  # half-close: the broker ends the stream with OK
            # (From on_error, on the reader thread, there is nothing to wait for.)
            if threading.current_thread() is not self._reader:
                self._reader.join(timeout)
                if self._reader.is_alive():
                    self._call.cancel()
                    self._reader.join(timeout)
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------

    def _requests(self):
        while True:
            frame = self._outbox.get()
            if frame is None:
                return
            yield frame

    def _read_loop(self) -> None:
        try:
            for frame in self._call:
                self._dispatch(frame)
            end = StreamClosed("ERROR_REASON_UNSPECIFIED", "the broker ended the stream",
                               grpc_code=grpc.StatusCode.OK)
        except grpc.RpcError as e:
            end = StreamClosed.from_rpc_error(e)
        except Exception as e:  # a bug here must not leave callers waiting forever
            log.exception("latentbus: reader failed")
            end = StreamClosed("INTERNAL", f"client reader failed: {e!r}")
        if self._closing:
            end = StreamClosed.closed_locally()
        self._finish(end)

    def _finish(self, end: StreamClosed) -> None:
        with self._lock:
            self._end = end
            pending = (list(self._pending.values()) +
                       [w.future for w in self._reply_waiters.values()])
            self._pending.clear()
            self._reply_waiters.clear()
            self._credit_cond.notify_all()
        for future in pending:
            if not future.done():
                future.set_exception(end)
        self._outbox.put(None)  # lets gRPC's request consumer finish
        self._inbox.put(_END)

    def _dispatch(self, frame: broker_pb2.BrokerFrame) -> None:
        kind = frame.WhichOneof("frame")
        if kind == "deliver":
            self._on_deliver(frame.deliver.envelope)
        elif kind == "credit":
            with self._credit_cond:
                self._send_credits += frame.credit.credits
                self._credit_cond.notify_all()
        elif kind == "registered":
            with self._credit_cond:
                self._send_credits = frame.registered.send_credits
                self._credit_cond.notify_all()
            self._resolve(frame.seq, frame)
        elif kind == "error":
            error = BusError.from_proto(frame.error)
            if not self._resolve(frame.seq, error):
                self._unsolicited(error)
        elif kind == "go_away":
            self.go_away = frame.go_away.detail or "the broker is draining"
            log.warning("latentbus: broker going away: %s", self.go_away)
        elif kind in ("send_result", "subscribe_result"):
            self._resolve(frame.seq, frame)

    def _resolve(self, seq: int, value) -> bool:
        if not seq:
            return False
        with self._lock:
            future = self._pending.pop(seq, None)
        if future is None:
            return False
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)
        return True

    def _unsolicited(self, error: BusError) -> None:
        with self._lock:
            waiter = (self._reply_waiters.pop(error.message_id, None)
                      if error.reason == "DEADLINE_EXCEEDED" else None)
        if waiter is not None:
            waiter.future.set_exception(error)
            return
        try:
            self._on_error(error)
        except Exception:
            log.exception("latentbus: on_error callback failed")

    def _on_deliver(self, envelope) -> None:
        delivery = Delivery(envelope, self)
        if envelope.correlation_id:
            refused_by = None
            with self._lock:
                waiter = self._reply_waiters.get(envelope.correlation_id)
                if waiter is not None and waiter.accepts(envelope):
                    del self._reply_waiters[envelope.correlation_id]
                elif waiter is not None:
                    refused_by, waiter = waiter.responder, None
                    self.ignored_replies += 1
            if refused_by is not None:
                _replies.log_refused(self.agent_id, envelope, refused_by)
            if waiter is not None:
                self._write_quietly(_frames.ack(envelope.message_id, envelope.sender_id))
                self._consumed()
                waiter.future.set_result(delivery)
                return
        self._inbox.put(delivery)

    def _consumed(self) -> None:
        credits = self._delivery_credits.consumed()
        if credits:
            self._write_quietly(_frames.credit(credits))

    def _check_open(self) -> None:
        # Caller holds self._lock.
        if self._end is not None:
            raise self._end
        if self._closed:
            raise StreamClosed.closed_locally()

    def _write(self, frame) -> None:
        with self._lock:
            self._check_open()
        self._outbox.put(frame)

    def _write_quietly(self, frame) -> None:
        try:
            self._write(frame)
        except StreamClosed:
            pass

    def _expect(self, seq: int) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._check_open()
            self._pending[seq] = future
        return future

    def _wait(self, seq: int, future, timeout: float | None, what: str):
        timeout = self._timeout if timeout is None else timeout
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            with self._lock:
                self._pending.pop(seq, None)
            raise TimeoutError(f"no {what} from the broker within {timeout} s") from None

    def _subscription(self, topic: str, on: bool, timeout: float | None) -> None:
        self._require_registered()
        seq = self._seq.next()
        future = self._expect(seq)
        self._write(_frames.subscribe(seq, topic, on))
        self._wait(seq, future, timeout, "SubscribeResult")

    def _require_registered(self) -> None:
        if self.registered is None:
            raise RuntimeError("register() first")

    def _take_send_credit(self, deadline: float) -> None:
        with self._credit_cond:
            while self._send_credits <= 0:
                self._check_open()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BusError("NO_CREDIT", "the broker granted no send credit in time")
                self._credit_cond.wait(remaining)
            self._check_open()
            self._send_credits -= 1

    def _send_envelope(self, envelope, text_fallback, timeout) -> SendResult:
        self._require_registered()
        try:
            return self._send_once(envelope, timeout)
        except BusError as e:
            if e.reason != "NEEDS_TEXT" or text_fallback is None or envelope.text:
                raise
        envelope.text = text_fallback()
        return self._send_once(envelope, timeout)

    def _send_once(self, envelope, timeout: float | None) -> SendResult:
        _frames.check_size(envelope, self.max_message_bytes)
        timeout = self._timeout if timeout is None else timeout
        self._take_send_credit(time.monotonic() + timeout)
        seq = self._seq.next()
        future = self._expect(seq)
        self._write(_frames.send(seq, envelope))
        frame = self._wait(seq, future, timeout, "SendResult")
        result = frame.send_result
        return SendResult.from_proto(result.message_id, result.recipients)

    def _unary(self, method, request, timeout: float | None):
        try:
            return method(request, metadata=self._metadata,
                          timeout=self._timeout if timeout is None else timeout)
        except grpc.RpcError as e:
            raise BusError.from_rpc_error(e) from None


def connect(address: str, **kwargs) -> Client:
    """A Client for the broker at `address` (host:port); see Client.__init__ for
    token=, tls=, root_ca=, timeout=, on_error=, max_message_bytes=. The channel
    connects lazily."""
    return Client(address, **kwargs)
