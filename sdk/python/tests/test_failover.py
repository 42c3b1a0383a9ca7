"""Failover across the brokers of one cluster, with real processes: one nats-server with
JetStream and two `latentbus broker --cluster` on loopback (conftest.start_cluster). A
broker is SIGKILLed under its clients; they register on the other one, write again what
was left unanswered, and hand over no delivery the application had acked.

Every test runs with the sync client and with the asyncio one (driven from this thread
through AioInThread), which share these rules through latentbus.protocol."""
from __future__ import annotations

import asyncio
import collections
import inspect
import signal
import threading
import time

import grpc
import pytest

import latentbus
from conftest import free_port
from latentbus import BusError, StreamClosed, aio

FAST = dict(backoff_initial=0.05, backoff_max=0.5)  # reconnect promptly in tests


class AioInThread:
    """An aio.AsyncClient used like a sync Client: its event loop runs on a thread of its
    own and every call waits there for the coroutine's result (so several threads may
    call at once, as with the sync client)."""

    def __init__(self, address, **options):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.client = self._run(self._connect(address, options))

    @staticmethod
    async def _connect(address, options):
        return aio.connect(address, **options)

    def _run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __getattr__(self, name):
        attribute = getattr(self.client, name)
        if inspect.iscoroutinefunction(attribute):
            return lambda *args, **kwargs: self._run(attribute(*args, **kwargs))
        return attribute

    def close(self, timeout: float = 2) -> None:
        if self._loop.is_closed():
            return
        self._run(self.client.close(timeout))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


