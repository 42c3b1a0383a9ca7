"""Rendered manifests and the lookups the deploy checks share (check_manifests.py,
jetstream_checks.py): objects by kind and name, container flags and mounts, what selects
what, and the configuration files a ConfigMap mounts into a pod.
"""

import os
import re

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def selects(selector, workload):
    """Whether a matchLabels-style selector picks the workload's pods."""
    labels = workload["spec"]["template"]["metadata"].get("labels", {})
    return bool(selector) and selector.items() <= labels.items()


def autoscaler_of(render, workload):
    return next((h for h in render.of("HorizontalPodAutoscaler")
                 if h["spec"]["scaleTargetRef"]["kind"] == workload["kind"]
                 and h["spec"]["scaleTargetRef"]["name"] == workload["metadata"]["name"]), None)


def budgets_of(render, workload):
    return [p for p in render.of("PodDisruptionBudget")
            if selects(p["spec"]["selector"].get("matchLabels", {}), workload)]


def mount_for(container, path):
    """The volumeMount whose mountPath contains `path` (longest match), or None."""
    best = None
    for mount in container.get("volumeMounts", []):
        root = mount["mountPath"].rstrip("/")
        if path == root or path.startswith(root + "/"):
            if best is None or len(root) > len(best["mountPath"]):
                best = mount
    return best


def mounted_file(render, obj, container, path):
    """The text of `path` when it lies on a mounted ConfigMap, else None."""
    mount = path and mount_for(container, path)
    pod = obj["spec"]["template"]["spec"]
    volume = mount and next((v for v in pod.get("volumes", []) if v["name"] == mount["name"]), None)
    cm = volume and "configMap" in volume and render.named("ConfigMap", volume["configMap"]["name"])
    return cm.get("data", {}).get(os.path.basename(path)) if cm else None


def broker_config(render, broker):
    """The broker.yaml a broker Deployment runs with (a dict), or None."""
    container = broker["spec"]["template"]["spec"]["containers"][0]
    text = mounted_file(render, broker, container, flag(container.get("args", []), "--config"))
    return None if text is None else (yaml.safe_load(text) or {})
