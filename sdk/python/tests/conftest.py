"""Fixtures: a real broker process per test (build/bin/latentbus, or $LATENTBUS_BIN) on a
loopback port it picks itself, and the shared codec vectors folder."""
from __future__ import annotations

import os
import pathlib
import signal
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
def uid():
    """A short unique suffix for message ids."""
    return uuid.uuid4().hex[:8]
