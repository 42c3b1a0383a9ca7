"""Monitoring and tracing wiring of rendered latentbus manifests (check_manifests.py runs it).

Metrics: every ServiceMonitor (monitoring.coreos.com/v1, Prometheus Operator) uses only
fields of that API (kubernetes-validate knows no schema for it); selects, by their labels,
Services of this namespace; names in each endpoint a port of a selected Service that leads
to the broker container port broker.yaml serves metrics on, on the path /metrics; and,
when broker.yaml sets metrics_auth, sends a bearer token from a Secret key that the broker
mounts as the token_file of a token allowed to scrape (metrics: true or admin). The
brokers' NetworkPolicies, if any restrict ingress, admit the metrics port.

Traces: every broker and agent container that exports (OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, from env or an envFrom ConfigMap) names an http(s)
URL on the port of its protocol (OTLP/HTTP 4318, OTLP/gRPC 4317), a service name that
differs between brokers and agents, and, when it sets one, a known sampler with a ratio in
(0, 1]; all of a render's exporters share the collector and sampler; NetworkPolicies that
restrict a pod's egress let it reach the collector's namespace and port.

In the renders of OBSERVED_RENDERS (the production overlay) this is required: a
ServiceMonitor for the broker and, on every broker and agent, an endpoint and an explicit
sampler. Other renders are checked only for what they declare.
"""

import urllib.parse

from manifests import broker_config, pod_env, port_of, selects

OBSERVED_RENDERS = {"prod"}
MONITORING_API = "monitoring.coreos.com/v1"
# Fields of the ServiceMonitor API (Prometheus Operator v0.80): spec and endpoints.
SERVICE_MONITOR_FIELDS = {
    "attachMetadata", "bodySizeLimit", "endpoints", "fallbackScrapeProtocol", "jobLabel",
    "keepDroppedTargets", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit",
    "namespaceSelector", "nativeHistogramBucketLimit", "nativeHistogramMinBucketFactor",
    "podTargetLabels", "sampleLimit", "scrapeClass", "scrapeClassicHistograms",
    "scrapeProtocols", "selector", "selectorMechanism", "targetLabels", "targetLimit"}
ENDPOINT_FIELDS = {
    "authorization", "basicAuth", "bearerTokenFile", "bearerTokenSecret", "enableHttp2",
    "filterRunning", "followRedirects", "honorLabels", "honorTimestamps", "interval",
    "metricRelabelings", "oauth2", "params", "path", "port", "proxyUrl", "relabelings",
    "scheme", "scrapeTimeout", "targetPort", "tlsConfig", "trackTimestampsStaleness"}
# OTEL_TRACES_SAMPLER values the telemetry library accepts (telemetry/sampler.h).
SAMPLERS = {"always_on", "always_off", "traceidratio", "parentbased_always_on",
            "parentbased_always_off", "parentbased_traceidratio"}
OTLP_PORTS = {"http/protobuf": 4318, "grpc": 4317}
COMPONENTS = ("broker", "agent")


def matches(selector, labels):
    """Whether a LabelSelector (matchLabels and In/NotIn/Exists/DoesNotExist
    matchExpressions) picks `labels`; an empty selector picks everything."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for e in selector.get("matchExpressions", []):
        key, op, values = e["key"], e["operator"], e.get("values", [])
        if (op == "In" and labels.get(key) not in values) or \
                (op == "NotIn" and labels.get(key) in values) or \
                (op == "Exists" and key not in labels) or \
                (op == "DoesNotExist" and key in labels):
            return False
    return True


def pod_labels(workload):
    return workload["spec"]["template"]["metadata"].get("labels", {})


def component_of(workload):
    return workload["metadata"].get("labels", {}).get("app.kubernetes.io/component")


def main_container(workload):
    containers = workload["spec"]["template"]["spec"]["containers"]
    return next((c for c in containers if c["name"] == component_of(workload)), containers[0])


def policies(render, workload, direction):
    """NetworkPolicies of `direction` (Ingress/Egress) that select the workload's pods."""
    return [p for p in render.of("NetworkPolicy")
            if direction in p["spec"].get("policyTypes", ["Ingress"])
            and matches(p["spec"].get("podSelector", {}), pod_labels(workload))]


def rule_allows_port(rule, port):
    return not rule.get("ports") or any(p.get("port") == port for p in rule["ports"])


def peer_in_namespace(peer, namespace, own_namespace):
    if "ipBlock" in peer:
        return False
    selector = peer.get("namespaceSelector")
    if selector is None:  # a podSelector alone: pods of the policy's own namespace
        return namespace == own_namespace
    return matches(selector, {"kubernetes.io/metadata.name": namespace})


