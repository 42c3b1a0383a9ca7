#!/usr/bin/env python3
"""Structural lint for deploy/docker/Dockerfile (no Docker engine needed).

Checks the rules the images depend on:
  * every stage starts from Debian 12 (debian:12, debian:12-slim, bookworm) or an
    earlier stage;
  * the stage named `build` runs only our scripts (each RUN calls scripts/NAME.sh, which
    exists and is executable), and calls scripts/install-deps.sh and scripts/build.sh;
    a script it runs, and every script that one runs beside itself
    ("$(dirname "$0")/NAME.sh"), was copied into the stage before the RUN;
  * no RUN anywhere installs packages itself (apt-get/apt/dpkg/pip install): the one
    package list is scripts/install-deps.sh;
  * every COPY/ADD source from the context exists and is not excluded by the
    Dockerfile's .dockerignore; every COPY --from names an earlier stage;
  * every folder the top-level CMakeLists.txt adds (add_subdirectory) is copied into
    the build stage;
  * the final images (stages nothing else builds on: broker, agent) run as a non-root
    user created in their ancestry, with ENTRYPOINT and CMD in exec (JSON) form so
    SIGTERM reaches latentbus;
  * the agent image declares the /models volume and LATENTBUS_MODEL_DIR=/models;
  * the broker image carries the pinned nats-server at /usr/local/bin/nats-server, copied
    from $LATENTBUS_NATS_DIR/bin/nats-server of a build stage that runs
    scripts/install-nats-server.sh (the JetStream StatefulSet runs it from that image).

Usage: lint_dockerfile.py [--self-test] DOCKERFILE   (repository root = two levels up)
--self-test also breaks the file in known ways and fails unless each break is caught.
Exit status: 0 clean, 1 problems found (printed one a line as FILE:LINE: message).
"""

import fnmatch
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from self_test import CannotApply, run_self_test  # noqa: E402  (deploy/self_test.py)

DEBIAN12 = re.compile(r"^(docker\.io/)?(library/)?debian:(12|bookworm)(-slim)?(@sha256:[0-9a-f]{64})?$")
PACKAGE_INSTALL = re.compile(
    r"\b(apt-get|apt|aptitude|dpkg)\b[^;&|]*\binstall\b|\bpip3?\s+install\b|-m\s+pip\s+install\b"
    r"|\bdpkg\s+-i\b")
OUR_SCRIPT = re.compile(r"(?:^|[\s;&|/])(scripts/[\w.-]+\.sh)\b")
SIBLING_SCRIPT = re.compile(r'\$\(dirname "?\$0"?\)/([\w.-]+\.sh)')
ROOT_USERS = {"root", "0"}
FINAL_STAGES = {"broker", "agent"}
# Where the broker image carries nats-server; deploy/k8s/check_manifests.py reads it here.
NATS_SERVER_PATH = "/usr/local/bin/nats-server"


class Instruction:
    def __init__(self, line, keyword, args):
        self.line = line
        self.keyword = keyword
        self.args = args


class Stage:
    def __init__(self, line, base, name):
        self.line = line
        self.base = base
        self.name = name
        self.instructions = []

    def of(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text):
    """Returns (global ARG defaults, stages). Handles continuations and comments."""
    logical = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending:
            start = number
        if stripped.startswith("#") or (not stripped and not pending):
            continue  # comments (also inside continuations) and blank lines
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append((start, pending + stripped))
        pending = ""
    if pending:
        logical.append((start, pending))

    args, stages = {}, []
    for line, content in logical:
        keyword, _, rest = content.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
            continue
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(line, base, name))
            continue
        if not stages:
            raise ValueError(f"line {line}: {keyword} before the first FROM")
        stages[-1].instructions.append(Instruction(line, keyword, rest))
    return args, stages


def split_flags(args):
    """'--from=build --chown=x a b' -> ({'from': 'build', ...}, 'a b')."""
    flags = {}
    words = args.split()
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    return flags, " ".join(words)


def copy_sources(rest):
    if rest.startswith("["):
        parts = json.loads(rest)
    else:
        parts = rest.split()
    return parts[:-1]


