#!/usr/bin/env python3
"""ctest: `latentbus bridge train` end to end on the tiny checkpoints.

Runs the command with --json, then checks the exit code, the summary's values and that
the written artifact is an adapter the CLI reads back (`bridge eval` on the same
activation files). Then checks that a bad call exits non-zero with a clear message.
usage: check_train_cli.py LATENTBUS TESTDATA WORKDIR
"""
import json
import math
import os
import subprocess
import sys


def main():
    lb, testdata, work = sys.argv[1:4]
    messages = os.path.join(work, "train_messages.txt")
    with open(messages, "w") as f:
        for w in ["home", "figure", "garden", "river", "market", "window", "music", "winter",
                  "letter", "animal", "doctor", "summer", "bridge", "island", "forest"]:
            f.write(f"The {w} is here.\n")
    out = os.path.join(work, "tiny.adapter.bridge")
    cmd = [lb, "bridge", "train", "--sender", os.path.join(testdata, "tiny-llama"),
           "--receiver", os.path.join(testdata, "tiny-gemma3"), "--sender-layer", "2",
           "--init", os.path.join(work, "tiny.bridge"), "--data", messages, "--steps", "4",
           "--batch", "2", "--rank", "8", "--heldout", "3", "--threads", "1", "--log-every", "2",
           "--fidelity-src", os.path.join(work, "tiny-llama.act"),
           "--fidelity-dst", os.path.join(work, "tiny-gemma.act"), "--out", out, "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stderr}"
    summary = json.loads(r.stdout)
    assert summary["steps"] == 4, summary
    assert summary["objective"] == "general", summary
    assert [l["step"] for l in summary["losses"]] == [2, 4], summary["losses"]
    assert all(math.isfinite(l["loss"]) and l["loss"] > 0 for l in summary["losses"])
    after = summary["validation_after"]
    assert after["n"] == 3, after
    assert 0 <= after["ask_agreement"] <= 1 and math.isfinite(after["kl"]), after
    assert 0 < summary["fidelity"]["cosine"] <= 1, summary["fidelity"]
    assert "step 4/4" in r.stderr and "outputs' cosine" in r.stderr, r.stderr
    # What the broker's default policy will make of it, in the summary and on stderr.
    verdict = summary["policy_verdict"]
    assert verdict["metric"] == "ask_agreement" and verdict["threshold"] == 0.6, verdict
    assert verdict["carries_latents"] == (verdict["score"] >= 0.6), verdict
    assert "the broker's default policy (metric auto): ask_agreement" in r.stderr, r.stderr

    e = subprocess.run([lb, "bridge", "eval", out, "--src", os.path.join(work, "tiny-llama.act"),
                        "--dst", os.path.join(work, "tiny-gemma.act"), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert e.returncode == 0, e.stderr
    assert json.loads(e.stdout)["kind"] == "adapter", e.stdout

    bad = subprocess.run(cmd[:-3] + ["--objective", "task", "--out", out], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "--task-data" in bad.stderr, (bad.returncode, bad.stderr)
    print("check_train_cli: ok")


if __name__ == "__main__":
    main()