def namespace_of(render):
    names = {d["metadata"].get("namespace") for d in render.docs} - {None}
    return names.pop() if len(names) == 1 else None


# ---- metrics --------------------------------------------------------------------------


def token_file_of_secret(container, pod, secret, key):
    """The path at which the container sees `key` of Secret `secret`, or None."""
    for volume in pod.get("volumes", []):
        if volume.get("secret", {}).get("secretName") != secret:
            continue
        items = volume["secret"].get("items")
        path = key if items is None else next((i["path"] for i in items if i["key"] == key), None)
        mount = next((m for m in container.get("volumeMounts", []) if m["name"] == volume["name"]),
                     None)
        if path and mount:
            return mount["mountPath"].rstrip("/") + "/" + path
    return None


def check_scrape_auth(render, monitor, endpoint, broker, config):
    if not config.get("metrics_auth"):
        return
    credentials = endpoint.get("authorization", {}).get("credentials") or \
        endpoint.get("bearerTokenSecret")
    if not credentials:
        render.bad(monitor, f"endpoint {endpoint.get('port')}: broker.yaml sets metrics_auth "
                   "but the scrape sends no token (authorization.credentials)")
        return
    pod = broker["spec"]["template"]["spec"]
    path = token_file_of_secret(main_container(broker), pod, credentials.get("name"),
                                credentials.get("key"))
    allowed = {t.get("token_file") for t in config.get("tokens", [])
               if t.get("metrics") or t.get("admin")}
    if path is None or path not in allowed:
        render.bad(monitor, f"endpoint {endpoint.get('port')}: the scrape's token (Secret "
                   f"{credentials.get('name')} key {credentials.get('key')}, seen by the broker "
                   f"at {path}) is not a token broker.yaml accepts for /metrics")


def check_endpoint(render, monitor, endpoint, services, brokers):
    name = endpoint.get("port")
    offered = [(s, p) for s in services for p in s["spec"].get("ports", [])
               if p.get("name") == name]
    if not offered:
        render.bad(monitor, f"endpoint port {name} is no port of the selected Services "
                   f"{sorted(s['metadata']['name'] for s in services)}")
        return
    for svc, port in offered:
        broker = next((b for b in brokers if selects(svc["spec"].get("selector", {}), b)), None)
        config = broker_config(render, broker) if broker else None
        if broker is None or config is None:
            render.bad(monitor, f"endpoint port {name}: Service {svc['metadata']['name']} "
                       "selects no broker with a mounted broker.yaml")
            continue
        want = port_of(config.get("metrics_listen"))
        target = port.get("targetPort", port["port"])
        ports = {p.get("name"): p["containerPort"] for p in main_container(broker).get("ports", [])}
        reached = ports.get(target) if isinstance(target, str) else target
        if want is None or reached != want:
            render.bad(monitor, f"endpoint port {name} reaches container port {reached}; "
                       f"broker.yaml serves metrics on {want}")
        if endpoint.get("path", "/metrics") != "/metrics":
            render.bad(monitor, f"endpoint port {name} scrapes {endpoint['path']}; the broker "
                       "serves /metrics")
        if endpoint.get("scheme", "http") != "http":
            render.bad(monitor, f"endpoint port {name}: scheme {endpoint['scheme']}, but "
                       "metrics_listen serves plain HTTP")
        check_scrape_auth(render, monitor, endpoint, broker, config)
        ingress = policies(render, broker, "Ingress")
        if ingress and not any(rule_allows_port(rule, want)
                               for p in ingress for rule in p["spec"].get("ingress", [])):
            render.bad(broker, f"no NetworkPolicy admits scrapes on the metrics port {want}")


def check_service_monitor(render, monitor, brokers):
    if monitor.get("apiVersion") != MONITORING_API:
        render.bad(monitor, f"apiVersion {monitor.get('apiVersion')}, expected {MONITORING_API}")
    spec = monitor.get("spec", {})
    for field in sorted(set(spec) - SERVICE_MONITOR_FIELDS):
        render.bad(monitor, f"unknown field spec.{field}")
    for endpoint in spec.get("endpoints", []):
        for field in sorted(set(endpoint) - ENDPOINT_FIELDS):
            render.bad(monitor, f"unknown field spec.endpoints[].{field}")
    namespaces = spec.get("namespaceSelector", {})
    own = namespace_of(render)
    if namespaces.get("any") or (namespaces.get("matchNames") and
                                 own not in namespaces["matchNames"]):
        render.bad(monitor, f"namespaceSelector {namespaces} looks beyond namespace {own}")
    selector = spec.get("selector", {})
    services = [s for s in render.of("Service")
                if selector and matches(selector, s["metadata"].get("labels", {}))]
    if not services:
        render.bad(monitor, f"selector {selector} selects no Service (by the Services' labels)")
        return
    if not spec.get("endpoints"):
        render.bad(monitor, "has no endpoints")
    for endpoint in spec.get("endpoints", []):
        check_endpoint(render, monitor, endpoint, services, brokers)


