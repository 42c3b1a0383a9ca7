#!/usr/bin/env python3
"""Kernel variants on emulated CPUs: a freestanding self-test checks every variant against its
reference, and reports the variant the run-time choice takes, on CPU models with and without
AVX2, AVX-512 and VNNI. Three self-tests use it: agent/llm/packed_kernels_selftest.cc (the
runtime's packed kernels, with the real matrices packed_selftest_input writes) and
bridge/int8_matmul_selftest.cc (the bridges' int8 products), with the five variant names
below, and codec/rotation_selftest.cc (the codec's rotation: scalar, avx2, avx512; pass
--variants). Each runs in Bochs' CPU emulator (emulated_cpu.py), once per model:

  model                       has                         must choose   must check
  corei7_sandy_bridge_2600k   AVX, no AVX2                scalar        scalar
  ryzen (AMD Zen)             AVX2 + FMA                  avx2          scalar avx2
  arrow_lake                  AVX2 + AVX-VNNI, no AVX-512 avx2vnni      scalar avx2 avx2vnni
  corei7_skylake_x            AVX-512 F/BW/DQ/VL          avx512        scalar avx2 avx512
  corei7_icelake_u            AVX-512 + VNNI              avx512vnni    the same + avx512vnni
  sapphire_rapids             + BF16, FP16, AVX-VNNI      avx512vnni    all five

With --variants, a self-test that has fewer variants must choose the fastest of the model's
column that it has, and check those of the column it has. It also checks that the emulation
enforces the model (the self-test's canary, latentbus_selftest_<canary>_canary, runs on
Sapphire Rapids and faults where the model lacks the instructions: VNNI on Skylake-X, AVX-512
on Ryzen) and that the self-test's failures reach this script (a damaged input fails it).

Usage: kernels_test.py --venv build/venv-emu --elf build/tests/packed_kernels_selftest.elf
           [--input-writer build/tests/packed_selftest_input] [--models m1,m2] [--json]
           [--variants scalar,avx2,avx512] [--canary vnni|avx512]
Exit 0 on success, 1 on a failure, 77 (skipped) when the venv is missing.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

VARIANTS = ["scalar", "avx2", "avx2vnni", "avx512", "avx512vnni"]
MODELS = {
    "corei7_sandy_bridge_2600k": ("scalar", ["scalar"]),
    "ryzen": ("avx2", ["scalar", "avx2"]),
    "arrow_lake": ("avx2vnni", ["scalar", "avx2", "avx2vnni"]),
    "corei7_skylake_x": ("avx512", ["scalar", "avx2", "avx512"]),
    "corei7_icelake_u": ("avx512vnni", ["scalar", "avx2", "avx512", "avx512vnni"]),
    "sapphire_rapids": ("avx512vnni", VARIANTS),
}
REPORT = struct.Struct("<16sIIIIf108s")  # SelftestReport in selftest.h
# The canary's instructions, and a model that lacks them (where the canary must fault).
CANARIES = {"vnni": "corei7_skylake_x", "avx512": "ryzen"}


def expected(model, variants):
    """The variant the model must choose and those it must check, for a self-test that has
    `variants` (a subset of VARIANTS)."""
    _, column = MODELS[model]
    checked = [v for v in column if v in variants]
    return checked[-1], checked


def in_venv(venv):
    return os.path.realpath(sys.prefix) == os.path.realpath(venv)


def run_selftest(cpu, model, input_address, input_size):
    report_address = cpu.place(bytes(REPORT.size))
    entry_rax = cpu.call(model, [input_address, input_size, report_address])
    chosen, variants, cases, failures, real, worst, failure = REPORT.unpack(
        cpu.read(report_address, REPORT.size))
    result = {
        "model": model,
        "chosen": chosen.split(b"\0")[0].decode(),
        "checked": [v for i, v in enumerate(VARIANTS) if variants & (1 << i)],
        "cases": cases,
        "real_matrices": real,
        "failures": failures,
        "worst_error_over_tolerance": round(worst, 4),
        "first_failure": failure.split(b"\0")[0].decode(),
    }
    if entry_rax & 0xFFFFFFFF != failures:
        result["failures"] = max(failures, 1)
        result["first_failure"] += f" (returned {entry_rax & 0xFFFFFFFF}, report says {failures})"
    return result


def child(args):
    """One check on one model, in this process (the emulator keeps one model per process):
    prints its result as JSON."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import emulated_cpu  # pylint: disable=import-outside-toplevel

    real = b""
    if args.input:
        with open(args.input, "rb") as f:
            real = f.read()
    cpu = emulated_cpu.EmulatedCpu(emulated_cpu.shim_path(args.venv), args.elf)
    try:
        if args.child == "selftest":
            start = time.monotonic()
            result = run_selftest(cpu, args.models, cpu.place(real) if real else 0, len(real))
            result["seconds"] = round(time.monotonic() - start, 1)
        elif args.child == "damaged":  # a record cut short, or bytes where none are taken
            damaged = real[:20] if real else bytes(20)
            result = run_selftest(cpu, args.models, cpu.place(damaged), len(damaged))
        else:  # the canary
            canary = cpu.symbol(f"latentbus_selftest_{args.canary}_canary")
            result = {"returned": cpu.call(args.models, [], symbol_address=canary)}
    except emulated_cpu.EmulationError as e:
        result = {"error": str(e)}
    print(json.dumps(result))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", required=True, help="the emulator venv (scripts/emulator-venv.sh)")
    parser.add_argument("--elf", required=True, help="a self-test ELF (..._selftest.elf)")
    parser.add_argument("--input-writer", help="writes the self-test's input (when it takes one)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated CPU models")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="the self-test's variants (default: all five)")
    parser.add_argument("--canary", choices=sorted(CANARIES), default="vnni",
                        help="the self-test's canary instructions")
    parser.add_argument("--child", choices=["selftest", "damaged", "canary"], help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args()

    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or "scalar" not in variants:
        print(f"FAIL: --variants {args.variants}: must include scalar, from {', '.join(VARIANTS)}")
        return 1
    python = os.path.join(args.venv, "bin", "python")
    if not in_venv(args.venv):
        if not os.path.exists(python):
            print(f"skipped: no emulator venv at {args.venv} (scripts/emulator-venv.sh makes it)")
            return 77
        os.execv(python, [python] + sys.argv)
    if args.child:
        return child(args)
    problems, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        input_args = []
        if args.input_writer:
            path = os.path.join(tmp, "real.bin")
            written = subprocess.run([args.input_writer, path], capture_output=True, text=True,
                                     check=False)
            if written.returncode != 0:
                print(f"FAIL: {args.input_writer}: {written.stderr.strip()}")
                return 1
            input_args = ["--input", path]

        def run(check, model):
            out = subprocess.run([python, os.path.abspath(__file__), "--venv", args.venv, "--elf",
                                  args.elf, "--canary", args.canary] + input_args +
                                 ["--child", check, "--models", model],
                                 capture_output=True, text=True, check=False)
            try:
                return json.loads(out.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                return {"error": f"exit {out.returncode}: {out.stdout[-500:]} {out.stderr[-2000:]}"}

        for model in args.models.split(","):
            if model not in MODELS:
                print(f"FAIL: unknown model {model!r}; known: {', '.join(MODELS)}")
                return 1
            want_chosen, want_checked = expected(model, variants)
            result = run("selftest", model)
            results.append(result)
            if "error" in result:
                problems.append(f"{model}: {result['error']}")
                continue
            if result["failures"]:
                problems.append(f"{model}: {result['failures']} failures, first: "
                                f"{result['first_failure']}")
            if result["chosen"] != want_chosen:
                problems.append(f"{model}: chose {result['chosen']}, expected {want_chosen}")
            if result["checked"] != want_checked:
                problems.append(f"{model}: checked {result['checked']}, expected {want_checked}")
            if args.input_writer and result["real_matrices"] == 0:
                problems.append(f"{model}: no real matrix checked")
            if not args.json:
                print(f"{model}: chose {result['chosen']}, checked {' '.join(result['checked'])}: "
                      f"{result['cases']} cases ({result['real_matrices']} real matrices), "
                      f"{result['failures']} failures, worst error "
                      f"{result['worst_error_over_tolerance']} of the tolerance, "
                      f"{result['seconds']} s")

        # The self-test's failures reach this script: a damaged record is reported.
        broken = run("damaged", "ryzen")
        if broken.get("failures", 0) == 0 or "bad input" not in broken.get("first_failure", ""):
            problems.append(f"a damaged input was not reported: {broken}")
        # The emulation enforces the model: the canary runs on Sapphire Rapids and faults on a
        # model without its instructions (VNNI: Skylake-X; AVX-512: Ryzen).
        ran = run("canary", "sapphire_rapids")
        if ran.get("returned") != 0:
            problems.append(f"the {args.canary} canary on Sapphire Rapids: {ran}")
        lacking = CANARIES[args.canary]
        faulted = run("canary", lacking)
        if "#UD" not in faulted.get("error", ""):
            problems.append(f"the {args.canary} canary did not fault on {lacking}: {faulted}")

    if args.json:
        print(json.dumps({"results": results, "problems": problems}, indent=2))
    for p in problems:
        print(f"FAIL: {p}")
    if not problems and not args.json:
        print(f"ok: every variant agrees with the reference on every emulated CPU; the "
              f"{args.canary} canary faults where the model lacks it")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
