"""The A2A gateway (`latentbus a2a`) with the real A2A SDK client (`a2a-sdk`): discovery,
send, stream, a topic as one agent, a task that times out, polling and cancel, a bad token,
the version rule; against a real broker with tokens, text agents written with this SDK and a
real model agent (`latentbus agent` on SmolLM2). Runs where a2a-sdk is installed
(scripts/test-python.sh's newest-versions venv)."""
from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import tempfile
import threading
import time

import pytest

pytest.importorskip("a2a.client", reason="needs a2a-sdk (protobuf >= 5.29.5)")

import httpx  # noqa: E402
from a2a.client import ClientConfig, create_client  # noqa: E402
from a2a.client.card_resolver import A2ACardResolver  # noqa: E402
from a2a.types import a2a_pb2  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

import latentbus  # noqa: E402
from latentbus import StreamClosed  # noqa: E402

from conftest import broker_binary  # noqa: E402

MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
TOKENS = """
tokens:
  - name: agents
    token: "token-agents"
    agents: ["echo", "silent", "reader", "sub-*"]
    subscribe: ["news"]
  - name: gateway
    token: "token-gateway"
    agents: ["a2a-*"]
    admin: true
  - name: caller
    token: "token-caller"
    agents: ["a2a-*"]
    publish: ["news"]
  - name: limited
    token: "token-limited"
    agents: ["a2a-*"]
    send_to: ["echo"]
"""


def model_path() -> pathlib.Path:
    cache = pathlib.Path(os.environ.get("LATENTBUS_MODEL_DIR") or
                         pathlib.Path.home() / ".cache" / "latentbus" / "models")
    path = cache / MODEL
    if not path.exists():
        pytest.fail(f"{path} is missing: scripts/fetch-models.sh fetches it")
    return path


class Replier:
    """A text agent on the bus (this SDK): replies `<prefix><text>`, or never (prefix None)."""

    def __init__(self, address: str, agent_id: str, prefix: str | None, topics=()):
        self.client = latentbus.connect(address, token="token-agents")
        self.client.register(agent_id, topics=list(topics))
        self.prefix = prefix
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for delivery in self.client:
                self.seen.append(delivery.text)
                if self.prefix is not None and delivery.expects_reply:
                    self.client.reply(delivery, text=self.prefix + delivery.text)
                else:
                    self.client.ack(delivery)
        except StreamClosed:
            pass

    def close(self):
        self.client.close()
        self.thread.join(5)


class Process:
    """A latentbus CLI process, ready once its --ready-file exists."""

    def __init__(self, name: str, *args: str, timeout: float = 60):
        self.dir = tempfile.TemporaryDirectory(prefix=f"latentbus-{name}-")
        ready = pathlib.Path(self.dir.name) / "ready"
        self.log_path = pathlib.Path(self.dir.name) / "log"
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen([str(broker_binary()), *args, "--ready-file", str(ready)],
                                        stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)
        self.ready_text = ready.read_text().strip()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


@pytest.fixture(scope="module")
def bus(tmp_path_factory):
    """A broker with tokens, echo / silent / two topic subscribers, a SmolLM2 agent and the
    gateway; yields (gateway URL, broker)."""
    from conftest import Broker
    broker = Broker(config=TOKENS)
    folder = tmp_path_factory.mktemp("a2a")
    (folder / "agents.token").write_text("token-agents\n")
    (folder / "gateway.token").write_text("token-gateway\n")
    repliers = [Replier(broker.address, "echo", "echo: "),
                Replier(broker.address, "silent", None),
                Replier(broker.address, "sub-1", "sub-1 read: ", topics=["news"]),
                Replier(broker.address, "sub-2", "sub-2 read: ", topics=["news"])]
    processes = []
    try:
        processes.append(Process("agent", "agent", "--broker", broker.address, "--id", "reader",
                                 "--token-file", str(folder / "agents.token"),
                                 "--model", str(model_path()), "--threads", "1",
                                 "--max-new-tokens", "12", timeout=120))
        gateway = Process("a2a", "a2a", "--broker", broker.address, "--listen", "127.0.0.1:0",
                          "--token-file", str(folder / "gateway.token"), "--timeout", "60")
        processes.append(gateway)
        yield gateway.ready_text, broker, repliers
    finally:
        for p in reversed(processes):
            p.stop()
        for r in repliers:
            r.close()
        broker.stop()