def check_metrics(render, brokers):
    monitors = render.of("ServiceMonitor")
    if render.name in OBSERVED_RENDERS and brokers and not monitors:
        for broker in brokers:
            render.bad(broker, "no ServiceMonitor scrapes its metrics")
    for monitor in monitors:
        check_service_monitor(render, monitor, brokers)


# ---- traces ---------------------------------------------------------------------------


def otlp_settings(render, workload):
    """(endpoint, protocol, service name, sampler, ratio) of the workload's main container."""
    env = pod_env(render, main_container(workload))
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or \
        env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf"
    return (endpoint, protocol, env.get("OTEL_SERVICE_NAME"), env.get("OTEL_TRACES_SAMPLER"),
            env.get("OTEL_TRACES_SAMPLER_ARG"))


def check_sampler(render, workload, sampler, ratio, required):
    if sampler is None:
        if required:
            render.bad(workload, "no OTEL_TRACES_SAMPLER: the library's default keeps every "
                       "trace (parentbased_always_on); set the sampler and its ratio")
        return
    if sampler not in SAMPLERS:
        render.bad(workload, f"OTEL_TRACES_SAMPLER {sampler} is none of {sorted(SAMPLERS)}")
    elif sampler.endswith("traceidratio"):
        try:
            value = float(ratio)
        except (TypeError, ValueError):
            value = None
        if value is None or not 0 < value <= 1:
            render.bad(workload, f"OTEL_TRACES_SAMPLER_ARG {ratio!r} is no ratio in (0, 1] for "
                       f"{sampler}")


def check_collector_reachable(render, workload, host, port):
    own = namespace_of(render)
    parts = host.split(".")
    namespace = parts[1] if len(parts) >= 2 else own
    egress = policies(render, workload, "Egress")
    if egress and not any(rule_allows_port(rule, port) and
                          (not rule.get("to") or
                           any(peer_in_namespace(peer, namespace, own) for peer in rule["to"]))
                          for p in egress for rule in p["spec"].get("egress", [])):
        render.bad(workload, f"no NetworkPolicy lets it reach the OTLP collector {host}:{port} "
                   f"(namespace {namespace})")


def check_traces(render, workloads):
    required = render.name in OBSERVED_RENDERS
    exporters = []                       # (workload, (endpoint, protocol, sampler, ratio))
    names = {c: {} for c in COMPONENTS}  # component -> service name -> workload
    for workload in workloads:
        endpoint, protocol, service, sampler, ratio = otlp_settings(render, workload)
        if not endpoint:
            if required:
                render.bad(workload, "no OTEL_EXPORTER_OTLP_ENDPOINT: its spans reach no collector")
            continue
        url = urllib.parse.urlsplit(endpoint)
        if protocol not in OTLP_PORTS:
            render.bad(workload, f"OTEL_EXPORTER_OTLP_PROTOCOL {protocol} is none of "
                       f"{sorted(OTLP_PORTS)}")
            continue
        if url.scheme not in ("http", "https") or not url.hostname:
            render.bad(workload, f"OTLP endpoint {endpoint} is no http(s)://host:port URL")
            continue
        port = url.port or (443 if url.scheme == "https" else 80)
        other = {p: n for n, p in OTLP_PORTS.items()}.get(port)
        if other and other != protocol:
            render.bad(workload, f"OTLP endpoint {endpoint} is the {other} port; "
                       f"the protocol is {protocol} (port {OTLP_PORTS[protocol]})")
        if not service:
            render.bad(workload, "exports traces without OTEL_SERVICE_NAME")
        else:
            names[component_of(workload)].setdefault(service, workload)
        check_sampler(render, workload, sampler, ratio, required)
        check_collector_reachable(render, workload, url.hostname, port)
        exporters.append((workload, (endpoint, protocol, sampler, ratio)))
    for workload, settings in exporters[1:]:
        first, expected = exporters[0]
        if settings != expected:
            render.bad(workload, f"traces go with {settings}, {first['metadata']['name']}'s with "
                       f"{expected}: one collector and sampler for the whole deployment")
    for service in sorted(set(names["broker"]) & set(names["agent"])):
        render.bad(names["agent"][service], f"brokers and agents share OTEL_SERVICE_NAME "
                   f"{service}: their spans would read as one service")


def check_observability(render):
    """Adds the render's monitoring and tracing problems to render.problems."""
    workloads = [w for w in render.docs if w["kind"] in ("Deployment", "StatefulSet")
                 and component_of(w) in COMPONENTS]
    brokers = [w for w in workloads if w["kind"] == "Deployment" and component_of(w) == "broker"]
    check_metrics(render, brokers)
    check_traces(render, workloads)