def is_exec_form(rest):
    try:
        value = json.loads(rest)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def ignore_patterns(dockerfile):
    path = dockerfile + ".dockerignore"
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.strip().lstrip("/") for l in f if l.strip() and not l.startswith("#")]


def excluded(source, patterns):
    parts = source.strip("/").split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (
                    pattern.startswith("**/") and fnmatch.fnmatch(prefix.split("/")[-1],
                                                                 pattern[3:])):
                return True
    return False


def env_of(stage):
    """ENV values of a stage ('ENV K=V ...' and 'ENV K V')."""
    env = {}
    for ins in stage.of("ENV"):
        if "=" in ins.args.split()[0]:
            env.update(w.split("=", 1) for w in ins.args.split() if "=" in w)
        else:
            key, _, value = ins.args.partition(" ")
            env[key] = value.strip()
    return env


def scripts_run_by(script, root, seen=None):
    """`script` (scripts/NAME.sh) and the scripts beside it that it runs, transitively."""
    seen = set() if seen is None else seen
    if script in seen:
        return seen
    seen.add(script)
    path = os.path.join(root, script)
    if os.path.isfile(path):
        with open(path) as f:
            for name in SIBLING_SCRIPT.findall(f.read()):
                scripts_run_by(os.path.join(os.path.dirname(script), name), root, seen)
    return seen


def cmake_subdirectories(root):
    with open(os.path.join(root, "CMakeLists.txt")) as f:
        return re.findall(r"^\s*add_subdirectory\(\s*([\w./-]+)", f.read(), re.M)


