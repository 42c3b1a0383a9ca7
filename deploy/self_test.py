"""The self-test both deploy checkers share (k8s/check_manifests.py, docker/lint_dockerfile.py).

A checker that never fails proves nothing, so each one keeps a list of known breaks:
(description, transform, expected problem). The self-test applies every break to a copy of
a clean input and fails unless the checker reports the expected problem for it, and
unless the clean input itself passes.
"""


class CannotApply(Exception):
    """A break's transformation does not fit the input any more (the input changed)."""


def run_self_test(clean_problems, breaks, apply, check, clean_name):
    """Returns the failures: `clean_problems` (the checker on the clean input) must be
    empty, and for each break, check(apply(transform)) must report `expected`.
    `apply` raises CannotApply when a transformation does not fit."""
    failures = []
    if clean_problems:
        failures.append(f"{clean_name} does not pass:\n  " + "\n  ".join(clean_problems))
    for description, transform, expected in breaks:
        try:
            broken = apply(transform)
        except CannotApply as e:
            failures.append(f"self-test '{description}': cannot apply ({e})")
            continue
        problems = check(broken)
        if not any(expected in p for p in problems):
            failures.append(f"self-test '{description}': not caught (wanted '{expected}', got "
                            f"{problems or 'no problems'})")
    return failures