# ---- known breaks (check_manifests.py --self-test) -------------------------------------


def observed(renders):
    render = next((r for r in renders if r.name in OBSERVED_RENDERS), None)
    if render is None:
        raise LookupError(f"no render of {sorted(OBSERVED_RENDERS)}")
    return render


def monitor_of(renders):
    render = observed(renders)
    monitors = render.of("ServiceMonitor")
    if not monitors:
        raise LookupError("no ServiceMonitor")
    return render, monitors[0]


def agent_config(renders):
    render = observed(renders)
    for sts in render.of("StatefulSet"):
        if component_of(sts) == "agent":
            ref = main_container(sts)["envFrom"][0]["configMapRef"]["name"]
            return render, render.named("ConfigMap", ref)
    raise LookupError("no agent")


def broker_env(renders):
    render = observed(renders)
    broker = next(d for d in render.of("Deployment") if component_of(d) == "broker")
    return {e["name"]: e for e in main_container(broker).get("env", [])}


def break_no_monitor(renders):
    render, monitor = monitor_of(renders)
    render.docs.remove(monitor)


def break_selector(renders):
    _, monitor = monitor_of(renders)
    monitor["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/name": "latentbus-brokr"}


def break_port(renders):
    _, monitor = monitor_of(renders)
    monitor["spec"]["endpoints"][0]["port"] = "metric"


def break_target_port(renders):
    render, _ = monitor_of(renders)
    for port in render.named("Service", "latentbus-broker")["spec"]["ports"]:
        if port.get("name") == "metrics":
            port["targetPort"] = 7070


def break_no_token(renders):
    _, monitor = monitor_of(renders)
    del monitor["spec"]["endpoints"][0]["authorization"]


def break_wrong_token(renders):
    _, monitor = monitor_of(renders)
    monitor["spec"]["endpoints"][0]["authorization"]["credentials"]["key"] = "agents"


def break_unknown_field(renders):
    _, monitor = monitor_of(renders)
    endpoint = monitor["spec"]["endpoints"][0]
    endpoint["intervall"] = endpoint.pop("interval", "30s")


def break_no_endpoint(renders):
    _, config = agent_config(renders)
    del config["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"]


def break_ratio(renders):
    broker_env(renders)["OTEL_TRACES_SAMPLER_ARG"]["value"] = "1.5"


def break_collector_drift(renders):
    broker_env(renders)["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] = "http://otel.observability:4318"


def break_grpc_port(renders):
    broker_env(renders)["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] = \
        "http://otel-collector.observability:4317"


def break_service_name(renders):
    broker_env(renders)["OTEL_SERVICE_NAME"]["value"] = "latentbus-agent"


def break_egress(renders):
    render = observed(renders)
    render.docs = [d for d in render.docs
                   if not (d["kind"] == "NetworkPolicy" and
                           any(rule_allows_port(rule, 4318) and rule.get("ports")
                               for rule in d["spec"].get("egress", [])))]


def break_metrics_ingress(renders):
    render = observed(renders)
    for policy in render.of("NetworkPolicy"):
        policy["spec"]["ingress"] = [r for r in policy["spec"].get("ingress", [])
                                     if not any(p.get("port") == 9464 for p in r.get("ports", []))]


OBSERVABILITY_BREAKS = [
    ("no ServiceMonitor in prod", break_no_monitor, "no ServiceMonitor scrapes"),
    ("ServiceMonitor selects no Service", break_selector, "selects no Service"),
    ("ServiceMonitor names a missing port", break_port, "endpoint port metric is no port"),
    ("metrics Service port leads elsewhere", break_target_port, "reaches container port 7070"),
    ("scrape without the token", break_no_token, "sends no token"),
    ("scrape with a token not allowed on /metrics", break_wrong_token,
     "not a token broker.yaml accepts"),
    ("misspelled ServiceMonitor field", break_unknown_field, "unknown field spec.endpoints[].intervall"),
    ("agent without an OTLP endpoint", break_no_endpoint, "no OTEL_EXPORTER_OTLP_ENDPOINT"),
    ("sampler ratio above 1", break_ratio, "OTEL_TRACES_SAMPLER_ARG '1.5'"),
    ("broker and agents on different collectors", break_collector_drift,
     "one collector and sampler"),
    ("OTLP/HTTP sent to the gRPC port", break_grpc_port, "is the grpc port"),
    ("broker named as an agent", break_service_name, "share OTEL_SERVICE_NAME"),
    ("no egress to the collector", break_egress, "reach the OTLP collector"),
    ("metrics port closed to Prometheus", break_metrics_ingress, "admits scrapes"),
]