def lint(text, dockerfile, root):
    problems = []

    def bad(line, message):
        problems.append(f"{dockerfile}:{line}: {message}")

    try:
        _, stages = parse(text)
    except ValueError as e:
        return [f"{dockerfile}: {e}"]
    by_name = {}
    for stage in stages:
        if stage.name:
            if stage.name in by_name:
                bad(stage.line, f"stage name '{stage.name}' used twice")
            by_name[stage.name] = stage
        known = {s.name for s in stages[:stages.index(stage)] if s.name}
        if stage.base not in known and not DEBIAN12.match(stage.base):
            bad(stage.line, f"base image '{stage.base}' is neither Debian 12 nor an earlier stage")

    patterns = ignore_patterns(dockerfile)
    used_as_base, used_as_source = set(), set()
    for index, stage in enumerate(stages):
        earlier = {s.name for s in stages[:index] if s.name}
        if stage.base in earlier:
            used_as_base.add(stage.base)
        for ins in stage.instructions:
            if ins.keyword == "RUN" and PACKAGE_INSTALL.search(ins.args):
                bad(ins.line, "installs packages directly; go through scripts/install-deps.sh "
                    "(the one package list)")
            if ins.keyword in ("COPY", "ADD"):
                flags, rest = split_flags(ins.args)
                if "from" in flags:
                    if flags["from"] not in earlier:
                        bad(ins.line, f"COPY --from={flags['from']} is not an earlier stage")
                    used_as_source.add(flags["from"])
                    continue
                for source in copy_sources(rest):
                    if re.match(r"^https?://", source):
                        bad(ins.line, f"{ins.keyword} from a URL ({source}): not reproducible")
                    elif not glob.glob(os.path.join(root, source)):
                        bad(ins.line, f"{ins.keyword} source '{source}' does not exist in the "
                            "build context (the repository root)")
                    elif excluded(source, patterns):
                        bad(ins.line, f"{ins.keyword} source '{source}' is excluded by "
                            f"{os.path.basename(dockerfile)}.dockerignore")
            if ins.keyword in ("ENTRYPOINT", "CMD") and not is_exec_form(ins.args):
                bad(ins.line, f"{ins.keyword} must use the exec (JSON) form so signals reach "
                    "latentbus, not /bin/sh")

    build = by_name.get("build")
    if build is None:
        bad(1, "no stage named 'build'")
    else:
        called, copied_so_far = set(), []
        for ins in build.instructions:
            if ins.keyword == "COPY":
                flags, rest = split_flags(ins.args)
                if "from" not in flags:
                    copied_so_far += [s.rstrip("/") for s in copy_sources(rest)]
            if ins.keyword != "RUN":
                continue
            scripts = OUR_SCRIPT.findall(ins.args)
            if not scripts:
                bad(ins.line, "a RUN of the build stage must call our scripts (scripts/*.sh), "
                    f"not '{ins.args}'")
            for script in scripts:
                path = os.path.join(root, script)
                if not os.path.isfile(path):
                    bad(ins.line, f"{script} does not exist")
                elif not os.access(path, os.X_OK):
                    bad(ins.line, f"{script} is not executable (git lost its mode bit?)")
                for needed in sorted(scripts_run_by(script, root)):
                    if not any(needed == c or needed.startswith(c + "/") or c == "."
                               for c in copied_so_far):
                        bad(ins.line, f"{needed} (run by this RUN) is not copied before it")
                called |= scripts_run_by(script, root)
        for required in ("scripts/install-deps.sh", "scripts/build.sh"):
            if required not in called:
                bad(build.line, f"the build stage never runs {required}")
        copied = []
        for ins in build.of("COPY"):
            flags, rest = split_flags(ins.args)
            if "from" not in flags:
                copied += [s.rstrip("/") for s in copy_sources(rest)]
        for sub in cmake_subdirectories(root):
            if not any(sub == c or sub.startswith(c + "/") or c == "." for c in copied):
                bad(build.line, f"CMakeLists.txt adds '{sub}' but the build stage never copies it")

    finals = [s for s in stages if s.name not in used_as_base | used_as_source]
    names = {s.name for s in finals}
    if names != FINAL_STAGES:
        bad(1, f"final images are {sorted(n or '<unnamed>' for n in names)}, "
            f"expected {sorted(FINAL_STAGES)}")
    for stage in finals:
        chain, current = [], stage
        while current is not None:
            chain.append(current)
            current = by_name.get(current.base)
        user_ins = next((s.of("USER")[-1] for s in chain if s.of("USER")), None)
        if user_ins is None:
            bad(stage.line, f"image '{stage.name}' runs as root (no USER)")
            continue
        user = user_ins.args.split(":")[0]
        if user in ROOT_USERS:
            bad(user_ins.line, f"image '{stage.name}' runs as root (USER {user_ins.args})")
            continue
        creates = re.compile(r"\buseradd\b.*(--uid|-u)\s+" + re.escape(user) + r"\b"
                             if user.isdigit() else r"\buseradd\b.*\s" + re.escape(user) + r"\s*$")
        if not any(creates.search(i.args) for s in chain for i in s.of("RUN")):
            bad(user_ins.line, f"image '{stage.name}': USER {user} is never created (useradd)")
        entry = next((s.of("ENTRYPOINT")[-1] for s in chain if s.of("ENTRYPOINT")), None)
        if entry is None:
            bad(stage.line, f"image '{stage.name}' has no ENTRYPOINT")

    broker = by_name.get("broker")
    if broker is not None and build is not None:
        nats_dir = env_of(build).get("LATENTBUS_NATS_DIR")
        source = f"{nats_dir}/bin/nats-server"
        chain, current = [], broker
        while current is not None:
            chain.append(current)
            current = by_name.get(current.base)
        copies = [split_flags(i.args) for s in chain for i in s.of("COPY")]
        if "scripts/install-nats-server.sh" not in called:
            bad(build.line, "the build stage never runs scripts/install-nats-server.sh (the "
                "pinned nats-server the broker image carries)")
        elif not nats_dir:
            bad(build.line, "the build stage sets no ENV LATENTBUS_NATS_DIR (where "
                "install-nats-server.sh puts the pinned nats-server)")
        elif not any(f.get("from") == "build" and copy_sources(r) == [source]
                     and r.split()[-1] == NATS_SERVER_PATH for f, r in copies):
            bad(broker.line, f"the broker image must carry the pinned nats-server: COPY "
                f"--from=build {source} {NATS_SERVER_PATH}")

    agent = by_name.get("agent")
    if agent is not None:
        volumes = " ".join(i.args for i in agent.of("VOLUME"))
        if "/models" not in volumes:
            bad(agent.line, "the agent image must declare VOLUME /models (its model comes from it)")
        if not any(re.search(r"\bLATENTBUS_MODEL_DIR[= ]/models\b", i.args) for i in agent.of("ENV")):
            bad(agent.line, "the agent image must set ENV LATENTBUS_MODEL_DIR=/models")
    return problems