def user_message(text: str, **metadata) -> a2a_pb2.Message:
    message = a2a_pb2.Message(message_id=f"m-{time.monotonic_ns()}", role=a2a_pb2.ROLE_USER,
                              parts=[a2a_pb2.Part(text=text)])
    if metadata:
        message.metadata.CopyFrom(struct_pb2.Struct())
        message.metadata.update(metadata)
    return message


async def client_for(url: str, token: str | None = "token-caller", streaming: bool = True):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx.AsyncClient(headers=headers, timeout=120)
    config = ClientConfig(streaming=streaming, httpx_client=http)
    return await create_client(url, client_config=config), http


async def send(url: str, message: a2a_pb2.Message, **kwargs) -> list:
    client, http = await client_for(url, **kwargs)
    try:
        return [event async for event in
                client.send_message(a2a_pb2.SendMessageRequest(message=message))]
    finally:
        await http.aclose()


def test_discovery_lists_a_card_per_agent_and_topic(bus):
    url, _, _ = bus
    cards = httpx.get(f"{url}/cards", timeout=10).json()
    names = {c["name"] for c in cards["agents"]}
    assert {"echo", "silent", "reader", "sub-1", "sub-2"} <= names
    assert not any(n.startswith("a2a-") for n in names)  # the gateway's own clients
    assert [c["name"] for c in cards["topics"]] == ["topic:news"]

    async def resolve():
        async with httpx.AsyncClient() as http:
            return await A2ACardResolver(http, f"{url}/agents/reader").get_agent_card()

    card = asyncio.run(resolve())
    assert card.name == "reader"
    assert "smollm2" in card.description.lower()
    assert card.capabilities.streaming
    assert card.supported_interfaces[0].url == f"{url}/agents/reader"
    assert card.supported_interfaces[0].protocol_version == "1.0"
    assert card.security_schemes["bearer"].http_auth_security_scheme.scheme == "Bearer"
    assert {s.id for s in card.skills} >= {"context", "instruction", "reasoning"}
    assert httpx.get(f"{url}/agents/nobody/.well-known/agent-card.json", timeout=10).status_code == 404


def test_send_returns_the_completed_task_with_the_reply(bus):
    url, _, repliers = bus
    events = asyncio.run(send(f"{url}/agents/echo", user_message("hello over A2A"),
                              streaming=False))
    assert len(events) == 1
    task = events[0].task
    assert task.status.state == a2a_pb2.TASK_STATE_COMPLETED
    assert task.artifacts[0].parts[0].text == "echo: hello over A2A"
    assert task.status.message.parts[0].text == "echo: hello over A2A"
    assert task.history[0].parts[0].text == "hello over A2A"
    assert "hello over A2A" in repliers[0].seen


def test_stream_sends_the_task_the_reply_and_the_end(bus):
    url, _, _ = bus
    events = asyncio.run(send(f"{url}/agents/echo", user_message("streamed")))
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds == ["task", "artifact_update", "status_update"], kinds
    assert events[0].task.status.state == a2a_pb2.TASK_STATE_WORKING
    assert events[1].artifact_update.artifact.parts[0].text == "echo: streamed"
    assert events[2].status_update.status.state == a2a_pb2.TASK_STATE_COMPLETED
    assert events[1].artifact_update.task_id == events[0].task.id


def test_a_real_model_agent_answers(bus):
    url, _, _ = bus
    events = asyncio.run(send(
        f"{url}/agents/reader",
        user_message("The deployment of service alpha failed because the migration timed out.",
                     **{"latentbus.messageClass": "context"}), streaming=False))
    task = events[0].task
    assert task.status.state == a2a_pb2.TASK_STATE_COMPLETED, task.status
    reply = task.artifacts[0]
    assert reply.metadata["latentbus.sender"] == "reader"
    assert reply.metadata["latentbus.form"] == "text"  # the gateway sends text
    assert len(reply.parts[0].text.strip()) > 0


