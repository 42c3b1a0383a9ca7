"""Wiring checks of the scaled-out deployment (check_manifests.py runs them): the JetStream
StatefulSet that keeps the queues, and a broker in cluster mode with its link to it. The
rules are listed in check_manifests.py's docstring; JETSTREAM_BREAKS are their self-test.
"""

import os
import re
import sys

from manifests import (autoscaler_of, broker_config, budgets_of, find, flag, mount_for,
                       mounted_file, port_of, selects)
from nats_conf import nats_duration, nats_size, parse_nats_conf

DEPLOY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(DEPLOY, "docker"))
# Where the broker image carries nats-server (its lint holds deploy/docker/Dockerfile to it).
from lint_dockerfile import NATS_SERVER_PATH  # noqa: E402
# Broker defaults (docs/CONFIG.md) the checks need when broker.yaml leaves them out, and
# the framing the broker adds to a message in JetStream (broker/jetstream_delivery.cc).
DEFAULT_MAX_MESSAGE_BYTES = 4 << 20
DEFAULT_MAX_TOTAL_QUEUE_BYTES = 1 << 30
JETSTREAM_FRAMING = 65536 + 4096  # the broker's 64 KiB, plus NATS headers
NATS_DEFAULT_MAX_PAYLOAD = 1 << 20
JETSTREAM_REPLICAS = 3


def pinned_nats_version():
    """VERSION= of scripts/install-nats-server.sh (the pinned nats-server)."""
    with open(os.path.join(DEPLOY, "..", "scripts", "install-nats-server.sh")) as f:
        return re.search(r"^VERSION=(\S+)$", f.read(), re.M).group(1)


def jetstream_config(render, sts):
    """(container, nats.conf text, parsed) of a JetStream StatefulSet; text None if absent."""
    container = sts["spec"]["template"]["spec"]["containers"][0]
    text = mounted_file(render, sts, container, flag(container.get("args", []), "--config"))
    return container, text, (parse_nats_conf(text) if text is not None else {})


def resolve_nats_server(render, url):
    """(JetStream StatefulSet, pod ordinal or None for a Service) that a cluster.servers URL
    names in this render, or (None, why)."""
    match = re.match(r"^(?:nats|tls)://([^:/]+):(\d+)$", url)
    if not match:
        return None, "is not nats://HOST:PORT"
    host, port = match.group(1).split("."), int(match.group(2))
    for sts in render.of("StatefulSet"):
        if sts["metadata"].get("labels", {}).get("app.kubernetes.io/component") != "jetstream":
            continue
        container = sts["spec"]["template"]["spec"]["containers"][0]
        client = next((p["containerPort"] for p in container.get("ports", [])
                       if p.get("name") == "client"), None)
        name = sts["metadata"]["name"]
        pod = re.match(rf"^{re.escape(name)}-(\d+)$", host[0])
        if pod and len(host) > 1 and host[1] == sts["spec"]["serviceName"]:
            if int(pod.group(1)) >= sts["spec"].get("replicas", 1):
                return None, f"names pod {host[0]}, beyond the {sts['spec'].get('replicas', 1)} of {name}"
            if port != client:
                return None, f"port {port} is not {name}'s client port {client}"
            return sts, int(pod.group(1))
        svc = render.named("Service", host[0])
        if svc and selects(svc["spec"].get("selector", {}), sts):
            ports = [p for p in svc["spec"].get("ports", []) if p["port"] == port]
            if not ports or ports[0].get("targetPort") not in ("client", client):
                return None, f"Service {host[0]} has no port {port} to {name}'s client port"
            return sts, None
    return None, "resolves to no JetStream pod or Service in this render"


