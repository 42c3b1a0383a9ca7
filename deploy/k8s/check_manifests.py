#!/usr/bin/env python3
"""Checks the wiring of rendered latentbus manifests that schemas cannot see.

Input: rendered overlays (multi-document YAML from `kubectl kustomize`), one file per
overlay. Checks, per overlay:
  * restricted Pod Security: non-root, RuntimeDefault seccomp, no privilege escalation,
    every capability dropped, read-only root filesystem, for every container;
  * every ConfigMap, PersistentVolumeClaim and volume a pod names exists (Secrets: in the
    render or among the operator-created ones in OPERATOR_SECRETS), every $(VAR) in a
    command resolves, every Service selects a workload and targets a named port, every
    HorizontalPodAutoscaler and PodDisruptionBudget targets a workload, and a workload an
    autoscaler owns sets no replica count;
  * the broker: gRPC probes (native `grpc:`) on the port its mounted broker.yaml listens on,
    or on health_listen, and never on a TLS port (kubelet probes cannot do TLS);
    terminationGracePeriodSeconds and the liveness budget exceed drain_timeout_seconds;
    the Prometheus annotations name the metrics port; files the config names are mounted;
  * agents: readiness is `test -f` of the --ready-file the agent writes, on a writable
    mount; the --model path lies on a volumeClaimTemplate that an init container fills;
    --broker names the broker Service and its gRPC port; --tls-ca/--token-file files are
    mounted;
and across overlays: an agent model (label latentbus.dev/model) has the same
FETCH_MODEL, MODEL_FILE and LAYER everywhere.

Usage: check_manifests.py [--self-test] RENDERED.yaml...   (needs PyYAML)
--self-test breaks the renders in known ways and fails unless each break is caught.
"""

import copy
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from self_test import CannotApply, run_self_test  # noqa: E402  (deploy/self_test.py)

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Secrets the operator creates (deploy/k8s/README.md); never committed.
OPERATOR_SECRETS = {"latentbus-broker-tls", "latentbus-broker-ca", "latentbus-tokens"}
MODEL_KEYS = ("FETCH_MODEL", "MODEL_FILE", "LAYER")
WORKLOADS = ("Deployment", "StatefulSet")


def port_of(address):
    return int(address.rsplit(":", 1)[1]) if address else None


def flag(args, name):
    """Value following `name` in an argument list, or None."""
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


class Render:
    def __init__(self, name, docs):
        self.name = name
        self.docs = docs
        self.problems = []

    def bad(self, obj, message):
        self.problems.append(f"{self.name}: {obj['kind']}/{obj['metadata']['name']}: {message}")

    def of(self, kind):
        return [d for d in self.docs if d["kind"] == kind]

    def named(self, kind, name):
        return next((d for d in self.of(kind) if d["metadata"]["name"] == name), None)


def pod_env(render, container):
    """Environment names and values (None when not from a literal or ConfigMap)."""
    env = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        cm = ref and render.named("ConfigMap", ref["name"])
        if cm:
            env.update(cm.get("data", {}))
    for item in container.get("env", []):
        env[item["name"]] = item.get("value")
    return env


def expand(text, env):
    return re.sub(r"\$\((\w+)\)", lambda m: str(env.get(m.group(1)) or m.group(0)), text)


def mount_for(container, path):
    """The volumeMount whose mountPath contains `path` (longest match), or None."""
    best = None
    for mount in container.get("volumeMounts", []):
        root = mount["mountPath"].rstrip("/")
        if path == root or path.startswith(root + "/"):
            if best is None or len(root) > len(best["mountPath"]):
                best = mount
    return best


def check_pod_security(render, obj, pod):
    context = pod.get("securityContext", {})
    for c in pod.get("initContainers", []) + pod["containers"]:
        sc = c.get("securityContext", {})
        where = f"container {c['name']}"
        if not (sc.get("runAsNonRoot", context.get("runAsNonRoot")) is True):
            render.bad(obj, f"{where}: runAsNonRoot is not true")
        seccomp = sc.get("seccompProfile", context.get("seccompProfile", {}))
        if seccomp.get("type") != "RuntimeDefault":
            render.bad(obj, f"{where}: seccompProfile is not RuntimeDefault")
        if sc.get("allowPrivilegeEscalation") is not False:
            render.bad(obj, f"{where}: allowPrivilegeEscalation is not false")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            render.bad(obj, f"{where}: capabilities do not drop ALL")
        if sc.get("readOnlyRootFilesystem") is not True:
            render.bad(obj, f"{where}: root filesystem is writable")


