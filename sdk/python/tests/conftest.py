"""Fixtures: a real broker process per test (build/bin/latentbus, or $LATENTBUS_BIN) on a
loopback port it picks itself, a cluster of such brokers on one real nats-server with
JetStream (the pinned one, see scripts/install-nats-server.sh), a self-signed TLS
certificate, and the shared codec vectors folder."""
from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]


def broker_binary() -> pathlib.Path:
    return pathlib.Path(os.environ.get("LATENTBUS_BIN") or REPO / "build" / "bin" / "latentbus")


def vectors_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("LATENTBUS_CODEC_VECTORS") or
                        REPO / "codec" / "testdata" / "vectors")


class Broker:
    """`latentbus broker --listen 127.0.0.1:0 --port-file F ...`, ready once F exists."""

    def __init__(self, *args: str, config: str | None = None):
        binary = broker_binary()
        if not binary.exists():
            pytest.fail(f"broker binary {binary} is missing: build it (scripts/build.sh) or set "
                        "LATENTBUS_BIN")
        self._dir = tempfile.TemporaryDirectory(prefix="latentbus-test-")
        port_file = pathlib.Path(self._dir.name) / "port"
        cmd = [str(binary), "broker", "--listen", "127.0.0.1:0", "--metrics-listen", "",
               "--port-file", str(port_file), "--log-level", "warn", "--drain-timeout", "0",
               *args]
        if config is not None:
            config_file = pathlib.Path(self._dir.name) / "broker.yaml"
            config_file.write_text(config)
            cmd += ["--config", str(config_file)]
        self._log = open(pathlib.Path(self._dir.name) / "broker.log", "w+")
        self.process = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                        cwd=self._dir.name)
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log()
                self.stop()
                raise RuntimeError(f"broker did not start: {' '.join(cmd)}\n{log}")
            time.sleep(0.02)
        self.port = int(port_file.read_text())
        self.address = f"127.0.0.1:{self.port}"

    @property
    def dir(self) -> pathlib.Path:
        return pathlib.Path(self._dir.name)

    def log(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def kill(self) -> None:
        """SIGKILL: the broker dies at once, as in a crash (no drain, no GOAWAY)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        self._dir.cleanup()


@pytest.fixture
def start_broker():
    """start_broker(*flags, config=YAML) -> Broker; every broker stops after the test."""
    started = []

    def start(*args, config=None):
        b = Broker(*args, config=config)
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


NATS_VERSION = "2.15.1"  # scripts/install-nats-server.sh


def nats_server_binary() -> pathlib.Path:
    """The nats-server the broker's own tests run (nats/nats_server_binary.cc):
    $LATENTBUS_NATS_SERVER, else the pinned one scripts/install-nats-server.sh installs."""
    named = os.environ.get("LATENTBUS_NATS_SERVER")
    if named:
        return pathlib.Path(named)
    folder = os.environ.get("LATENTBUS_NATS_DIR") or \
        pathlib.Path.home() / ".cache" / "latentbus" / f"nats-server-{NATS_VERSION}"
    return pathlib.Path(folder) / "bin" / "nats-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    """A nats-server with JetStream on a free loopback port, its store in a temporary
    folder and flushed before every ack (sync_interval: always), as the broker starts its
    own (nats/nats_server_config.cc). Ready once it logs "Server is ready"."""

    def __init__(self):
        binary = nats_server_binary()
        if not os.access(binary, os.X_OK):
            pytest.fail(f"nats-server {binary} is missing: run scripts/install-nats-server.sh "
                        "(or name one with LATENTBUS_NATS_SERVER)")
        self._dir = tempfile.TemporaryDirectory(prefix="latentbus-nats-")
        folder = pathlib.Path(self._dir.name)
        config = folder / "nats.conf"
        config.write_text("jetstream {\n  sync_interval: always\n}\n")
        self._log_path = folder / "nats.log"
        for _ in range(3):  # another process may take the free port first
            self.port = free_port()
            self._log_path.write_text("")
            self.process = subprocess.Popen(
                [str(binary), "-c", str(config), "-js", "-sd", str(folder / "store"),
                 "-p", str(self.port), "-a", "127.0.0.1"],
                stdout=open(self._log_path, "a"), stderr=subprocess.STDOUT)
            if self._wait_ready():
                break
        else:
            log = self._log_path.read_text()
            self.stop()
            raise RuntimeError(f"nats-server did not start:\n{log}")
        self.url = f"nats://127.0.0.1:{self.port}"

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 15
        while "Server is ready" not in self._log_path.read_text():
            if self.process.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                return False
            time.sleep(0.02)
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._dir.cleanup()


@pytest.fixture
def start_cluster(start_broker):
    """start_cluster(n=2, config=YAML) -> [Broker]: n brokers sharing one nats-server's
    JetStream (--cluster), so that an agent may register on any of them and what was
    queued for it survives its broker. A delivery held unacked by a broker that died is
    handed out again after 2 s (--cluster-ack-wait). Everything stops after the test."""
    servers, brokers = [], []

    def start(n: int = 2, config: str | None = None):
        nats = NatsServer()
        servers.append(nats)
        started = [start_broker("--cluster", nats.url, "--cluster-ack-wait", "2",
                                "--cluster-replicas", "1", "--broker-name", f"b{i}",
                                config=config)
                   for i in range(n)]
        brokers.extend(started)
        return started

    yield start
    for b in brokers:  # before their nats-server
        b.stop()
    for nats in servers:
        nats.stop()


@pytest.fixture
def broker(start_broker):
    return start_broker()


@pytest.fixture
def clients():
    """Tracks sync clients and closes them after the test (even when it fails)."""
    made = []

    def track(client):
        made.append(client)
        return client

    yield track
    for c in made:
        c.close(timeout=2)


@pytest.fixture
def certificate(tmp_path):
    """(key, certificate): a self-signed one for 127.0.0.1 / localhost, files in tmp_path."""
    # scripts/install-deps.sh installs it: missing, the TLS tests fail rather than skip.
    assert shutil.which("openssl"), "openssl is not installed (scripts/install-deps.sh)"
    key, cert = tmp_path / "server.key", tmp_path / "server.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return key, cert


@pytest.fixture
def uid():
    """A short unique suffix for message ids."""
    return uuid.uuid4().hex[:8]