def test_a_topic_is_one_agent_with_a_reply_per_subscriber(bus):
    url, _, _ = bus
    events = asyncio.run(send(f"{url}/topics/news", user_message("extra extra")))
    artifacts = sorted(e.artifact_update.artifact.parts[0].text
                       for e in events if e.HasField("artifact_update"))
    assert artifacts == ["sub-1 read: extra extra", "sub-2 read: extra extra"]
    assert events[-1].status_update.status.state == a2a_pb2.TASK_STATE_COMPLETED


def test_a_task_without_a_reply_fails_at_its_deadline(bus):
    url, _, repliers = bus
    start = time.monotonic()
    events = asyncio.run(send(f"{url}/agents/silent",
                              user_message("anyone?", **{"latentbus.timeoutSeconds": 1}),
                              streaming=False))
    task = events[0].task
    assert task.status.state == a2a_pb2.TASK_STATE_FAILED
    assert "no reply from silent" in task.status.message.parts[0].text
    assert time.monotonic() - start < 30
    assert "anyone?" in repliers[1].seen  # delivered, just never answered


def test_polling_and_cancel(bus):
    url, _, _ = bus

    async def run():
        client, http = await client_for(f"{url}/agents/silent", streaming=False)
        try:
            request = a2a_pb2.SendMessageRequest(message=user_message("wait"))
            request.configuration.return_immediately = True
            task = [e async for e in client.send_message(request)][0].task
            assert task.status.state == a2a_pb2.TASK_STATE_WORKING
            again = await client.get_task(a2a_pb2.GetTaskRequest(id=task.id))
            assert again.id == task.id
            canceled = await client.cancel_task(a2a_pb2.CancelTaskRequest(id=task.id))
            assert canceled.status.state == a2a_pb2.TASK_STATE_CANCELED
            with pytest.raises(Exception) as info:  # a task that ended cannot be canceled
                await client.cancel_task(a2a_pb2.CancelTaskRequest(id=task.id))
            assert "ended" in str(info.value)
            # Another principal does not see the task.
            other, other_http = await client_for(f"{url}/agents/silent", token="token-limited",
                                                 streaming=False)
            with pytest.raises(Exception) as info:
                await other.get_task(a2a_pb2.GetTaskRequest(id=task.id))
            assert "no task" in str(info.value)
            await other_http.aclose()
        finally:
            await http.aclose()

    asyncio.run(run())


def test_tokens_are_the_brokers(bus):
    url, _, _ = bus
    for token in (None, "nope"):
        with pytest.raises(Exception) as info:
            asyncio.run(send(f"{url}/agents/echo", user_message("let me in"), token=token,
                             streaming=False))
        assert "401" in str(info.value), info.value
    # A principal that may message only echo: the broker refuses silent (403).
    with pytest.raises(Exception) as info:
        asyncio.run(send(f"{url}/agents/silent", user_message("hi"), token="token-limited",
                         streaming=False))
    assert "403" in str(info.value), info.value


def test_only_protocol_one_zero_is_spoken(bus):
    url, _, _ = bus
    body = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}}
    headers = {"Authorization": "Bearer token-caller"}
    old = httpx.post(f"{url}/agents/echo", json=body, headers=headers, timeout=10).json()
    assert old["error"]["code"] == -32009  # no A2A-Version header: 0.3
    headers["A2A-Version"] = "1.0"
    unknown = httpx.post(f"{url}/agents/echo", json=body, headers=headers, timeout=10).json()
    assert unknown["error"]["code"] == -32001  # task not found: the version was accepted
    bad = httpx.post(f"{url}/agents/echo", content=b"{", headers=headers, timeout=10).json()
    assert bad["error"]["code"] == -32700
