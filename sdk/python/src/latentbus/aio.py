"""The asyncio client (grpc.aio): the same API as latentbus.client.Client, with
coroutines. Create it inside a running event loop:

    import latentbus                                   # latentbus.aio is imported with it
    async with latentbus.aio.connect("127.0.0.1:7070") as bus:
        await bus.register("planner")
        reply = await bus.request("worker-1", text="2+2?", timeout=5)

Deliveries are read by one task per client; `await bus.receive()` or
`async for d in bus` hands them out in arrival order; `await d.ack()` acks.
Not thread-safe: use one event loop per client. Failover (an address list, reconnects,
dedup_window) is the sync client's (latentbus.client): the reader task reconnects.

This module is the transport: a reader task, an asyncio queue and grpc.aio around the
sans-IO latentbus.protocol.Protocol, which decides what each frame means.
"""
from __future__ import annotations

import asyncio
import functools
import time
from typing import AsyncIterator, Callable, Sequence

import grpc

from latentbus import _base, _rpc, connection, protocol
from latentbus.errors import BusError, StreamClosed
from latentbus.messages import Delivery, Registered, RouteQueryResult, SendResult
from latentbus.v1 import broker_pb2

_END = object()

# A write is given at least this long once it holds the write lock (as the C++ client's
# kMinWriteWait): a frame that flow control is letting through is not cancelled, with
# its stream, for a caller's deadline that is all but spent.
MIN_WRITE_WAIT = 1.0


class _LockWaitTimeout(Exception):
    """A request's write found no turn: other writes held the stream that long."""