def check_references(render, obj, pod):
    claims = {t["metadata"]["name"] for t in obj["spec"].get("volumeClaimTemplates", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for name, volume in volumes.items():
        if "configMap" in volume and not render.named("ConfigMap", volume["configMap"]["name"]):
            render.bad(obj, f"volume {name}: no ConfigMap {volume['configMap']['name']}")
        if "secret" in volume:
            secret = volume["secret"]["secretName"]
            if secret not in OPERATOR_SECRETS and not render.named("Secret", secret):
                render.bad(obj, f"volume {name}: no Secret {secret}")
        claim = volume.get("persistentVolumeClaim", {}).get("claimName")
        if claim and not render.named("PersistentVolumeClaim", claim):
            render.bad(obj, f"volume {name}: no PersistentVolumeClaim {claim}")
    for c in pod.get("initContainers", []) + pod["containers"]:
        for source in c.get("envFrom", []):
            ref = source.get("configMapRef")
            if ref and not render.named("ConfigMap", ref["name"]):
                render.bad(obj, f"container {c['name']}: envFrom names no ConfigMap {ref['name']}")
        for mount in c.get("volumeMounts", []):
            if mount["name"] not in volumes and mount["name"] not in claims:
                render.bad(obj, f"container {c['name']}: mounts unknown volume {mount['name']}")
        env = pod_env(render, c)
        for arg in c.get("command", []) + c.get("args", []):
            for var in re.findall(r"\$\((\w+)\)", arg):
                if var not in env:
                    render.bad(obj, f"container {c['name']}: $({var}) is not defined")


def check_services(render):
    pods = [(w, w["spec"]["template"]) for w in render.docs if w["kind"] in WORKLOADS]
    for svc in render.of("Service"):
        selector = svc["spec"].get("selector", {})
        matches = [(w, t) for w, t in pods
                   if selector and selector.items() <= t["metadata"].get("labels", {}).items()]
        if not matches:
            render.bad(svc, "selects no workload")
            continue
        names = {p.get("name") for _, t in matches for c in t["spec"]["containers"]
                 for p in c.get("ports", [])}
        for port in svc["spec"].get("ports", []):
            target = port.get("targetPort")
            if isinstance(target, str) and target not in names:
                render.bad(svc, f"targetPort {target} is no container port name")


def check_controllers(render):
    for hpa in render.of("HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        target = render.named(ref["kind"], ref["name"])
        if target is None:
            render.bad(hpa, f"targets no {ref['kind']} {ref['name']}")
        elif "replicas" in target["spec"]:
            render.bad(target, "sets spec.replicas although an autoscaler owns the count")
    for pdb in render.of("PodDisruptionBudget"):
        selector = pdb["spec"]["selector"].get("matchLabels", {})
        if not any(selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
                   for w in render.docs if w["kind"] in WORKLOADS):
            render.bad(pdb, "selects no workload")


def check_broker(render, obj):
    pod = obj["spec"]["template"]["spec"]
    container = pod["containers"][0]
    config_path = flag(container.get("args", []), "--config")
    mount = config_path and mount_for(container, config_path)
    volume = mount and next(v for v in pod["volumes"] if v["name"] == mount["name"])
    cm = volume and "configMap" in volume and render.named("ConfigMap", volume["configMap"]["name"])
    if not cm:
        render.bad(obj, "--config does not point into a mounted ConfigMap")
        return
    config = yaml.safe_load(cm["data"][os.path.basename(config_path)]) or {}
    listen, health = port_of(config.get("listen")), port_of(config.get("health_listen"))
    tls = bool(config.get("tls", {}).get("cert"))
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    if ports.get("grpc") != listen:
        render.bad(obj, f"container port 'grpc' is {ports.get('grpc')}, broker.yaml listens on {listen}")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        grpc = container.get(probe, {}).get("grpc")
        if grpc is None:
            render.bad(obj, f"{probe} is not a native gRPC probe")
        elif grpc["port"] == listen and tls:
            render.bad(obj, f"{probe} targets the TLS port {listen}: kubelet gRPC probes cannot "
                       "do TLS (probe health_listen)")
        elif grpc["port"] not in (listen, health):
            render.bad(obj, f"{probe} port {grpc['port']} is neither listen nor health_listen")
    drain = float(config.get("drain_timeout_seconds", 10))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= drain + 1:
        render.bad(obj, f"terminationGracePeriodSeconds {grace} does not exceed "
                   f"drain_timeout_seconds {drain} (+1 s to stop)")
    live = container.get("livenessProbe", {})
    budget = live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
    if budget <= drain:
        render.bad(obj, f"liveness gives up after {budget} s, within a {drain} s drain")
    annotations = obj["spec"]["template"]["metadata"].get("annotations", {})
    metrics = port_of(config.get("metrics_listen"))
    if metrics and annotations.get("prometheus.io/port") != str(metrics):
        render.bad(obj, f"prometheus.io/port is not the metrics port {metrics}")
    files = [config.get("bridges")] + list(config.get("tls", {}).values())
    files += [t["token_file"] for t in config.get("tokens", []) if "token_file" in t]
    for path in filter(None, files):
        if not mount_for(container, path):
            render.bad(obj, f"broker.yaml names {path}, which no volume provides")


def check_agent(render, obj):
    pod = obj["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "agent")
    env = pod_env(render, container)
    args = [expand(a, env) for a in container.get("args", [])]
    ready = flag(args, "--ready-file")
    probe = container.get("readinessProbe", {}).get("exec", {}).get("command")
    if not ready or probe != ["test", "-f", ready]:
        render.bad(obj, f"readiness probe {probe} does not test the --ready-file {ready}")
    elif not mount_for(container, ready) or mount_for(container, ready).get("readOnly"):
        render.bad(obj, f"--ready-file {ready} is not on a writable volume")
    claims = {t["metadata"]["name"] for t in obj["spec"].get("volumeClaimTemplates", [])}
    model = flag(args, "--model") or ""
    mount = mount_for(container, model)
    if not mount or mount["name"] not in claims:
        render.bad(obj, f"--model {model} is not on a volumeClaimTemplate")
    elif not any(any(m["name"] == mount["name"] and not m.get("readOnly")
                     for m in init.get("volumeMounts", []))
                 for init in pod.get("initContainers", [])):
        render.bad(obj, "no init container fills the model volume")
    host, _, port = (flag(args, "--broker") or ":").rpartition(":")
    svc = render.named("Service", host.split(".")[0])
    grpc = svc and next((p["port"] for p in svc["spec"]["ports"] if p.get("name") == "grpc"), None)
    if not svc or str(grpc) != port:
        render.bad(obj, f"--broker {host}:{port} is not the broker Service's gRPC port")
    for name in ("--tls-ca", "--token-file"):
        path = flag(args, name)
        if path and not mount_for(container, path):
            render.bad(obj, f"{name} {path} is on no mounted volume")


def model_settings(render):
    out = {}
    for sts in render.of("StatefulSet"):
        model = sts["spec"]["template"]["metadata"]["labels"].get("latentbus.dev/model")
        container = sts["spec"]["template"]["spec"]["containers"][0]
        env = pod_env(render, container)
        if model:
            out[model] = {k: env.get(k) for k in MODEL_KEYS}
    return out


def check(renders):
    problems = []
    for render in renders:
        render.problems = []
        for obj in render.docs:
            if obj["kind"] in WORKLOADS:
                pod = obj["spec"]["template"]["spec"]
                check_pod_security(render, obj, pod)
                check_references(render, obj, pod)
                component = obj["metadata"].get("labels", {}).get("app.kubernetes.io/component")
                if component == "broker":
                    check_broker(render, obj)
                elif component == "agent":
                    check_agent(render, obj)
        check_services(render)
        check_controllers(render)
        problems += render.problems
    seen = {}
    for render in renders:
        for model, settings in model_settings(render).items():
            first = seen.setdefault(model, (render.name, settings))
            if first[1] != settings:
                problems.append(f"model {model}: {render.name} has {settings}, {first[0]} has {first[1]}")
    return problems


def load(paths):
    renders = []
    for path in paths:
        with open(path) as f:
            docs = [d for d in yaml.load_all(f, Loader=LOADER) if d]
        renders.append(Render(os.path.splitext(os.path.basename(path))[0], docs))
    return renders


def find(renders, kind, component, model=None, tls=False):
    """The first (render, object) of `kind` with the component (and model) label, in a
    render whose broker uses TLS when `tls`."""
    for render in renders:
        if tls and not any("tls:" in cm.get("data", {}).get("broker.yaml", "")
                           for cm in render.of("ConfigMap")):
            continue
        for obj in render.of(kind):
            labels = obj["metadata"].get("labels", {})
            if labels.get("app.kubernetes.io/component") == component and (
                    model is None or labels.get("latentbus.dev/model") == model):
                return render, obj
    raise LookupError(f"no {kind} {component} {model or ''} to break")


def break_grace(renders):
    _, broker = find(renders, "Deployment", "broker")
    broker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 5


def break_tls_probe(renders):  # the TLS broker probed on its TLS port
    _, broker = find(renders, "Deployment", "broker", tls=True)
    broker["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["port"] = 7070


def break_ready_file(renders):
    _, agent = find(renders, "StatefulSet", "agent")
    agent["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"][2] = "/tmp/x"


def break_configmap(renders):
    render, agent = find(renders, "StatefulSet", "agent")
    name = agent["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"]
    render.docs = [d for d in render.docs if d["metadata"]["name"] != name]


def break_replicas(renders):
    for render in renders:
        for hpa in render.of("HorizontalPodAutoscaler"):
            render.named("StatefulSet", hpa["spec"]["scaleTargetRef"]["name"])["spec"]["replicas"] = 2
            return
    raise LookupError("no autoscaler")


def break_model_drift(renders):
    render, agent = find(renders, "StatefulSet", "agent", "gemma3")
    name = agent["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"]
    render.named("ConfigMap", name)["data"]["LAYER"] = "99"


def break_privilege(renders):
    _, agent = find(renders, "StatefulSet", "agent")
    agent["spec"]["template"]["spec"]["initContainers"][0]["securityContext"]["allowPrivilegeEscalation"] = True


def break_service(renders):
    render, _ = find(renders, "Deployment", "broker")
    render.named("Service", "latentbus-broker")["spec"]["ports"][0]["targetPort"] = "grcp"


BREAKS = [
    ("grace period shorter than the drain", break_grace, "terminationGracePeriodSeconds"),
    ("gRPC probe on the TLS port", break_tls_probe, "cannot do TLS"),
    ("readiness tests another file", break_ready_file, "--ready-file"),
    ("ConfigMap missing", break_configmap, "no ConfigMap"),
    ("replicas under an autoscaler", break_replicas, "autoscaler owns"),
    ("model settings drift between overlays", break_model_drift, "model gemma3"),
    ("privilege escalation", break_privilege, "allowPrivilegeEscalation"),
    ("Service targets a missing port", break_service, "targetPort grcp"),
]


def self_test(paths):
    pristine = load(paths)

    def apply(transform):
        renders = copy.deepcopy(pristine)
        try:
            transform(renders)
        except LookupError as e:
            raise CannotApply(e) from e
        return renders

    return run_self_test(check(copy.deepcopy(pristine)), BREAKS, apply, check, "the renders")


def main(argv):
    self_testing = "--self-test" in argv
    paths = [a for a in argv if a != "--self-test"]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    problems = self_test(paths) if self_testing else check(load(paths))
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        names = ", ".join(os.path.basename(p) for p in paths)
        print(f"check_manifests: {names}: " +
              (f"{len(BREAKS)} known breaks caught" if self_testing else "wiring consistent"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