@pytest.fixture(params=["sync", "aio"])
def make_client(request):
    """make_client(address, **options) -> a sync Client or an AioInThread, by the test's
    parameter; both have ack(d) and reply(d, ...); all are closed after the test."""
    made = []

    def make(address, **options):
        client = latentbus.connect(address, **options) if request.param == "sync" else \
            AioInThread(address, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close(timeout=2)


def eventually(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def stopped(pid: int) -> bool:
    """Whether /proc says process `pid` is stopped by a signal."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def test_sends_confirmed_across_a_broker_killed_under_the_sender_arrive_once(
        start_cluster, make_client, uid):
    a, b = start_cluster()
    receiver = make_client(b.address)
    receiver.register("receiver")
    sender = make_client(f"{a.address},{b.address}", **FAST)
    sender.register("sender")
    assert sender.current_address == a.address

    received = collections.Counter()
    stop = threading.Event()

    def receive():
        while not stop.is_set():
            try:
                d = receiver.receive(timeout=0.1)
            except TimeoutError:
                continue
            received[d.message_id] += 1
            receiver.ack(d)

    confirmed, failed = [], []

    def send(worker: int, count: int):
        for i in range(count):
            message_id = f"w{worker}-{i}-{uid}"
            try:
                sender.send("receiver", text=f"{worker}/{i}", message_id=message_id, timeout=10)
                confirmed.append(message_id)
            except (BusError, TimeoutError) as e:
                failed.append((message_id, e))

    workers, each = 4, 60
    threads = [threading.Thread(target=receive)] + \
        [threading.Thread(target=send, args=(w, each)) for w in range(workers)]
    for t in threads:
        t.start()
    try:
        assert eventually(lambda: len(confirmed) >= workers * each // 3, 10)
        a.kill()  # sends are in flight: their SendResults die with the broker
        for t in threads[1:]:
            t.join(15)
        assert eventually(lambda: set(confirmed) <= set(received), 10)
        time.sleep(0.3)  # a late duplicate would arrive now
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    print(f"\nsent {workers * each}, confirmed {len(confirmed)}, failed {len(failed)}, "
          f"received {len(received)} distinct, {sum(received.values())} handed over, "
          f"sender reconnects {sender.reconnects}")
    assert not failed, failed[:3]
    assert len(confirmed) == workers * each
    assert set(received) == set(confirmed)
    assert all(n == 1 for n in received.values()), \
        [m for m, n in received.items() if n > 1][:5]
    assert sender.reconnects == 1 and sender.current_address == b.address


def test_a_receiver_moved_to_the_next_broker_gets_again_only_what_it_had_not_acked(
        start_cluster, make_client, uid):
    a, b = start_cluster()
    sender = make_client(b.address)
    sender.register("sender")
    receiver = make_client([a.address, b.address], **FAST)
    receiver.register("receiver")
    ids = [f"m{i}-{uid}" for i in range(10)]
    for i, message_id in enumerate(ids):
        sender.send("receiver", text=str(i), message_id=message_id)
    first = [receiver.receive(timeout=5) for _ in ids]
    assert [d.message_id for d in first] == ids
    for d in first[:4]:  # acked: the broker sees these
        receiver.ack(d)
    time.sleep(0.5)
    a.process.send_signal(signal.SIGSTOP)
    assert eventually(lambda: stopped(a.process.pid), 5)
    for d in first[4:7]:  # acked, but the frozen broker never reads the acks
        receiver.ack(d)
    time.sleep(0.2)
    a.kill()  # first[7:] were never acked
    # The cluster hands the 6 deliveries it saw no ack for out again (after
    # --cluster-ack-wait), through the other broker: 3 to the application, 3 acked again.
    again = []

    def take() -> bool:
        try:
            d = receiver.receive(timeout=0.1)
            receiver.ack(d)
            again.append(d)
        except TimeoutError:
            pass
        return len(again) >= 3 and receiver.repeats_dropped >= 3

    settled = eventually(take, 15)
    print(f"\nreceived 10, acked 4 + 3 (lost), handed over again {len(again)}, "
          f"repeats dropped {receiver.repeats_dropped}, reconnects {receiver.reconnects}")
    assert settled
    assert receiver.reconnects == 1 and receiver.current_address == b.address
    assert sorted(d.message_id for d in again) == sorted(ids[7:])
    assert all(d.delivery_attempt >= 2 for d in again)
    # Everything was acked: nothing more comes, and nothing more is handed over.
    with pytest.raises(TimeoutError):
        receiver.receive(timeout=2.5)
    assert receiver.repeats_dropped >= 3  # 3, unless an early ack was still on its way


def test_a_repeat_waiting_in_the_inbox_goes_with_the_ack_of_its_first_copy(
        start_cluster, make_client, uid):
    a, b = start_cluster()
    sender = make_client(b.address)
    sender.register("sender")
    receiver = make_client([a.address, b.address], **FAST)
    receiver.register("receiver")
    sender.send("receiver", text="once", message_id=f"once-{uid}")
    assert eventually(lambda: receiver.pending_deliveries == 1, 5)  # not received yet
    a.kill()
    # Never acked: the cluster hands it out again through b (after --cluster-ack-wait),
    # and the copy waits behind the first.
    assert eventually(lambda: receiver.pending_deliveries == 2, 15)
    first = receiver.receive(timeout=1)
    receiver.ack(first)
    assert receiver.pending_deliveries == 0 and receiver.repeats_dropped == 1
    sender.send("receiver", text="next", message_id=f"next-{uid}")
    following = receiver.receive(timeout=5)
    assert following.text == "next"  # not the repeat of "once"
    receiver.ack(following)
    with pytest.raises(TimeoutError):  # the repeat was acked: nothing more comes
        receiver.receive(timeout=2.5)


def test_a_request_pending_across_the_failover_gets_its_reply(start_cluster, make_client):
    a, b = start_cluster()
    responder = make_client(b.address)
    responder.register("responder")
    requester = make_client(f"{a.address},{b.address}", **FAST)
    requester.register("requester")
    outcome = {}

    def ask():
        try:
            outcome["reply"] = requester.request("responder", text="2+2?", timeout=15)
        except Exception as e:  # reported by the asserts below
            outcome["error"] = e

    asking = threading.Thread(target=ask)
    asking.start()
    question = responder.receive(timeout=5)
    a.kill()
    assert eventually(lambda: requester.reconnects == 1, 10)
    responder.reply(question, text="4")
    responder.ack(question)
    asking.join(15)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["reply"].text == "4" and outcome["reply"].sender_id == "responder"
    assert requester.current_address == b.address
    # The request written again after the reconnect (same message id) is stored once.
    with pytest.raises(TimeoutError):
        responder.receive(timeout=1)


def test_more_requests_pending_than_send_credits_all_get_their_replies(
        start_cluster, make_client):
    # Revision 2: the broker gives a request's send credit back once it took the send, so
    # more requests may wait for their replies than the next broker grants credits.
    a, b = start_cluster(config="limits:\n  send_credits: 2\n")
    responder = make_client(b.address)
    responder.register("responder")
    requester = make_client(f"{a.address},{b.address}", **FAST)
    requester.register("requester")
    outcomes = {}

    def ask(i: int):
        try:
            outcomes[i] = requester.request("responder", text=str(i), timeout=20)
        except Exception as e:  # reported by the asserts below
            outcomes[i] = e

    asking = [threading.Thread(target=ask, args=(i,)) for i in range(30)]
    for t in asking:
        t.start()
    questions = [responder.receive(timeout=10) for _ in asking]
    a.kill()
    assert eventually(lambda: requester.reconnects == 1, 10)
    time.sleep(0.5)  # the requests written again reach the broker (and its dedup)
    for question in questions:
        responder.reply(question, text=f"re {question.text}")
    for t in asking:
        t.join(25)
    errors = {i: o for i, o in outcomes.items() if isinstance(o, Exception)}
    assert not errors, errors  # NO_CREDIT: resent over the new broker's credits
    assert sorted(o.text for o in outcomes.values()) == sorted(f"re {i}" for i in range(30))
    with pytest.raises(TimeoutError):  # each request stored once
        responder.receive(timeout=1)


def test_a_stream_replaced_by_a_newer_registration_is_final(start_cluster, make_client):
    a, b = start_cluster()
    first = make_client(f"{a.address},{b.address}", **FAST)
    first.register("twin")
    second = make_client(b.address)
    second.register("twin")  # ABORTED for the first: it must not take the id back
    with pytest.raises(StreamClosed) as info:
        first.receive(timeout=5)
    assert info.value.grpc_code == grpc.StatusCode.ABORTED
    time.sleep(0.5)
    assert first.reconnects == 0
    with pytest.raises(StreamClosed):
        first.send("twin", text="x")
    other = make_client(a.address)
    other.register("other")
    other.send("twin", text="to the second")
    assert second.receive(timeout=5).text == "to the second"


def test_a_client_starting_while_the_first_broker_is_down_uses_the_next(
        start_cluster, make_client):
    a, b = start_cluster()
    a.kill()
    late = make_client(f"{a.address},{b.address}")
    late.register("late")
    assert late.current_address == b.address and late.reconnects == 0
    # Unary calls move on past the dead broker too.
    script = make_client(f"{a.address},{b.address}")
    result = script.publish("late", sender_id="script", text="published")
    assert [r.agent_id for r in result.recipients] == ["late"]
    assert late.receive(timeout=5).text == "published"
    # One unreachable broker alone is the answer, as before.
    alone = make_client(a.address, timeout=3)
    with pytest.raises(StreamClosed) as info:
        alone.register("alone")
    assert info.value.grpc_code == grpc.StatusCode.UNAVAILABLE


def test_a_reconnect_that_fails_ends_the_client_instead_of_hanging(
        start_broker, make_client, certificate):
    key, cert = certificate
    broker = start_broker("--tls-cert", str(cert), "--tls-key", str(key))
    # The second broker's channel is opened on the second attempt, from the root_ca file.
    client = make_client([broker.address, f"127.0.0.1:{free_port()}"], root_ca=str(cert),
                         **FAST)
    client.register("stranded")
    cert.unlink()
    broker.kill()
    with pytest.raises(StreamClosed) as info:
        client.receive(timeout=10)  # a reader that died reconnecting: TimeoutError here
    assert info.value.reason == "INTERNAL" and "FileNotFoundError" in str(info.value)
    with pytest.raises(StreamClosed) as later:
        client.send("anyone", text="x", timeout=5)
    assert later.value is info.value
    with pytest.raises(StreamClosed):  # and receive() keeps saying so
        client.receive(timeout=1)