class AsyncClient(_base.ClientBase):
    """Create with latentbus.aio.connect(); close with `await close()` or `async with`."""

    def __init__(self, address: str | Sequence[str], *, token: str | None = None,
                 tls: bool = False, root_ca=None, timeout: float = 10.0,
                 on_error: Callable[[BusError], None] | None = None, channel_options=(),
                 max_message_bytes: int | None = None, reconnect: bool = True,
                 backoff_initial: float = 0.1, backoff_max: float = 5.0,
                 dedup_window: int = 4096):
        """Arguments as latentbus.client.Client."""
        make_channel = functools.partial(connection.aio_channel, tls=tls, root_ca=root_ca)
        super().__init__(address, make_channel, channel_options=channel_options, token=token,
                         timeout=timeout, on_error=on_error,
                         max_message_bytes=max_message_bytes, reconnect=reconnect,
                         backoff_initial=backoff_initial, backoff_max=backoff_max,
                         dedup_window=dedup_window)
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._write_lock = asyncio.Lock()
        self._credit_cond = asyncio.Condition()
        self._call = None
        self._reader: asyncio.Task | None = None
        self._closing: asyncio.Event | None = None  # ends a reconnect's wait
        self._stuck = None  # the call _write_frames reset, if any

    # -- stream ----------------------------------------------------------------------

    async def register(self, agent_id: str, model=None, *, topics=(), credits: int = 64,
                       timeout: float | None = None, protocol: int = 2) -> Registered:
        """As Client.register."""
        if self._call is not None or self._core.closed:
            raise RuntimeError("register() once per client: one client is one agent stream")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        frame = self._core.register_frame(agent_id, model, topics, credits, future, protocol)
        self._closing = asyncio.Event()
        self._open()
        self._reader = loop.create_task(self._read_loop(frame))
        try:
            registered = await self._wait(frame, future, timeout)
        except BaseException:
            await self.close(timeout=1.0)  # as Client.register: no half-registered stream
            raise
        return self._core.on_registered(registered)

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
        envelope = self._core.send_envelope(
            to=to, topic=topic, text=text, array=array, encoding=encoding, latent=latent,
            message_class=message_class, deadline=deadline, metadata=metadata,
            message_id=message_id, correlation_id=correlation_id,
            expects_reply=expects_reply, traceparent=traceparent, tracestate=tracestate)
        return await self._send_envelope(envelope, text_fallback, timeout)

    async def request(self, to: str | None = None, *, topic: str | None = None,
                      timeout: float = 10.0, **kwargs) -> Delivery:
        """As Client.request: a request to an agent takes its reply only from that agent."""
        future = asyncio.get_running_loop().create_future()
        message_id = self._core.expect_reply(to, kwargs.pop("message_id", None), future)
        try:
            if self._core.request_wants_result(kwargs.get("text_fallback")):
                await self.send(to, topic=topic, message_id=message_id, expects_reply=True,
                                deadline=timeout, timeout=timeout, **kwargs)
            else:
                kwargs.pop("text_fallback", None)
                await self._send_unanswered(self._core.request_envelope(
                    to=to, topic=topic, message_id=message_id, timeout=timeout, **kwargs),
                    timeout)
            try:
                return await asyncio.wait_for(asyncio.shield(future),
                                              timeout + protocol.REPLY_GRACE_S)
            except asyncio.TimeoutError:
                raise self._core.no_reply(message_id, timeout) from None
        finally:
            self._core.forget_reply(message_id)

    async def reply(self, delivery: Delivery, *, message_class="result", **kwargs) -> SendResult:
        """As Client.reply (on revision 2 the reply acks the request)."""
        self._core.replying(delivery)
        try:
            result = await self.send(delivery.sender_id, correlation_id=delivery.message_id,
                                     message_class=message_class, **kwargs)
        except BaseException:
            self._core.reply_failed(delivery)
            raise
        if self._core.lean:  # the reply acked it: its repeats waiting are acked, as by ack()
            for write in self._core.take_queued_repeats(delivery, self._inbox._queue):
                await self._write_quietly(write)  # the reply went: nothing to raise now
        return result

    async def receive(self, timeout: float | None = None) -> Delivery:
        """As Client.receive (TimeoutError after `timeout`, StreamClosed at the end)."""
        if self._call is None:
            raise RuntimeError("register() first")
        try:
            if not self._inbox.empty() or (timeout is not None and timeout <= 0):
                # wait_for(..., 0) times out even when an item waits (Python <= 3.11).
                item = self._inbox.get_nowait()
            else:
                item = await asyncio.wait_for(self._inbox.get(), timeout)
        except (asyncio.TimeoutError, asyncio.QueueEmpty):
            raise TimeoutError(f"no delivery within {timeout} s") from None
        if item is _END:
            self._inbox.put_nowait(_END)
            raise self._core.end
        credit = self._core.consumed(item)
        if credit is not None:
            await self._write_quietly(credit)
        return item

    def __aiter__(self) -> AsyncIterator[Delivery]:
        return self._iterate()

    async def _iterate(self):
        while True:
            try:
                yield await self.receive()
            except StreamClosed:
                if self._core.closed:
                    return
                raise

    async def ack(self, delivery: Delivery) -> None:
        """As Client.ack (a repeat waiting to be received is acked too)."""
        frame = self._core.ack_frame(delivery)
        repeats = self._core.take_queued_repeats(delivery, self._inbox._queue)
        for write in ([frame] if frame is not None else []) + repeats:
            await self._write(write)

    @property
    def pending_deliveries(self) -> int:
        return sum(1 for item in list(self._inbox._queue) if item is not _END)

    @property
    def send_credits(self) -> int:
        return self._core.send_credits

    # -- unary RPCs --------------------------------------------------------------------

    async def publish(self, to: str | None = None, *, topic: str | None = None,
                      sender_id: str | None = None, text: str | None = None, array=None,
                      encoding=None, latent=None, message_class="context", deadline=None,
                      metadata=None, message_id: str | None = None,
                      timeout: float | None = None) -> SendResult:
        """As Client.publish (MessageTooLarge before sending when over the limit)."""
        request = self._core.publish_request(
            to=to, topic=topic, sender_id=sender_id, text=text, array=array,
            encoding=encoding, latent=latent, message_class=message_class,
            deadline=deadline, metadata=metadata, message_id=message_id)
        return _rpc.publish_result(await self._unary("Publish", request, timeout))

    async def route_query(self, to: str | None = None, *, topic: str | None = None,
                          message_class="context", has_text: bool = False,
                          has_latent: bool = False, sender_id: str | None = None,
                          model_id: str = "", timeout: float | None = None) -> RouteQueryResult:
        request = self._core.route_query_request(
            sender_id=sender_id, to=to, topic=topic, message_class=message_class,
            has_text=has_text, has_latent=has_latent, model_id=model_id)
        return RouteQueryResult.from_proto(await self._unary("RouteQuery", request, timeout))

    async def list_agents(self, timeout: float | None = None):
        return list((await self._unary("ListAgents", broker_pb2.ListAgentsRequest(),
                                       timeout)).agents)

    async def list_bridges(self, timeout: float | None = None):
        return list((await self._unary("ListBridges", broker_pb2.ListBridgesRequest(),
                                       timeout)).bridges)

    async def get_stats(self, timeout: float | None = None) -> broker_pb2.GetStatsResponse:
        return await self._unary("GetStats", broker_pb2.GetStatsRequest(), timeout)

    # -- lifecycle ---------------------------------------------------------------------

    async def close(self, timeout: float = 5.0) -> None:
        """As Client.close."""
        if not self._core.close():
            return
        if self._closing is not None:
            self._closing.set()
        if self._call is not None:
            if self._core.end is None:
                try:  # behind a stuck write: give up on the half-close, the cancel follows
                    await asyncio.wait_for(self._write_lock.acquire(), timeout)
                    try:
                        await asyncio.wait_for(self._call.done_writing(), timeout)
                    finally:
                        self._write_lock.release()
                except Exception:  # the stream already ended, or the wait ran out
                    pass
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), timeout)
            except asyncio.TimeoutError:
                self._call.cancel()
                await asyncio.wait([self._reader], timeout=timeout)
        for channel in self._opened_channels():
            await channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- internals ---------------------------------------------------------------------

    def _open(self) -> None:
        """Opens a Connect stream to the core's current broker."""
        self._call = self._stub(self._core.address).Connect(metadata=self._metadata)

    async def _read_loop(self, register: broker_pb2.AgentFrame) -> None:
        """Writes `register` and reads the stream until it ends; opens the next one, with
        the core's next Register, while the core says so. Whatever raises while
        reconnecting is the end's cause, as in the sync client."""
        cause = None
        try:
            cause = await self._serve_stream(register)
            while (register := await self._reopen(cause)) is not None:
                cause = await self._serve_stream(register)
        except asyncio.CancelledError:
            cause = StreamClosed.closed_locally()
        except Exception as e:  # logged by the core
            cause = e
        outcome = self._core.ended(cause)
        self._core.complete(outcome, self._inbox.put_nowait)
        await self._credits_changed()
        self._inbox.put_nowait(_END)

    async def _reopen(self, cause: BaseException | None) -> broker_pb2.AgentFrame | None:
        """After a stream ended with `cause`: waits as long as the core says and opens
        the next stream; the Register to write on it, None when there is to be none."""
        wait = self._core.lost(cause)
        await self._credits_changed()
        if wait is None or await self._closed_within(wait):
            return None
        register = self._core.reopen_frame()
        if register is not None:
            self._open()
        return register

    async def _serve_stream(self, register) -> BaseException | None:
        """Writes `register` on the current stream, then handles its frames; what ended
        it (None: the broker, OK)."""
        call = self._call
        try:
            try:
                if not await self._write_frames(call, (register,), None):
                    return self._stuck_error(call)
            except asyncio.InvalidStateError:
                pass  # the call ended before the write (refused): reading it says how
            while (frame := await call.read()) is not grpc.aio.EOF:
                await self._dispatch(frame)
        except asyncio.CancelledError:
            if self._stuck is call and not self._core.closed:
                return self._stuck_error(call)  # our reset of a stuck stream: reconnect
            raise
        except Exception as e:  # grpc.RpcError, or a bug (logged by the core)
            return e
        return None

    async def _closed_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def _credits_changed(self) -> None:
        async with self._credit_cond:
            self._credit_cond.notify_all()

    async def _dispatch(self, frame: broker_pb2.BrokerFrame) -> None:
        """Handles one frame from the broker (the reader task's, or a test's)."""
        outcome = self._core.feed(frame)
        # Nothing yields between the feed and taking the write lock, and the writes
        # keep it: no request claimed after the feed can go out before the requests a
        # Registered resends.
        await self._write_all_quietly(outcome.writes)
        if outcome.credits_changed:
            await self._credits_changed()
        self._core.complete(outcome, self._inbox.put_nowait)

    async def _write_frames(self, call, frames, limit: float | None, *,
                            bound_lock_wait: bool = False) -> bool:
        """Writes `frames` in order on `call`, holding the write lock for all of them,
        within `limit` seconds (None: the client's timeout; at least MIN_WRITE_WAIT once
        the lock is held; counted from then unless `bound_lock_wait`). A write that flow control holds that long (a broker that
        stopped reading) would otherwise wait until keepalive gives the connection up,
        tens of seconds later; gRPC cannot take back one message, so the stream is
        cancelled instead (the reader task reconnects, as after any lost stream) and
        False is returned. The wait for the lock counts against `limit` only with
        `bound_lock_wait` (a request's write: _LockWaitTimeout when it runs out, nothing
        written); other writes wait for it, every holder being bounded by its own limit.
        A task cancelled inside a write leaves the call cancelled (grpc.aio does that):
        it counts as reset too, so the reader reconnects. Raises what a write raises."""
        limit = self._core.wait_limit(limit)
        start = time.monotonic()
        if not self._write_lock.locked():
            await self._write_lock.acquire()  # free: at once, no task, no timer
        elif bound_lock_wait:
            try:
                await asyncio.wait_for(self._write_lock.acquire(), limit)
            except asyncio.TimeoutError:
                raise _LockWaitTimeout(limit) from None
        else:
            await self._write_lock.acquire()
        if not bound_lock_wait:
            start = time.monotonic()  # the limit counts from the write's turn
        # The reader task's own cancellation (asyncio.run ending) ends the client; any
        # other task's, inside a write, leaves the call cancelled: a reset to reconnect.
        reset_on_cancel = asyncio.current_task() is not self._reader
        try:
            for frame in frames:
                remaining = max(start + limit - time.monotonic(), MIN_WRITE_WAIT)
                try:
                    await asyncio.wait_for(self._guarded_write(call, frame, reset_on_cancel),
                                           remaining)
                except asyncio.TimeoutError:
                    if self._stuck is not call:
                        protocol.log.warning("latentbus: %s: the broker took no data for "
                                             "%.3g s; resetting the stream",
                                             self._core.agent_id, remaining)
                    self._stuck = call
                    call.cancel()
                    return False
        finally:
            self._write_lock.release()
        return True

    async def _guarded_write(self, call, frame, reset_on_cancel: bool) -> None:
        """call.write(frame); cancelled inside it, grpc.aio cancels the whole call, and
        with `reset_on_cancel` the call is marked as reset in the same step, before the
        reader can see it end and take it for a close."""
        try:
            await call.write(frame)
        except asyncio.CancelledError:
            if reset_on_cancel:
                self._stuck = call
            raise

    def _stuck_error(self, call) -> grpc.aio.AioRpcError:
        """The lost stream's cause after _write_frames reset `call`: UNAVAILABLE, which
        the core reconnects after."""
        return grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(),
                                    grpc.aio.Metadata(),
                                    details="a write did not complete (the broker took no "
                                            "data within its time limit, or its task was "
                                            "cancelled): stream reset by the client")

    async def _write(self, frame, call=None, limit: float | None = None, *,
                     bound_lock_wait: bool = False) -> bool:
        """Writes `frame` on `call` (default: the current stream) within `limit`
        seconds (_write_frames); False when the stream was reset for it. A stream that
        broke under the write takes the frame with it: an ack is then answered by the
        broker's redelivery (and dedup_window), a request is written again after the
        reconnect, and a final end fails the pending calls; once that end is known it is
        raised."""
        self._core.check_open()
        call = call or self._call
        try:
            return await self._write_frames(call, (frame,), limit,
                                            bound_lock_wait=bound_lock_wait)
        except _LockWaitTimeout:
            raise
        except Exception:
            if self._core.end is not None:
                raise self._core.end from None
        return True

    async def _write_request(self, frame, timeout: float) -> None:
        """Writes a request frame now, or leaves it to the next stream (Protocol.claim).
        A request that found no turn to be written within `timeout` seconds, or whose
        write the broker did not take in that time (the stream is then reset:
        _write_frames), is forgotten (never written again; a send's credit comes back)
        and TimeoutError raised."""
        if not self._core.claim(frame):
            return
        try:
            written = await self._write(frame, self._call, timeout, bound_lock_wait=True)
        except _LockWaitTimeout:
            error = self._core.unsent(frame, timeout)
            await self._credits_changed()
            raise error from None
        except asyncio.CancelledError:
            # Never written, or reset with its stream: forgotten, and a send's credit back.
            self._core.unsent(frame, 0)
            asyncio.get_running_loop().create_task(self._credits_changed())
            raise
        if not written:
            raise self._core.write_timed_out(frame, timeout)

    async def _write_all_quietly(self, frames) -> None:
        """Writes `frames` in order on the current stream, holding the write lock for
        all of them; a stream gone takes them with it, as in _write(), and one that
        takes nothing within the client's timeout is reset (_write_frames)."""
        if not frames or self._core.end is not None or self._core.closed:
            return
        try:
            await self._write_frames(self._call, frames, None)
        except Exception:  # the stream broke: what it took is the next stream's
            pass

    async def _write_quietly(self, frame) -> None:
        try:
            await self._write(frame)
        except (StreamClosed, grpc.RpcError, TimeoutError):
            pass

    async def _wait(self, request, future, timeout: float | None):
        """The answer to `request` (an AgentFrame written with `future` as its waiter)."""
        timeout = self._core.wait_limit(timeout)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            raise self._core.timed_out(request, timeout) from None
        except asyncio.CancelledError:
            self._core.abandon(request)
            raise

    async def _subscription(self, topic: str, on: bool, timeout: float | None) -> None:
        future = asyncio.get_running_loop().create_future()
        frame = self._core.subscribe_frame(topic, on, future)
        await self._write_request(frame, self._core.wait_limit(timeout))
        await self._wait(frame, future, timeout)

    async def _send_frame(self, envelope, waiter, deadline: float) -> broker_pb2.AgentFrame:
        """As Client._send_frame: nothing yields between taking the credit and building
        the frame."""
        async with self._credit_cond:
            while (wait := self._core.take_send_credit(deadline, time.monotonic())) is not None:
                try:
                    await asyncio.wait_for(self._credit_cond.wait(), wait)
                except asyncio.TimeoutError:
                    pass
            return self._core.send_frame(envelope, waiter)

    async def _send_envelope(self, envelope, text_fallback, timeout: float | None) -> SendResult:
        try:
            return await self._send_once(envelope, timeout)
        except BusError as e:
            if not self._core.resends_with_text(e, envelope, text_fallback):
                raise
        envelope.text = text_fallback()
        return await self._send_once(envelope, timeout)

    async def _send_once(self, envelope, timeout: float | None) -> SendResult:
        self._core.check_size(envelope)
        timeout = self._core.wait_limit(timeout)
        future = asyncio.get_running_loop().create_future()
        frame = await self._send_frame(envelope, future, time.monotonic() + timeout)
        await self._write_request(frame, timeout)
        return self._core.send_result(await self._wait(frame, future, timeout))

    async def _send_unanswered(self, envelope, timeout: float) -> None:
        """Writes a revision-2 request's send, which asks for no SendResult."""
        self._core.check_size(envelope)
        await self._write_request(await self._send_frame(envelope, None,
                                                         time.monotonic() + timeout), timeout)

    async def _unary(self, method: str, request, timeout: float | None):
        """As Client._unary."""
        targets = list(self._unary_targets())
        for i, (index, stub) in enumerate(targets):
            try:
                return await getattr(stub, method)(request, metadata=self._metadata,
                                                   timeout=self._core.wait_limit(timeout))
            except grpc.RpcError as e:
                error = self._unary_failed(e, index, last=i == len(targets) - 1)
                if error is not None:
                    raise error from None


def connect(address: str | Sequence[str], **kwargs) -> AsyncClient:
    """An AsyncClient for `address` (one broker or several, as latentbus.connect); call
    from inside a running event loop."""
    return AsyncClient(address, **kwargs)
