"""The asyncio client (grpc.aio): the same API as latentbus.client.Client, with
coroutines. Create it inside a running event loop:

    import latentbus                                   # latentbus.aio is imported with it
    async with latentbus.aio.connect("127.0.0.1:7070") as bus:
        await bus.register("planner")
        reply = await bus.request("worker-1", text="2+2?", timeout=5)

Deliveries are read by one task per client; `await bus.receive()` or
`async for d in bus` hands them out in arrival order; `await d.ack()` acks.
Not thread-safe: use one event loop per client.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator, Callable

import grpc

from latentbus import _frames, _replies, _rpc, connection
from latentbus.client import _REPLY_GRACE_S, _log_error
from latentbus.errors import BusError, StreamClosed
from latentbus.messages import (Delivery, Registered, RouteQueryResult, SendResult,
                                build_envelope, latent_for, new_message_id)
from latentbus.v1 import broker_pb2, broker_pb2_grpc

log = logging.getLogger("latentbus")

_END = object()


class AsyncClient:
    """Create with latentbus.aio.connect(); close with `await close()` or `async with`."""

    def __init__(self, address: str, *, token: str | None = None, tls: bool = False,
                 root_ca=None, timeout: float = 10.0,
                 on_error: Callable[[BusError], None] | None = None, channel_options=(),
                 max_message_bytes: int | None = None):
        """Arguments as latentbus.client.Client."""
        self.address = address
        self._channel = connection.aio_channel(address, tls=tls, root_ca=root_ca,
                                               options=channel_options)
        self._stub = broker_pb2_grpc.BrokerStub(self._channel)
        self._metadata = connection.metadata(token)
        self._timeout = timeout
        self._on_error = on_error or _log_error
        self._seq = _frames.Sequencer()
        self._pending: dict[int, asyncio.Future] = {}
        self._max_message_bytes = _frames.check_max_message_bytes(max_message_bytes)
        self._reply_waiters: dict[str, _replies.PendingReply] = {}
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._write_lock = asyncio.Lock()
        self._credit_cond = asyncio.Condition()
        self._send_credits = 0
        self._call = None
        self._reader: asyncio.Task | None = None
        self._delivery_credits: _frames.DeliveryCredits | None = None
        self._end: StreamClosed | None = None
        self._closing = False
        self._closed = False
        self.agent_id: str | None = None
        self.model = None
        self.registered: Registered | None = None
        self.go_away: str | None = None
        self.ignored_replies = 0  # as Client.ignored_replies

    # -- stream ----------------------------------------------------------------------

    async def register(self, agent_id: str, model=None, *, topics=(), credits: int = 64,
                       timeout: float | None = None) -> Registered:
        """As Client.register."""
        if self._call is not None or self._closed:
            raise RuntimeError("register() once per client: one client is one agent stream")
        self._delivery_credits = _frames.DeliveryCredits(credits)
        self._call = self._stub.Connect(metadata=self._metadata)
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())
        seq = self._seq.next()
        future = self._expect(seq)
        await self._write(_frames.register(seq, agent_id, model, topics, credits))
        frame = await self._wait(seq, future, timeout, "Registered")
        self.agent_id, self.model = agent_id, model
        self.registered = Registered.from_proto(frame.registered)
        return self.registered

    async def subscribe(self, topic: str, timeout: float | None = None) -> None:
        await self._subscription(topic, True, timeout)

    async def unsubscribe(self, topic: str, timeout: float | None = None) -> None:
        await self._subscription(topic, False, timeout)

    async def send(self, to: str | None = None, *, topic: str | None = None,
                   text: str | None = None, array=None, encoding=None, latent=None,
                   message_class="context", deadline=None, metadata=None,
                   message_id: str | None = None, correlation_id: str | None = None,
                   expects_reply: bool = False, traceparent: str | None = None,
                   tracestate: str | None = None, text_fallback: Callable[[], str] | None = None,
                   timeout: float | None = None) -> SendResult:
        """As Client.send."""
        envelope = build_envelope(
            to=to, topic=topic, text=text,
            latent=latent_for(self.model, array, encoding, latent),
            message_class=message_class, deadline=deadline, metadata=metadata,
            message_id=message_id, correlation_id=correlation_id,
            expects_reply=expects_reply, traceparent=traceparent, tracestate=tracestate,
            sender_id=self.agent_id or "")
        self._require_registered()
        try:
            return await self._send_once(envelope, timeout)
        except BusError as e:
            if e.reason != "NEEDS_TEXT" or text_fallback is None or envelope.text:
                raise
        envelope.text = text_fallback()
        return await self._send_once(envelope, timeout)

    async def request(self, to: str | None = None, *, topic: str | None = None,
                      timeout: float = 10.0, **kwargs) -> Delivery:
        """As Client.request: a request to an agent takes its reply only from that agent."""
        message_id = kwargs.pop("message_id", None) or new_message_id()
        self._check_open()
        future = asyncio.get_running_loop().create_future()
        self._reply_waiters[message_id] = _replies.PendingReply(future, to)
        try:
            await self.send(to, topic=topic, message_id=message_id, expects_reply=True,
                            deadline=timeout, timeout=timeout, **kwargs)
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout + _REPLY_GRACE_S)
            except asyncio.TimeoutError:
                raise BusError("DEADLINE_EXCEEDED", f"no reply within {timeout} s",
                               message_id=message_id) from None
        finally:
            self._reply_waiters.pop(message_id, None)

    async def reply(self, delivery: Delivery, *, message_class="result", **kwargs) -> SendResult:
        return await self.send(delivery.sender_id, correlation_id=delivery.message_id,
                               message_class=message_class, **kwargs)

    async def receive(self, timeout: float | None = None) -> Delivery:
        """As Client.receive (TimeoutError after `timeout`, StreamClosed at the end)."""
        if self._call is None:
            raise RuntimeError("register() first")
        try:
            item = await asyncio.wait_for(self._inbox.get(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no delivery within {timeout} s") from None
        if item is _END:
            self._inbox.put_nowait(_END)
            raise self._end
        await self._consumed()
        return item

    def __aiter__(self) -> AsyncIterator[Delivery]:
        return self._iterate()

    async def _iterate(self):
        while True:
            try:
                yield await self.receive()
            except StreamClosed:
                if self._closing:
                    return
                raise

    async def ack(self, delivery: Delivery) -> None:
        await self._write(_frames.ack(delivery.message_id, delivery.sender_id))

    @property
    def pending_deliveries(self) -> int:
        return sum(1 for item in list(self._inbox._queue) if item is not _END)

    @property
    def send_credits(self) -> int:
        return self._send_credits

    @property
    def max_message_bytes(self) -> int:
        """As Client.max_message_bytes."""
        return _frames.message_limit(self.registered, self._max_message_bytes)

    # -- unary RPCs --------------------------------------------------------------------

    async def publish(self, to: str | None = None, *, topic: str | None = None,
                      sender_id: str | None = None, text: str | None = None, array=None,
                      encoding=None, latent=None, message_class="context", deadline=None,
                      metadata=None, message_id: str | None = None,
                      timeout: float | None = None) -> SendResult:
        """As Client.publish (MessageTooLarge before sending when over the limit)."""
        envelope = build_envelope(
            to=to, topic=topic, text=text, latent=latent_for(self.model, array, encoding, latent),
            message_class=message_class, deadline=deadline, metadata=metadata,
            message_id=message_id)
        request = _rpc.publish_request(envelope, sender_id or self.agent_id or "")
        _frames.check_size(request.envelope, self.max_message_bytes)
        return _rpc.publish_result(await self._unary(self._stub.Publish, request, timeout))

    async def route_query(self, to: str | None = None, *, topic: str | None = None,
                          message_class="context", has_text: bool = False,
                          has_latent: bool = False, sender_id: str | None = None,
                          model_id: str = "", timeout: float | None = None) -> RouteQueryResult:
        request = _rpc.route_query_request(
            sender_id=sender_id or self.agent_id or "", to=to, topic=topic,
            message_class=message_class, has_text=has_text, has_latent=has_latent,
            model_id=model_id)
        return RouteQueryResult.from_proto(await self._unary(self._stub.RouteQuery, request,
                                                             timeout))

    async def list_agents(self, timeout: float | None = None):
        return list((await self._unary(self._stub.ListAgents, broker_pb2.ListAgentsRequest(),
                                       timeout)).agents)

    async def list_bridges(self, timeout: float | None = None):
        return list((await self._unary(self._stub.ListBridges, broker_pb2.ListBridgesRequest(),
                                       timeout)).bridges)

    async def get_stats(self, timeout: float | None = None) -> broker_pb2.GetStatsResponse:
        return await self._unary(self._stub.GetStats, broker_pb2.GetStatsRequest(), timeout)

    # -- lifecycle ---------------------------------------------------------------------

    async def close(self, timeout: float = 5.0) -> None:
        if self._closed:
            return
        self._closed = True
        if self._call is not None:
            self._closing = True
            if self._end is None:
                try:
                    async with self._write_lock:
                        await self._call.done_writing()
                except Exception:  # the stream already ended
                    pass
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), timeout)
            except asyncio.TimeoutError:
                self._call.cancel()
                await asyncio.wait([self._reader], timeout=timeout)
        await self._channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- internals ---------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                frame = await self._call.read()
                if frame is grpc.aio.EOF:
                    break
                await self._dispatch(frame)
            end = StreamClosed("ERROR_REASON_UNSPECIFIED", "the broker ended the stream",
                               grpc_code=grpc.StatusCode.OK)
        except grpc.RpcError as e:
            end = StreamClosed.from_rpc_error(e)
        except asyncio.CancelledError:
            end = StreamClosed.closed_locally()
        except Exception as e:
            log.exception("latentbus: reader failed")
            end = StreamClosed("INTERNAL", f"client reader failed: {e!r}")
        if self._closing:
            end = StreamClosed.closed_locally()
        await self._finish(end)

    async def _finish(self, end: StreamClosed) -> None:
        self._end = end
        for future in (list(self._pending.values()) +
                       [w.future for w in self._reply_waiters.values()]):
            if not future.done():
                future.set_exception(end)
        self._pending.clear()
        self._reply_waiters.clear()
        async with self._credit_cond:
            self._credit_cond.notify_all()
        self._inbox.put_nowait(_END)

    async def _dispatch(self, frame: broker_pb2.BrokerFrame) -> None:
        kind = frame.WhichOneof("frame")
        if kind == "deliver":
            await self._on_deliver(frame.deliver.envelope)
        elif kind == "credit":
            async with self._credit_cond:
                self._send_credits += frame.credit.credits
                self._credit_cond.notify_all()
        elif kind == "registered":
            async with self._credit_cond:
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
        future = self._pending.pop(seq, None) if seq else None
        if future is None or future.done():
            return False
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)
        return True

    def _unsolicited(self, error: BusError) -> None:
        waiter = (self._reply_waiters.pop(error.message_id, None)
                  if error.reason == "DEADLINE_EXCEEDED" else None)
        if waiter is not None and not waiter.future.done():
            waiter.future.set_exception(error)
            return
        try:
            self._on_error(error)
        except Exception:
            log.exception("latentbus: on_error callback failed")

    async def _on_deliver(self, envelope) -> None:
        delivery = Delivery(envelope, self)
        if envelope.correlation_id:
            waiter = self._reply_waiters.get(envelope.correlation_id)
            if waiter is not None and not waiter.accepts(envelope):
                self.ignored_replies += 1
                _replies.log_refused(self.agent_id, envelope, waiter.responder)
                waiter = None
            elif waiter is not None:
                del self._reply_waiters[envelope.correlation_id]
            if waiter is not None and not waiter.future.done():
                await self._write_quietly(_frames.ack(envelope.message_id, envelope.sender_id))
                await self._consumed()
                waiter.future.set_result(delivery)
                return
        self._inbox.put_nowait(delivery)

    async def _consumed(self) -> None:
        credits = self._delivery_credits.consumed()
        if credits:
            await self._write_quietly(_frames.credit(credits))

    def _check_open(self) -> None:
        if self._end is not None:
            raise self._end
        if self._closed:
            raise StreamClosed.closed_locally()

    async def _write(self, frame) -> None:
        self._check_open()
        try:
            async with self._write_lock:
                await self._call.write(frame)
        except Exception:
            # The stream ended under the write; report why it ended (the reader task
            # itself, writing an ack or credit, must not wait for itself).
            if asyncio.current_task() is not self._reader:
                await asyncio.wait([self._reader], timeout=self._timeout)
            if self._end is not None:
                raise self._end from None
            raise

    async def _write_quietly(self, frame) -> None:
        try:
            await self._write(frame)
        except (StreamClosed, grpc.RpcError):
            pass

    def _expect(self, seq: int) -> asyncio.Future:
        self._check_open()
        future = asyncio.get_running_loop().create_future()
        self._pending[seq] = future
        return future

    async def _wait(self, seq: int, future, timeout: float | None, what: str):
        timeout = self._timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            self._pending.pop(seq, None)
            raise TimeoutError(f"no {what} from the broker within {timeout} s") from None

    async def _subscription(self, topic: str, on: bool, timeout: float | None) -> None:
        self._require_registered()
        seq = self._seq.next()
        future = self._expect(seq)
        await self._write(_frames.subscribe(seq, topic, on))
        await self._wait(seq, future, timeout, "SubscribeResult")

    def _require_registered(self) -> None:
        if self.registered is None:
            raise RuntimeError("register() first")

    async def _take_send_credit(self, deadline: float) -> None:
        async with self._credit_cond:
            while self._send_credits <= 0:
                self._check_open()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BusError("NO_CREDIT", "the broker granted no send credit in time")
                try:
                    await asyncio.wait_for(self._credit_cond.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
            self._check_open()
            self._send_credits -= 1

    async def _send_once(self, envelope, timeout: float | None) -> SendResult:
        _frames.check_size(envelope, self.max_message_bytes)
        timeout = self._timeout if timeout is None else timeout
        await self._take_send_credit(time.monotonic() + timeout)
        seq = self._seq.next()
        future = self._expect(seq)
        await self._write(_frames.send(seq, envelope))
        frame = await self._wait(seq, future, timeout, "SendResult")
        result = frame.send_result
        return SendResult.from_proto(result.message_id, result.recipients)

    async def _unary(self, method, request, timeout: float | None):
        try:
            return await method(request, metadata=self._metadata,
                                timeout=self._timeout if timeout is None else timeout)
        except grpc.RpcError as e:
            raise BusError.from_rpc_error(e) from None


def connect(address: str, **kwargs) -> AsyncClient:
    """An AsyncClient for `address`; call from inside a running event loop."""
    return AsyncClient(address, **kwargs)
