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

Failover: `address` may list several brokers of one cluster ("b1:7070,b2:7070"). When
the stream breaks the reader thread registers again (the next broker after the first
retry), writes again every request left unanswered, and pending calls keep waiting
(latentbus._failover has the rules).

This module is the transport: threads, queues and grpc's sync API around the sans-IO
latentbus.protocol.Protocol, which decides what each frame means. Its state is guarded
by the client's lock.
"""
from __future__ import annotations

import concurrent.futures
import functools
import queue
import threading
import time
from typing import Callable, Iterator, Sequence

import grpc

from latentbus import _base, _rpc, connection, protocol
from latentbus.errors import BusError, StreamClosed
from latentbus.messages import Delivery, Registered, RouteQueryResult, SendResult
from latentbus.v1 import broker_pb2

_END = object()  # inbox sentinel: the stream ended


class Client(_base.ClientBase):
    """Create with latentbus.connect(). Close with close() or a `with` block."""

    def __init__(self, address: str | Sequence[str], *, token: str | None = None,
                 tls: bool = False, root_ca=None, timeout: float = 10.0,
                 on_error: Callable[[BusError], None] | None = None, channel_options=(),
                 max_message_bytes: int | None = None, reconnect: bool = True,
                 backoff_initial: float = 0.1, backoff_max: float = 5.0,
                 dedup_window: int = 4096):
        """`address` is host:port, or several brokers of one cluster (comma-separated,
        or a list): register() takes the first that answers; see the module's
        "Failover". `token` is sent as `authorization: Bearer <token>` on every call.
        `root_ca` (PEM bytes/text or a file path) or tls=True selects TLS. `timeout`
        bounds each wait for the broker's answer. `on_error` receives Error frames that
        answer no pending call (a plain send's deadline passing undelivered, QUEUE_FULL
        for some topic recipients after a SendResult); by default they are logged.
        `max_message_bytes` is the envelope size publish() checks before sending while
        no stream is registered (default: the broker's default, 4 MiB; 0: no local
        check); once register() has returned, the limit the broker announced in
        Registered is used for every send and publish.
        `reconnect`: register again when the stream breaks (False: a broken stream ends
        the client). `backoff_initial` and `backoff_max` (seconds) bound the wait before
        each attempt, doubling from the first to the second. `dedup_window`: how many
        acked deliveries are remembered so that a repeat of one (its ack lost with a
        broker) is acked again and not handed over, nor one waiting to be received when
        the first is acked; 0 hands every delivery over."""
        make_channel = functools.partial(connection.sync_channel, tls=tls, root_ca=root_ca)
        super().__init__(address, make_channel, channel_options=channel_options, token=token,
                         timeout=timeout, on_error=on_error,
                         max_message_bytes=max_message_bytes, reconnect=reconnect,
                         backoff_initial=backoff_initial, backoff_max=backoff_max,
                         dedup_window=dedup_window)
        self._lock = threading.Lock()  # guards _core, _outbox and _call
        self._credit_cond = threading.Condition(self._lock)
        self._outbox: queue.Queue | None = None  # the frames the current stream writes
        self._inbox: queue.Queue = queue.Queue()
        self._call = None
        self._reader: threading.Thread | None = None
        self._closing = threading.Event()  # ends a reconnect's wait

    # -- stream ----------------------------------------------------------------------

    def register(self, agent_id: str, model=None, *, topics=(), credits: int = 64,
                 timeout: float | None = None, protocol: int = 2) -> Registered:
        """Opens the Connect stream as `agent_id`. `model` (a ModelSpec, see
        latentbus.model_spec) lets the agent send and receive latents; without it the
        broker treats the agent as a text-only client. `credits` is the delivery window:
        at most that many deliveries wait in this client before the application takes
        them (revision 1), or wait unacked (revision 2). `protocol`: the stream protocol
        revision offered; 2 (lean frames: a request waits for its reply only, a reply
        acks its request, acks give credits back) unless the broker only speaks 1.
        Raises BusError (StreamClosed) when the broker refuses."""
        if self._call is not None or self._core.closed:
            raise RuntimeError("register() once per Client: one Client is one agent stream")
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            frame = self._core.register_frame(agent_id, model, topics, credits, future,
                                              protocol)
        if self._open(frame):
            self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                            name=f"latentbus-{agent_id}")
            self._reader.start()
        else:  # close() came first: its end answers the Register
            self._finish(StreamClosed.closed_locally())
        try:
            registered = self._wait(frame, future, timeout)
        except BaseException:
            # Timed out or refused: end the stream, or a Registered coming late would
            # leave a registered agent that can neither send nor register again.
            self.close(timeout=1.0)
            raise
        with self._lock:
            return self._core.on_registered(registered)

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
        envelope = self._core.send_envelope(
            to=to, topic=topic, text=text, array=array, encoding=encoding, latent=latent,
            message_class=message_class, deadline=deadline, metadata=metadata,
            message_id=message_id, correlation_id=correlation_id,
            expects_reply=expects_reply, traceparent=traceparent, tracestate=tracestate)
        return self._send_envelope(envelope, text_fallback, timeout)

    def request(self, to: str | None = None, *, topic: str | None = None,
                timeout: float = 10.0, **kwargs) -> Delivery:
        """Sends with expects_reply and a deadline `timeout` seconds away, and returns
        the first reply (already acked). A request to an agent (`to`) takes its reply
        only from that agent: a delivery carrying this request's id from anyone else
        is counted in `ignored_replies`, logged, and left to receive() like any other
        delivery. For a request to a topic the broker decides who may answer. Raises
        BusError: the send's refusal, or DEADLINE_EXCEEDED when no reply came in time."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            message_id = self._core.expect_reply(to, kwargs.pop("message_id", None), future)
            wants_result = self._core.request_wants_result(kwargs.get("text_fallback"))
        try:
            if wants_result:
                self.send(to, topic=topic, message_id=message_id, expects_reply=True,
                          deadline=timeout, timeout=timeout, **kwargs)
            else:
                kwargs.pop("text_fallback", None)
                self._send_unanswered(self._core.request_envelope(
                    to=to, topic=topic, message_id=message_id, timeout=timeout, **kwargs),
                    timeout)
            try:
                return future.result(timeout=timeout + protocol.REPLY_GRACE_S)
            except concurrent.futures.TimeoutError:
                raise self._core.no_reply(message_id, timeout) from None
        finally:
            with self._lock:
                self._core.forget_reply(message_id)

    def reply(self, delivery: Delivery, *, message_class="result", **kwargs) -> SendResult:
        """Answers `delivery` (a request): addressed to its sender, correlated to it. On
        revision 2 the reply acks the request (a later ack() of it writes nothing), and a
        repeat of the request (redelivered after a lost stream) is not handed over, as
        after ack()."""
        with self._lock:
            self._core.replying(delivery)
        try:
            result = self.send(delivery.sender_id, correlation_id=delivery.message_id,
                               message_class=message_class, **kwargs)
        except BaseException:
            with self._lock:
                self._core.reply_failed(delivery)
            raise
        if self._core.lean:  # the reply acked it: its repeats waiting are acked, as by ack()
            with self._lock, self._inbox.mutex:
                repeats = self._core.take_queued_repeats(delivery, self._inbox.queue)
            for write in repeats:
                self._write_quietly(write)  # the reply went: nothing to raise now
        return result

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
            raise self._core.end
        with self._lock:
            credit = self._core.consumed(item)
        if credit is not None:
            self._write_quietly(credit)
        return item

    def __iter__(self) -> Iterator[Delivery]:
        """Deliveries until the stream ends (StreamClosed is raised unless close() ended it)."""
        while True:
            try:
                yield self.receive()
            except StreamClosed:
                if self._core.closed:
                    return
                raise

    def ack(self, delivery: Delivery) -> None:
        """Marks a delivery processed; it will not be redelivered. With dedup_window, a
        repeat of it waiting to be received (redelivered before this ack) is acked too
        and never handed over."""
        with self._lock:
            frame = self._core.ack_frame(delivery)
            with self._inbox.mutex:
                repeats = self._core.take_queued_repeats(delivery, self._inbox.queue)
        for write in ([frame] if frame is not None else []) + repeats:
            self._write(write)

    @property
    def pending_deliveries(self) -> int:
        """Deliveries received from the broker and not yet taken by receive()."""
        return sum(1 for item in list(self._inbox.queue) if item is not _END)

    @property
    def send_credits(self) -> int:
        with self._lock:
            return self._core.send_credits

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
        request = self._core.publish_request(
            to=to, topic=topic, sender_id=sender_id, text=text, array=array,
            encoding=encoding, latent=latent, message_class=message_class,
            deadline=deadline, metadata=metadata, message_id=message_id)
        return _rpc.publish_result(self._unary("Publish", request, timeout))

    def route_query(self, to: str | None = None, *, topic: str | None = None,
                    message_class="context", has_text: bool = False, has_latent: bool = False,
                    sender_id: str | None = None, model_id: str = "",
                    timeout: float | None = None) -> RouteQueryResult:
        """What a send would do per recipient (latent or text, bridge, fidelity) and the
        refusal it would meet, without sending."""
        request = self._core.route_query_request(
            sender_id=sender_id, to=to, topic=topic, message_class=message_class,
            has_text=has_text, has_latent=has_latent, model_id=model_id)
        return RouteQueryResult.from_proto(self._unary("RouteQuery", request, timeout))

    def list_agents(self, timeout: float | None = None):
        """Admin: the connected agents (latentbus.v1.AgentInfo messages)."""
        return list(self._unary("ListAgents", broker_pb2.ListAgentsRequest(), timeout).agents)

    def list_bridges(self, timeout: float | None = None):
        """Admin: the loaded bridges (latentbus.v1.BridgeInfo messages)."""
        return list(self._unary("ListBridges", broker_pb2.ListBridgesRequest(),
                                timeout).bridges)

    def get_stats(self, timeout: float | None = None) -> broker_pb2.GetStatsResponse:
        """Admin: counters and gauges."""
        return self._unary("GetStats", broker_pb2.GetStatsRequest(), timeout)

    # -- lifecycle ---------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Ends the stream (unacked deliveries are redelivered to the next stream of this
        agent id), a reconnect in progress, and the channels. Idempotent."""
        with self._lock:
            if not self._core.close():
                return
            outbox = self._outbox
        self._closing.set()
        if outbox is not None:
            outbox.put(None)  # half-close: the broker ends the stream with OK
        # (From on_error, on the reader thread, there is nothing to wait for.)
        if self._reader is not None and threading.current_thread() is not self._reader:
            self._reader.join(timeout)
            if self._reader.is_alive():
                self._call.cancel()
                self._reader.join(timeout)
        for channel in self._opened_channels():
            channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------

    @staticmethod
    def _requests(outbox: queue.Queue):
        while True:
            frame = outbox.get()
            if frame is None:
                return
            yield frame

    def _open(self, register: broker_pb2.AgentFrame) -> bool:
        """Opens a Connect stream to the core's current broker, `register` its first
        frame; False (nothing left open) once the client is closed."""
        outbox: queue.Queue = queue.Queue()
        outbox.put(register)
        call = self._stub(self._core.address).Connect(self._requests(outbox),
                                                      metadata=self._metadata)
        with self._lock:
            if not self._core.closed:
                self._outbox, self._call = outbox, call
                return True
        outbox.put(None)
        call.cancel()
        return False

    def _read_loop(self) -> None:
        """Reads each stream until it ends; opens the next one while the core says so.
        Whatever raises while reconnecting (opening a channel, say, when a root_ca file
        is gone) is the end's cause: the client ends with it rather than leave a dead
        reader behind and its callers waiting forever."""
        cause = self._read_stream()
        try:
            while self._reopen(cause):
                cause = self._read_stream()
        except Exception as e:  # logged by the core
            cause = e
        self._finish(cause)

    def _reopen(self, cause: BaseException | None) -> bool:
        """After a stream ended with `cause`: waits as long as the core says and opens
        the next stream; False when there is to be none."""
        with self._lock:
            self._outbox.put(None)  # lets gRPC's request consumer finish
            wait = self._core.lost(cause)
            self._credit_cond.notify_all()
        if wait is None or self._closing.wait(wait):
            return False
        with self._lock:
            frame = self._core.reopen_frame()
        return frame is not None and self._open(frame)

    def _finish(self, cause: BaseException | None) -> None:
        """The end: every pending call fails, receive() raises once the inbox is empty."""
        with self._lock:
            outcome = self._core.ended(cause)
            self._credit_cond.notify_all()
        self._core.complete(outcome, self._inbox.put)
        self._inbox.put(_END)

    def _read_stream(self) -> BaseException | None:
        """Handles the current stream's frames; what ended it (None: the broker, OK)."""
        try:
            for frame in self._call:
                self._dispatch(frame)
        except Exception as e:  # grpc.RpcError, or a bug (logged by the core)
            return e
        return None

    def _dispatch(self, frame: broker_pb2.BrokerFrame) -> None:
        """Handles one frame from the broker (the reader thread's, or a test's)."""
        with self._lock:
            outcome = self._core.feed(frame)
            if outcome.credits_changed:
                self._credit_cond.notify_all()
            # Queued with the feed, under the lock: no request claimed after it (a send
            # on another thread) can go out before the requests a Registered resends.
            if self._core.end is None and not self._core.closed:
                for write in outcome.writes:
                    self._outbox.put(write)
            # Into the inbox under the lock that ack() holds while it takes the queued
            # repeats of what it acks: a repeat fed before the ack is then in the inbox
            # when ack() looks (the inbox is unbounded: put does not block).
            if outcome.delivery is not None:
                self._inbox.put(outcome.delivery)
                outcome.delivery = None
        self._core.complete(outcome, self._inbox.put)

    def _write(self, frame) -> None:
        """Writes an ack or credit on the current stream (lost with it if it breaks)."""
        with self._lock:
            self._core.check_open()
            if self._outbox is not None:
                self._outbox.put(frame)

    def _write_request(self, frame) -> None:
        """Writes a request frame now, or leaves it to the next stream (Protocol.claim)."""
        with self._lock:
            self._core.check_open()
            if self._core.claim(frame):
                self._outbox.put(frame)

    def _write_quietly(self, frame) -> None:
        try:
            self._write(frame)
        except StreamClosed:
            pass

    def _wait(self, request, future, timeout: float | None):
        """The answer to `request` (an AgentFrame written with `future` as its waiter)."""
        timeout = self._core.wait_limit(timeout)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            with self._lock:
                error = self._core.timed_out(request, timeout)
            raise error from None

    def _subscription(self, topic: str, on: bool, timeout: float | None) -> None:
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            frame = self._core.subscribe_frame(topic, on, future)
        self._write_request(frame)
        self._wait(frame, future, timeout)

    def _send_frame(self, envelope, waiter, deadline: float) -> broker_pb2.AgentFrame:
        """The Send frame for `envelope` (Protocol.send_frame), built with the send
        credit it takes, waiting for one until `deadline`. One hold of the lock: a frame
        whose credit was the lost stream's is pending before the next Registered, which
        counts it against the new credits."""
        with self._credit_cond:
            while (wait := self._core.take_send_credit(deadline, time.monotonic())) is not None:
                self._credit_cond.wait(wait)
            return self._core.send_frame(envelope, waiter)

    def _send_envelope(self, envelope, text_fallback, timeout: float | None) -> SendResult:
        try:
            return self._send_once(envelope, timeout)
        except BusError as e:
            if not self._core.resends_with_text(e, envelope, text_fallback):
                raise
        envelope.text = text_fallback()
        return self._send_once(envelope, timeout)

    def _send_once(self, envelope, timeout: float | None) -> SendResult:
        self._core.check_size(envelope)
        timeout = self._core.wait_limit(timeout)
        future: concurrent.futures.Future = concurrent.futures.Future()
        frame = self._send_frame(envelope, future, time.monotonic() + timeout)
        self._write_request(frame)
        return self._core.send_result(self._wait(frame, future, timeout))

    def _send_unanswered(self, envelope, timeout: float) -> None:
        """Writes a revision-2 request's send, which asks for no SendResult."""
        self._core.check_size(envelope)
        self._write_request(self._send_frame(envelope, None, time.monotonic() + timeout))

    def _unary(self, method: str, request, timeout: float | None):
        """Calls `method` of the Broker service, on the next broker while one is
        unreachable (ClientBase._unary_failed)."""
        targets = list(self._unary_targets())
        for i, (index, stub) in enumerate(targets):
            try:
                return getattr(stub, method)(request, metadata=self._metadata,
                                             timeout=self._core.wait_limit(timeout))
            except grpc.RpcError as e:
                error = self._unary_failed(e, index, last=i == len(targets) - 1)
                if error is not None:
                    raise error from None


def connect(address: str | Sequence[str], **kwargs) -> Client:
    """A Client for the broker at `address` (host:port, or several brokers of one
    cluster); see Client.__init__ for token=, tls=, root_ca=, timeout=, on_error=,
    max_message_bytes=, reconnect=, backoff_initial=, backoff_max=, dedup_window=. The
    channels connect lazily."""
    return Client(address, **kwargs)
