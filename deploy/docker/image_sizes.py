#!/usr/bin/env python3
"""What makes a mounted image as large as it is (scripts/build-images.sh prints it).

Reads ROOT/var/lib/dpkg/status of an image's root filesystem (no chroot needed) and
prints, in MB of dpkg's installed size:
  * every installed package together;
  * for each group below, the packages that only the group needs: the group's seed
    packages and their dependency closure (Depends and Pre-Depends, alternatives and
    virtual packages resolved to what is installed), minus whatever the image's other
    packages would still need without the seeds: what the image would lose without them;
  * the largest packages.

Usage: image_sizes.py ROOT
"""

import re
import sys

GROUPS = [
    ("libtorch and what only it needs", r"^libtorch\d"),
    ("  of which OpenCV and its chain (Qt 5, GStreamer, FFmpeg, GDAL, Mesa/LLVM)",
     r"^libopencv-"),
    ("gRPC, protobuf, abseil", r"^(libgrpc\+\+|libprotobuf\d|libabsl)"),
    ("Python (fetch-models.sh)", r"^python3(-pip)?$"),
]
TOP = 8


def parse_status(path):
    """{package: (installed KiB, [[alternative, ...], ...])} and {virtual: [providers]}."""
    packages, provides = {}, {}
    with open(path, encoding="utf-8") as f:
        for stanza in f.read().split("\n\n"):
            fields, last = {}, None
            for line in stanza.splitlines():
                if line[:1] in (" ", "\t") and last:
                    fields[last] += " " + line.strip()
                elif ":" in line:
                    last, _, value = line.partition(":")
                    fields[last] = value.strip()
            if "installed" not in fields.get("Status", "").split()[-1:]:
                continue
            deps = []
            for key in ("Pre-Depends", "Depends"):
                for clause in filter(None, (c.strip() for c in fields.get(key, "").split(","))):
                    deps.append([re.split(r"[\s(:]", a.strip())[0] for a in clause.split("|")])
            name = fields["Package"]
            packages[name] = (int(fields.get("Installed-Size", "0")), deps)
            for virtual in filter(None, (p.strip() for p in fields.get("Provides", "").split(","))):
                provides.setdefault(re.split(r"[\s(]", virtual)[0], []).append(name)
    return packages, provides


def closure(seeds, packages, provides, blocked=frozenset()):
    """The seeds and everything they depend on, never entering `blocked`."""
    seen, todo = set(), list(seeds)
    while todo:
        name = todo.pop()
        if name in seen or name in blocked:
            continue
        seen.add(name)
        for alternatives in packages[name][1]:
            for alt in alternatives:
                installed = [alt] if alt in packages else \
                    [p for p in provides.get(alt, []) if p in packages]
                if installed:
                    todo.extend(installed)
                    break
    return seen


def mb(names, packages):
    return sum(packages[n][0] for n in names) / 1024


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    packages, provides = parse_status(argv[0] + "/var/lib/dpkg/status")
    print(f"  {len(packages)} Debian packages, {mb(packages, packages):7.1f} MB installed")
    for title, pattern in GROUPS:
        seeds = [p for p in packages if re.search(pattern, p)]
        if not seeds:
            continue
        group = closure(seeds, packages, provides)
        # What the rest needs with the seeds gone: for a group inside another (OpenCV
        # inside libtorch), the outer group's other dependencies still count as needed.
        needed_elsewhere = closure(set(packages) - group, packages, provides, set(seeds))
        only = group - needed_elsewhere
        print(f"  {title}: {mb(only, packages):7.1f} MB ({len(only)} packages)")
    print("  largest packages (MB):")
    for name in sorted(packages, key=lambda n: -packages[n][0])[:TOP]:
        print(f"    {packages[name][0] / 1024:6.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
