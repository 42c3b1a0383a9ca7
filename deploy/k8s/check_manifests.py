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
  * every StatefulSet's serviceName is a headless Service (clusterIP: None); a
    PodDisruptionBudget selects the pods of one workload; a claim mounted by a workload
    that may run several pods (replicas or an autoscaler's maximum) is not ReadWriteOnce
    only (the pods may land on different nodes);
  * the broker: gRPC probes (native `grpc:`) on the port its mounted broker.yaml listens on,
    or on health_listen, and never on a TLS port (kubelet probes cannot do TLS);
    terminationGracePeriodSeconds and the liveness budget exceed drain_timeout_seconds;
    the Prometheus annotations name the metrics port; files the config names are mounted;
    without `cluster:` (queues in memory) exactly one replica, no autoscaler, strategy
    Recreate; with it, at least two replicas (or an autoscaler's minimum), RollingUpdate,
    a PodDisruptionBudget, a headless Service on the gRPC port, and cluster.servers that
    resolve to JetStream pods (every one of them) or a Service selecting them, on their
    client port, with cluster.replicas within the servers, sync_interval: always under
    durability: always, max_payload above the largest message and max_file_store above
    the stream's byte limit;
  * the JetStream StatefulSet (component jetstream): 3 replicas started in parallel; the
    nats-server version label equals the pin of scripts/install-nats-server.sh, the
    command is where deploy/docker/Dockerfile puts nats-server, the image is the broker's;
    its nats.conf has sync_interval: always, store_dir on a volumeClaimTemplate, listen /
    cluster / http ports equal to the container ports, one route per pod under the
    governing headless Service (publishNotReadyAddresses), a server_name from the pod
    name and no undefined $VARIABLE; /healthz probes on the monitoring port (readiness the
    full check); preStop lame duck through pid_file, within the grace period; a budget of
    maxUnavailable 1;
  * agents: readiness is `test -f` of the --ready-file the agent writes, on a writable
    mount; the --model path lies on a volumeClaimTemplate that an init container fills;
    every --broker address (comma-separated) names a Service of the broker and its gRPC
    port, a headless one when the broker runs in cluster mode; --tls-ca/--token-file
    files are mounted;
  * monitoring and tracing (observability_checks.py): ServiceMonitors that reach the
    broker's metrics port with the token metrics_auth asks for; OTLP endpoint, service
    name and sampler of every broker and agent, the same collector for all, reachable
    through the NetworkPolicies; both required in the production overlay;
and across overlays: an agent model (label latentbus.dev/model) has the same
FETCH_MODEL, MODEL_FILE and LAYER everywhere.

The JetStream and cluster-mode rules live in jetstream_checks.py (nats.conf is read by
nats_conf.py), the monitoring and tracing rules in observability_checks.py, the lookups
they share in manifests.py.

Usage: check_manifests.py [--self-test] RENDERED.yaml...   (needs PyYAML)
--self-test breaks the renders in known ways and fails unless each break is caught.
"""

import copy
import os
import re
import sys

from jetstream_checks import (JETSTREAM_BREAKS, check_broker_cluster, check_jetstream,
                              clustered_broker)
from manifests import (autoscaler_of, broker_config, expand, find, flag, load, mount_for,
                       pod_env, port_of, selects)
from observability_checks import OBSERVABILITY_BREAKS, check_observability

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from self_test import CannotApply, run_self_test  # noqa: E402  (deploy/self_test.py)

# Secrets the operator creates (deploy/k8s/README.md); never committed.
OPERATOR_SECRETS = {"latentbus-broker-tls", "latentbus-broker-ca", "latentbus-tokens"}
MODEL_KEYS = ("FETCH_MODEL", "MODEL_FILE", "LAYER")
WORKLOADS = ("Deployment", "StatefulSet")


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
    workloads = [w for w in render.docs if w["kind"] in WORKLOADS]
    for pdb in render.of("PodDisruptionBudget"):
        selector = pdb["spec"]["selector"].get("matchLabels", {})
        chosen = [w["metadata"]["name"] for w in workloads if selects(selector, w)]
        if not chosen:
            render.bad(pdb, "selects no workload")
        elif len(chosen) > 1:
            render.bad(pdb, f"selects the pods of {chosen}: one budget would cover them all")
    for sts in render.of("StatefulSet"):
        svc = render.named("Service", sts["spec"].get("serviceName", ""))
        if not svc or svc["spec"].get("clusterIP") != "None":
            render.bad(sts, f"serviceName {sts['spec'].get('serviceName')} is no headless Service "
                       "(clusterIP: None): its pods get no stable names")
    for w in workloads:
        hpa = autoscaler_of(render, w)
        pods = hpa["spec"]["maxReplicas"] if hpa else w["spec"].get("replicas", 1)
        for volume in w["spec"]["template"]["spec"].get("volumes", []):
            claim = render.named("PersistentVolumeClaim",
                                 volume.get("persistentVolumeClaim", {}).get("claimName", ""))
            if claim and pods > 1 and claim["spec"].get("accessModes") == ["ReadWriteOnce"]:
                render.bad(w, f"claim {claim['metadata']['name']} is ReadWriteOnce but up to {pods} "
                           "pods mount it, on different nodes (ReadWriteMany or ReadOnlyMany)")


def check_broker(render, obj):
    pod = obj["spec"]["template"]["spec"]
    container = pod["containers"][0]
    config = broker_config(render, obj)
    if config is None:
        render.bad(obj, "--config does not point into a mounted ConfigMap")
        return
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
    if (config.get("cluster") or {}).get("servers"):
        check_broker_cluster(render, obj, config)
        return
    hpa = autoscaler_of(render, obj)
    replicas = obj["spec"].get("replicas", 1)
    if hpa or replicas != 1:
        render.bad(obj, f"keeps its queues in memory (no cluster: in broker.yaml) but runs "
                   f"{'an autoscaler' if hpa else f'{replicas} replicas'}: brokers side by side "
                   "would split the agents")
    if obj["spec"].get("strategy", {}).get("type") != "Recreate":
        render.bad(obj, "keeps its queues in memory: strategy must be Recreate (a rolling "
                   "update runs two brokers at once)")


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
    brokers = [d for d in render.of("Deployment")
               if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "broker"]
    for address in [a.strip() for a in (flag(args, "--broker") or ":").split(",") if a.strip()]:
        host, _, port = address.rpartition(":")
        svc = render.named("Service", host.split(".")[0])
        grpc = svc and next((p["port"] for p in svc["spec"]["ports"] if p.get("name") == "grpc"), None)
        broker = svc and next((b for b in brokers
                               if selects(svc["spec"].get("selector", {}), b)), None)
        if not svc or str(grpc) != port or not broker:
            render.bad(obj, f"--broker {address} is not the gRPC port of a Service of the broker")
        elif ((broker_config(render, broker) or {}).get("cluster") or {}).get("servers") and \
                svc["spec"].get("clusterIP") != "None":
            render.bad(obj, f"--broker {address}: the brokers run in cluster mode; dial their "
                       "headless Service, so gRPC sees every broker")
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
                elif component == "jetstream":
                    check_jetstream(render, obj)
        check_services(render)
        check_controllers(render)
        check_observability(render)
        problems += render.problems
    seen = {}
    for render in renders:
        for model, settings in model_settings(render).items():
            first = seen.setdefault(model, (render.name, settings))
            if first[1] != settings:
                problems.append(f"model {model}: {render.name} has {settings}, {first[0]} has {first[1]}")
    return problems


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


def break_in_memory_replicas(renders):
    for render in renders:
        for broker in render.of("Deployment"):
            config = broker_config(render, broker)
            if config is not None and not (config.get("cluster") or {}).get("servers"):
                broker["spec"]["replicas"] = 2
                return
    raise LookupError("no in-memory broker")


def break_bridges_rwo(renders):
    render, _ = clustered_broker(renders)
    render.named("PersistentVolumeClaim", "latentbus-bridges")["spec"]["accessModes"] = ["ReadWriteOnce"]


BREAKS = [
    ("grace period shorter than the drain", break_grace, "terminationGracePeriodSeconds"),
    ("gRPC probe on the TLS port", break_tls_probe, "cannot do TLS"),
    ("readiness tests another file", break_ready_file, "--ready-file"),
    ("ConfigMap missing", break_configmap, "no ConfigMap"),
    ("replicas under an autoscaler", break_replicas, "autoscaler owns"),
    ("model settings drift between overlays", break_model_drift, "model gemma3"),
    ("privilege escalation", break_privilege, "allowPrivilegeEscalation"),
    ("Service targets a missing port", break_service, "targetPort grcp"),
    ("two in-memory brokers", break_in_memory_replicas, "keeps its queues in memory"),
    ("bridges claim on one node under several brokers", break_bridges_rwo, "is ReadWriteOnce"),
] + JETSTREAM_BREAKS + OBSERVABILITY_BREAKS


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
