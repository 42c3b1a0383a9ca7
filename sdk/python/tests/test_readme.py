"""The README's "Latents from Python" examples, run as written (in order, in one
namespace) against a real broker started the way the section says: with the repository's
shipped bridges (`--bridges bridges`). Only the address is replaced by the test broker's."""
from __future__ import annotations

import pathlib
import re


import latentbus
from conftest import REPO

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Latents from Python"
DOC_ADDRESS = "127.0.0.1:7070"


def section_examples() -> list[str]:
    text = README.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    body = text[start:end if end != -1 else len(text)]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_the_section_has_examples_that_use_the_documented_broker():
    examples = section_examples()
    assert len(examples) >= 4
    assert all(DOC_ADDRESS in code for code in examples[1:])
    assert "build/bin/latentbus broker --bridges bridges" in README.read_text()


def test_latents_from_python_examples_run(start_broker):
    bridges = REPO / "bridges"
    # Committed with the repository: their absence is a broken checkout, not a skip.
    assert list(bridges.glob("*.bridge")), f"no bridge artifacts in {bridges}"
    broker = start_broker("--bridges", str(bridges))
    namespace: dict = {"__name__": "readme_example"}
    try:
        for i, code in enumerate(section_examples()):
            code = code.replace(DOC_ADDRESS, broker.address)
            exec(compile(code, f"README.md example {i + 1}", "exec"), namespace)  # noqa: S102
    finally:
        for value in namespace.values():
            if isinstance(value, latentbus.Client):
                value.close(timeout=2)