def check_broker_cluster(render, obj, config):
    """A broker in cluster mode: several replicas, and the JetStream cluster it names."""
    cluster = config["cluster"]
    hpa = autoscaler_of(render, obj)
    minimum = hpa["spec"].get("minReplicas", 1) if hpa else obj["spec"].get("replicas", 1)
    if minimum < 2:
        render.bad(obj, f"runs {minimum} broker in cluster mode: at least 2, so a broker that "
                   "drains or dies leaves one for its agents")
    if obj["spec"].get("strategy", {}).get("type", "RollingUpdate") != "RollingUpdate":
        render.bad(obj, "in cluster mode the strategy is RollingUpdate (brokers share the queues)")
    if not budgets_of(render, obj):
        render.bad(obj, "no PodDisruptionBudget selects the brokers")
    if not any(svc["spec"].get("clusterIP") == "None"
               and selects(svc["spec"].get("selector", {}), obj)
               and any(p.get("name") == "grpc" for p in svc["spec"].get("ports", []))
               for svc in render.of("Service")):
        render.bad(obj, "no headless Service selects the brokers on port grpc (agents dial it to "
                   "see every broker)")
    reached, pods = {}, set()
    for url in [s.strip() for s in str(cluster["servers"]).split(",") if s.strip()]:
        sts, where = resolve_nats_server(render, url)
        if sts is None:
            render.bad(obj, f"cluster server {url} {where}")
            continue
        reached[sts["metadata"]["name"]] = sts
        if where is not None:
            pods.add((sts["metadata"]["name"], where))
    if len(reached) != 1:
        if len(reached) > 1:
            render.bad(obj, f"cluster servers name several JetStream clusters: {sorted(reached)}")
        return
    sts = next(iter(reached.values()))
    replicas = sts["spec"].get("replicas", 1)
    _, _, conf = jetstream_config(render, sts)
    if pods and len(pods) < replicas and (conf.get("cluster") or {}).get("no_advertise") == "true":
        render.bad(obj, f"cluster servers list {len(pods)} of the {replicas} pods of "
                   f"{sts['metadata']['name']}, which do not advertise the others (no_advertise)")
    if int(cluster.get("replicas", 1)) > replicas:
        render.bad(obj, f"cluster.replicas {cluster.get('replicas')} exceeds the {replicas} "
                   "JetStream servers")
    sync = (conf.get("jetstream") or {}).get("sync_interval")
    if cluster.get("durability", "always") == "always" and sync != "always":
        render.bad(obj, f"durability: always, but the JetStream servers run with sync_interval "
                   f"{sync or 'unset (2 min)'}: an ack would not mean on disk")
    limits = config.get("limits") or {}
    largest = int(limits.get("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES)) + JETSTREAM_FRAMING
    payload = nats_size(conf.get("max_payload", NATS_DEFAULT_MAX_PAYLOAD))
    if payload < largest:
        render.bad(obj, f"the JetStream servers' max_payload {payload} is below the largest "
                   f"publish {largest} (limits.max_message_bytes + framing)")
    store = (conf.get("jetstream") or {}).get("max_file_store")
    total = int(limits.get("max_total_queue_bytes", DEFAULT_MAX_TOTAL_QUEUE_BYTES))
    if store is not None and nats_size(store) < total:
        render.bad(obj, f"max_file_store {store} of the JetStream servers is below the stream's "
                   f"limits.max_total_queue_bytes {total}: JetStream refuses the stream")


def check_jetstream(render, obj):
    spec = obj["spec"]
    pod = spec["template"]["spec"]
    name = obj["metadata"]["name"]
    replicas = spec.get("replicas", 1)
    if replicas != JETSTREAM_REPLICAS:
        render.bad(obj, f"has {replicas} replicas: the JetStream cluster runs "
                   f"{JETSTREAM_REPLICAS} (a quorum of 2 survives the loss of one)")
    if spec.get("podManagementPolicy") != "Parallel":
        render.bad(obj, "podManagementPolicy is not Parallel: a server is ready only with a "
                   "quorum of peers, so pods started one by one wait for each other forever")
    pinned = pinned_nats_version()
    for where, labels in (("", obj["metadata"].get("labels", {})),
                          ("pod ", spec["template"]["metadata"].get("labels", {}))):
        version = labels.get("app.kubernetes.io/version")
        if version != pinned:
            render.bad(obj, f"{where}label app.kubernetes.io/version is {version}: "
                       f"scripts/install-nats-server.sh pins nats-server {pinned}")
    container, text, conf = jetstream_config(render, obj)
    command = (container.get("command") or [None])[0]
    if command != NATS_SERVER_PATH:
        render.bad(obj, f"runs {command}, not {NATS_SERVER_PATH} (the pinned nats-server of "
                   "the broker image, deploy/docker/Dockerfile)")
    images = {b["spec"]["template"]["spec"]["containers"][0]["image"] for b in render.of("Deployment")
              if b["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "broker"}
    if images and container["image"] not in images:
        render.bad(obj, f"image {container['image']} is not the broker image {sorted(images)} "
                   "(which carries the pinned nats-server)")
    if text is None:
        render.bad(obj, "--config does not point into a mounted ConfigMap")
        return
    jetstream, cluster = conf.get("jetstream") or {}, conf.get("cluster") or {}
    if jetstream.get("sync_interval") != "always":
        render.bad(obj, f"nats.conf: jetstream sync_interval is {jetstream.get('sync_interval')}, "
                   "not always (an acked message would wait up to 2 min for the disk)")
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    store = jetstream.get("store_dir", "")
    mount = mount_for(container, store)
    if not mount or mount["name"] not in claims or mount.get("readOnly"):
        render.bad(obj, f"nats.conf: store_dir {store or '(unset)'} is not on a writable "
                   "volumeClaimTemplate")
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    for key, value, port in (("listen", conf.get("listen"), "client"),
                             ("http", conf.get("http"), "monitor"),
                             ("cluster listen", cluster.get("listen"), "cluster")):
        if port_of(value) != ports.get(port):
            render.bad(obj, f"nats.conf: {key} {value} is not container port {port} "
                       f"({ports.get(port)})")
    svc_name = spec.get("serviceName")
    svc = render.named("Service", svc_name)
    if svc and not svc["spec"].get("publishNotReadyAddresses"):
        render.bad(obj, f"Service {svc_name} lacks publishNotReadyAddresses: the routes cannot "
                   "resolve before a quorum is up, and it never comes up")
    routes = cluster.get("routes") or []
    wanted = {f"nats://{name}-{i}.{svc_name}:{ports.get('cluster')}" for i in range(replicas)}
    if set(routes) != wanted:
        render.bad(obj, f"nats.conf: cluster routes {routes} are not the {replicas} pods "
                   f"{sorted(wanted)}")
    env = {e["name"]: e for e in container.get("env", [])}
    uncommented = re.sub(r"(?m)(^|\s)(#|//).*$", "", text)
    for var in sorted(set(re.findall(r"\$(\w+)", uncommented))):
        if var not in env:
            render.bad(obj, f"nats.conf uses ${var}, which the container's env does not define")
    server_name = conf.get("server_name", "")
    source = env.get(server_name[1:], {}) if server_name.startswith("$") else {}
    if source.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
        render.bad(obj, f"nats.conf: server_name {server_name or '(unset)'} is not the pod name "
                   "(JetStream knows its peers by name: unique and stable)")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("port") not in ("monitor", ports.get("monitor")) or \
                not str(get.get("path", "")).startswith("/healthz"):
            render.bad(obj, f"{probe} is no /healthz check on the monitoring port")
    if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
        render.bad(obj, "readinessProbe is not the full /healthz: a server still catching up "
                   "would count as available to the disruption budget")
    pid_file = conf.get("pid_file", "")
    pid_mount = mount_for(container, pid_file)
    stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    if not pid_mount or pid_mount.get("readOnly"):
        render.bad(obj, f"nats.conf: pid_file {pid_file or '(unset)'} is not on a writable mount")
    elif not stop or stop[0] != NATS_SERVER_PATH or f"ldm={pid_file}" not in stop:
        render.bad(obj, f"preStop {stop} does not signal lame duck mode (ldm={pid_file})")
    lame = nats_duration(conf.get("lame_duck_grace_period", "10s")) + \
        nats_duration(conf.get("lame_duck_duration", "2m"))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= lame:
        render.bad(obj, f"terminationGracePeriodSeconds {grace} does not exceed lame duck mode "
                   f"({lame:g} s)")
    if not any(b["spec"].get("maxUnavailable") == 1 for b in budgets_of(render, obj)):
        render.bad(obj, "no PodDisruptionBudget with maxUnavailable 1 selects the servers")


def edit_nats_conf(renders, old, new):
    render, sts = find(renders, "StatefulSet", "jetstream")
    container = sts["spec"]["template"]["spec"]["containers"][0]
    mount = mount_for(container, flag(container["args"], "--config"))
    volume = next(v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"])
    data = render.named("ConfigMap", volume["configMap"]["name"])["data"]
    if old not in data["nats.conf"]:
        raise LookupError(f"nats.conf has no '{old}'")
    data["nats.conf"] = data["nats.conf"].replace(old, new)


def clustered_broker(renders):
    """The first (render, broker Deployment) whose broker.yaml has cluster.servers."""
    for render in renders:
        for broker in render.of("Deployment"):
            if ((broker_config(render, broker) or {}).get("cluster") or {}).get("servers"):
                return render, broker
    raise LookupError("no broker in cluster mode")


def edit_broker_config(renders, old, new):
    render, broker = clustered_broker(renders)
    container = broker["spec"]["template"]["spec"]["containers"][0]
    mount = mount_for(container, flag(container["args"], "--config"))
    volume = next(v for v in broker["spec"]["template"]["spec"]["volumes"]
                  if v["name"] == mount["name"])
    data = render.named("ConfigMap", volume["configMap"]["name"])["data"]
    if old not in data["broker.yaml"]:
        raise LookupError(f"broker.yaml has no '{old}'")
    data["broker.yaml"] = data["broker.yaml"].replace(old, new)


def break_sync_interval(renders):
    edit_nats_conf(renders, "sync_interval: always", "sync_interval: 2m")


def break_routes(renders):
    edit_nats_conf(renders, "nats://latentbus-jetstream-2.latentbus-jetstream:6222", "")


def break_store_dir(renders):
    edit_nats_conf(renders, "store_dir: /data", "store_dir: /tmp/jetstream")


def break_max_payload(renders):
    edit_nats_conf(renders, "max_payload: 8388608", "max_payload: 1MB")


def break_jetstream_replicas(renders):
    _, sts = find(renders, "StatefulSet", "jetstream")
    sts["spec"]["replicas"] = 2


def break_nats_version(renders):
    _, sts = find(renders, "StatefulSet", "jetstream")
    sts["metadata"]["labels"]["app.kubernetes.io/version"] = "2.14.0"


def break_readiness(renders):
    _, sts = find(renders, "StatefulSet", "jetstream")
    probe = sts["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGet"]["path"] = "/healthz?js-enabled-only=true"


def break_not_ready_addresses(renders):
    render, sts = find(renders, "StatefulSet", "jetstream")
    del render.named("Service", sts["spec"]["serviceName"])["spec"]["publishNotReadyAddresses"]


def break_jetstream_budget(renders):
    render, sts = find(renders, "StatefulSet", "jetstream")
    render.docs = [d for d in render.docs if d not in budgets_of(render, sts)]


def break_cluster_server(renders):
    edit_broker_config(renders, "latentbus-jetstream-2.", "latentbus-jetstream-5.")


def break_cluster_replicas(renders):
    edit_broker_config(renders, "replicas: 3", "replicas: 5")


def break_one_clustered_broker(renders):
    render, broker = clustered_broker(renders)
    autoscaler_of(render, broker)["spec"]["minReplicas"] = 1


def break_agents_dial_cluster_ip(renders):
    render, _ = clustered_broker(renders)
    for cm in render.of("ConfigMap"):
        if cm["data"].get("LATENTBUS_BROKER") == "latentbus-broker-headless:7070":
            cm["data"]["LATENTBUS_BROKER"] = "latentbus-broker:7070"
            return
    raise LookupError("no agent dials latentbus-broker-headless")


JETSTREAM_BREAKS = [
    ("JetStream without sync_interval: always", break_sync_interval, "sync_interval is 2m"),
    ("a route missing", break_routes, "cluster routes"),
    ("JetStream store off the volume", break_store_dir, "store_dir /tmp/jetstream"),
    ("max_payload below the largest message", break_max_payload, "max_payload 1048576"),
    ("JetStream with two servers", break_jetstream_replicas, "has 2 replicas"),
    ("nats-server version off the pin", break_nats_version, "pins nats-server"),
    ("JetStream readiness not the full /healthz", break_readiness, "readinessProbe is not the full"),
    ("routes unresolvable before quorum", break_not_ready_addresses, "publishNotReadyAddresses"),
    ("JetStream without a budget", break_jetstream_budget, "maxUnavailable 1 selects the servers"),
    ("cluster server that is no pod", break_cluster_server, "beyond the 3"),
    ("more copies than servers", break_cluster_replicas, "exceeds the 3"),
    ("one broker in cluster mode", break_one_clustered_broker, "at least 2"),
    ("agents dial the ClusterIP Service", break_agents_dial_cluster_ip, "dial their headless"),
]
