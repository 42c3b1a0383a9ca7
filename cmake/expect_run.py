#!/usr/bin/env python3
"""Runs a command and checks its exit code and its output, for ctest entries.

  expect_run.py --exit N [--match REGEX ...] [--json-key KEY ...] -- COMMAND ...

ctest's PASS_REGULAR_EXPRESSION ignores the exit code and WILL_FAIL accepts any failure
(a crash included); this checks both: the exact exit code, every REGEX somewhere in
stdout + stderr, and with --json-key that stdout parses as JSON holding each KEY.
"""
import argparse
import json
import re
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exit", type=int, required=True, help="expected exit code")
    parser.add_argument("--match", action="append", default=[], help="regex the output has")
    parser.add_argument("--json-key", action="append", default=[], help="key stdout's JSON has")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    run = subprocess.run(command, capture_output=True, text=True)
    output = run.stdout + run.stderr
    problems = []
    if run.returncode != args.exit:
        problems.append(f"exit code {run.returncode}, expected {args.exit}")
    for pattern in args.match:
        if not re.search(pattern, output):
            problems.append(f"no match for {pattern!r}")
    if args.json_key:
        try:
            document = json.loads(run.stdout)
        except json.JSONDecodeError as e:
            problems.append(f"stdout is not JSON: {e}")
        else:
            problems += [f"JSON has no {k!r}" for k in args.json_key if k not in document]
    if problems:
        sys.stderr.write(f"{' '.join(command)}\n--- output ---\n{output[-4000:]}\n--- problems ---\n")
        sys.stderr.write("\n".join(problems) + "\n")
        return 1
    print(f"ok: exit {run.returncode}" + "".join(f", {p!r} found" for p in args.match + args.json_key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
