"""The two transports around the core (latentbus.client, latentbus.aio) without a broker:
a stream that only records what is written shows what goes out, and in what order, when
frames the broker would send are handed to the client's dispatcher."""
from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import sys
import threading
import time

import latentbus
from latentbus import aio
from latentbus.v1 import broker_pb2
from test_protocol import Unavailable, registered_frame, send_result_frame

NOWHERE = "127.0.0.1:1"  # channels connect lazily: nothing is ever dialled


def sends(frames) -> list[str]:
    """The message ids of the Send frames among `frames`, in order."""
    return [f.send.envelope.message_id for f in frames if f.WhichOneof("frame") == "send"]


def lose_the_stream(core) -> broker_pb2.AgentFrame:
    """The stream breaks and the core wants another: the Register to write on it."""
    assert core.lost(Unavailable()) is not None
    return core.reopen_frame()


# -- sync ----------------------------------------------------------------------------------


class RecordingOutbox(queue.Queue):
    """The sync client's outbox, recording each frame queued."""

    def __init__(self):
        super().__init__()
        self.written: list = []

    def put(self, frame, *args, **kwargs):
        if frame is not None:
            self.written.append(frame)
        super().put(frame, *args, **kwargs)


def sync_client_with_pending_sends(count: int, send_credits: int):
    """A registered sync Client with `count` sends written and unanswered; their ids."""
    client = latentbus.connect(NOWHERE, timeout=5)
    core = client._core
    future = concurrent.futures.Future()
    with client._lock:
        frame = core.register_frame("me", None, (), 4, future)
    client._outbox = queue.Queue()
    client._dispatch(registered_frame(frame.seq, send_credits=send_credits))
    core.on_registered(future.result(0))
    ids = []
    for i in range(count):
        envelope = core.send_envelope(to="you", text=str(i), array=None, encoding=None,
                                      latent=None)
        with client._lock:
            assert core.take_send_credit(time.monotonic() + 1, time.monotonic()) is None
            sent = core.send_frame(envelope, concurrent.futures.Future())
            assert core.claim(sent)
        ids.append(envelope.message_id)
    return client, ids


def test_sync_requests_written_again_go_out_before_sends_waiting_for_the_reconnect():
    client, resent = sync_client_with_pending_sends(1000, send_credits=1000)
    core = client._core
    with client._lock:
        register = lose_the_stream(core)
    results = []

    def send_new(i: int):  # waits for a send credit: the next stream's Registered grants them
        results.append(client.send("you", text="new", message_id=f"new-{i}", timeout=5))

    senders = [threading.Thread(target=send_new, args=(i,)) for i in range(8)]
    for sender in senders:
        sender.start()
    time.sleep(0.1)
    client._outbox = outbox = RecordingOutbox()
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the senders get every chance to go first
    try:
        client._dispatch(registered_frame(register.seq, send_credits=2000))
    finally:
        sys.setswitchinterval(switch_interval)
    deadline = time.monotonic() + 5
    while len(sends(outbox.written)) < 1008 and time.monotonic() < deadline:
        time.sleep(0.01)
    for frame in outbox.written[1000:]:
        client._dispatch(send_result_frame(frame.seq, frame.send.envelope.message_id))
    for sender in senders:
        sender.join(5)
    assert sends(outbox.written)[:1000] == resent  # older requests first
    assert len(results) == 8


# -- asyncio -------------------------------------------------------------------------------


class SlowCall:
    """An aio stream that records what is written; writing the frame with message id
    `slow` takes a while, letting other tasks run meanwhile."""

    def __init__(self, slow: str):
        self.written: list = []
        self._slow = slow

    async def write(self, frame) -> None:
        self.written.append(frame)
        if sends([frame]) == [self._slow]:
            await asyncio.sleep(0.3)


async def aio_client_with_pending_sends(count: int, send_credits: int):
    """As sync_client_with_pending_sends, for an AsyncClient."""
    client = aio.connect(NOWHERE, timeout=5)
    core = client._core
    future = asyncio.get_running_loop().create_future()
    frame = core.register_frame("me", None, (), 4, future)
    client._call = SlowCall(slow="")
    await client._dispatch(registered_frame(frame.seq, send_credits=send_credits))
    core.on_registered(future.result())
    ids = []
    for i in range(count):
        envelope = core.send_envelope(to="you", text=str(i), array=None, encoding=None,
                                      latent=None)
        assert core.take_send_credit(time.monotonic() + 1, time.monotonic()) is None
        assert core.claim(core.send_frame(envelope, asyncio.get_running_loop().create_future()))
        ids.append(envelope.message_id)
    return client, ids


def test_aio_requests_written_again_go_out_before_a_send_waiting_for_the_reconnect():
    async def main():
        client, resent = await aio_client_with_pending_sends(2, send_credits=2)
        register = lose_the_stream(client._core)
        sender = asyncio.ensure_future(client.send("you", text="new", message_id="new",
                                                   timeout=5))
        await asyncio.sleep(0.1)  # waiting for a send credit
        client._call = call = SlowCall(slow=resent[0])
        await client._dispatch(registered_frame(register.seq, send_credits=8))
        for _ in range(500):
            if len(sends(call.written)) == 3:
                break
            await asyncio.sleep(0.01)
        new = next(f for f in call.written if sends([f]) == ["new"])
        await client._dispatch(send_result_frame(new.seq, "new"))
        assert (await asyncio.wait_for(sender, 5)).message_id == "new"
        assert sends(call.written) == resent + ["new"]  # older requests first

    asyncio.run(asyncio.wait_for(main(), 30))
