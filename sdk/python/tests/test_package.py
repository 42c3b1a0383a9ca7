"""The package's public surface: what `import latentbus` alone gives."""
from __future__ import annotations

import os
import subprocess
import sys

import latentbus


def fresh_python(code: str) -> subprocess.CompletedProcess:
    """Runs `code` in a new interpreter (this one has imported every submodule already,
    which would hide a missing import), with the same import path as this one."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)


def test_import_latentbus_alone_gives_latentbus_aio():
    result = fresh_python(
        "import latentbus\n"
        "client = latentbus.aio.connect\n"
        "assert latentbus.aio.AsyncClient.__name__ == 'AsyncClient'\n"
        "print(latentbus.aio.__name__)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "latentbus.aio"


def test_public_names():
    for name in latentbus.__all__:
        assert hasattr(latentbus, name), name
    assert {"aio", "codec", "MessageTooLarge"} <= set(latentbus.__all__)
    assert issubclass(latentbus.MessageTooLarge, latentbus.BusError)
    assert latentbus.aio.connect is not latentbus.connect