# (description, transformation of the Dockerfile text, text the error must contain)
BREAKS = [
    ("final image as root", lambda t: t.replace("USER 10001:10001", "USER root"), "runs as root"),
    ("no USER at all", lambda t: re.sub(r"^USER .*$", "", t, flags=re.M), "no USER"),
    ("uid never created", lambda t: t.replace("--uid 10001", "--uid 10002"), "never created"),
    ("direct apt-get install",
     lambda t: t.replace("RUN scripts/install-deps.sh\n",
                         "RUN scripts/install-deps.sh\nRUN apt-get update && apt-get install -y curl\n"),
     "installs packages directly"),
    ("direct pip install", lambda t: t + "RUN python3 -m pip install requests\n",
     "installs packages directly"),
    ("build RUN without our scripts",
     lambda t: t.replace("RUN scripts/runtime-deps.sh", "RUN ldd"), "must call our scripts"),
    ("build.sh never run",
     lambda t: t.replace("scripts/build.sh -DLATENTBUS_TESTS=OFF", "cmake --build build"),
     "never runs scripts/build.sh"),
    ("missing COPY source", lambda t: t.replace("COPY cli cli/", "COPY clii cli/"),
     "does not exist"),
    ("CMake folder not copied", lambda t: t.replace("COPY broker broker/\n", ""),
     "never copies it"),
    ("non-Debian base", lambda t: t.replace("ARG DEBIAN_IMAGE=debian:12", "ARG DEBIAN_IMAGE=ubuntu:22.04"),
     "neither Debian 12"),
    ("shell-form entrypoint",
     lambda t: t.replace('ENTRYPOINT ["/usr/local/bin/latentbus"]', "ENTRYPOINT /usr/local/bin/latentbus"),
     "exec (JSON) form"),
    ("COPY --from unknown stage", lambda t: t.replace("--from=build /src/build/bin", "--from=builder /src/build/bin"),
     "not an earlier stage"),
    ("agent without /models", lambda t: t.replace('VOLUME ["/models"]', ""), "VOLUME /models"),
    ("script run before it is copied",
     lambda t: t.replace("COPY scripts/install-deps.sh scripts/install-nats-server.sh scripts/",
                         "COPY scripts/install-deps.sh scripts/"),
     "scripts/install-nats-server.sh (run by this RUN) is not copied before it"),
    ("broker image without nats-server",
     lambda t: re.sub(r"^COPY --from=build \S+/nats-server .*$", "", t, flags=re.M),
     "must carry the pinned nats-server"),
    ("nats-server installed elsewhere than copied from",
     lambda t: t.replace("ENV LATENTBUS_NATS_DIR=/opt/latentbus/nats-server",
                         "ENV LATENTBUS_NATS_DIR=/opt/nats"),
     "must carry the pinned nats-server"),
]


def self_test(text, dockerfile, root):
    def apply(transform):
        broken = transform(text)
        if broken == text:
            raise CannotApply("the transformation changed nothing: update BREAKS for the new "
                              "Dockerfile")
        return broken

    return run_self_test(lint(text, dockerfile, root), BREAKS, apply,
                         lambda broken: lint(broken, dockerfile, root), "the unmodified file")


def main(argv):
    self_testing = "--self-test" in argv
    paths = [a for a in argv if a != "--self-test"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    dockerfile = paths[0]
    root = os.path.abspath(os.path.join(os.path.dirname(dockerfile), "..", ".."))
    with open(dockerfile) as f:
        text = f.read()
    problems = self_test(text, dockerfile, root) if self_testing else lint(text, dockerfile, root)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        what = f"{len(BREAKS)} known breaks caught" if self_testing else "clean"
        print(f"lint_dockerfile: {dockerfile}: {what}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
