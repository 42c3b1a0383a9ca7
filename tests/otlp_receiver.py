#!/usr/bin/env python3
"""An OTLP trace receiver built from the official OTLP protobuf definitions (the
`opentelemetry-proto` package): it accepts OTLP/HTTP (POST /v1/traces, binary protobuf)
and OTLP/gRPC (opentelemetry.proto.collector.trace.v1.TraceService/Export), and keeps
every span it got as a flat JSON object (ids in lowercase hex, attributes by key, the
resource's attributes, the transport it came over). Used by tests/tracing_e2e_test.py;
runnable on its own to look at what latentbus sends:

  build/venv-otlp/bin/python tests/otlp_receiver.py --http-port 4318 --grpc-port 4317 --out spans.jsonl

Needs the venv of scripts/otlp-receiver-venv.sh (opentelemetry-proto, grpcio, pinned)."""
import argparse
import http.server
import json
import sys
import threading
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as ts_grpc

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def _value(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind)


def flatten(request, transport):
    """The spans of one ExportTraceServiceRequest as JSON-able dicts."""
    out = []
    for rs in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append({
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(),
                    "flags": s.flags,
                    "name": s.name,
                    "kind": KINDS.get(s.kind, str(s.kind)),
                    "start_ns": s.start_time_unix_nano,
                    "end_ns": s.end_time_unix_nano,
                    "attributes": {kv.key: _value(kv.value) for kv in s.attributes},
                    "status": {"code": s.status.code, "message": s.status.message},
                    "scope": ss.scope.name,
                    "resource": resource,
                    "transport": transport,
                })
    return out


class OtlpReceiver:
    """Both transports on loopback (port 0: any free one); spans() is what arrived."""

    def __init__(self, http_port=0, grpc_port=0, out_path=None):
        self._lock = threading.Lock()
        self._spans = []
        self._requests = 0
        self._out = open(out_path, "a", encoding="utf-8") if out_path else None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                if self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_error(415, "expected application/x-protobuf")
                    return
                request = ts.ExportTraceServiceRequest()
                try:
                    request.ParseFromString(body)
                except Exception as e:  # a body that is not OTLP: refused, as a collector would
                    self.send_error(400, str(e))
                    return
                receiver._add(flatten(request, "http/protobuf"))
                reply = ts.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", http_port), Handler)
        self.http_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

        class Service(ts_grpc.TraceServiceServicer):
            def Export(self, request, context):  # noqa: N802 (the generated API)
                receiver._add(flatten(request, "grpc"))
                return ts.ExportTraceServiceResponse()

        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        ts_grpc.add_TraceServiceServicer_to_server(Service(), self._grpc)
        self.grpc_port = self._grpc.add_insecure_port(f"127.0.0.1:{grpc_port}")
        self._grpc.start()

    def _add(self, spans):
        with self._lock:
            self._spans.extend(spans)
            self._requests += 1
            if self._out:
                for s in spans:
                    self._out.write(json.dumps(s) + "\n")
                self._out.flush()

    def spans(self):
        with self._lock:
            return list(self._spans)

    def requests(self):
        with self._lock:
            return self._requests

    def stop(self):
        self._http.shutdown()
        self._grpc.stop(grace=None)
        if self._out:
            self._out.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--http-port", type=int, default=4318)
    p.add_argument("--grpc-port", type=int, default=4317)
    p.add_argument("--out", default="-", help="JSON lines file ('-': stdout)")
    a = p.parse_args()
    r = OtlpReceiver(a.http_port, a.grpc_port, None if a.out == "-" else a.out)
    print(f"OTLP/HTTP on 127.0.0.1:{r.http_port}, OTLP/gRPC on 127.0.0.1:{r.grpc_port}",
          file=sys.stderr)
    seen = 0
    try:
        while True:
            threading.Event().wait(0.5)
            spans = r.spans()
            if a.out == "-":
                for s in spans[seen:]:
                    print(json.dumps(s), flush=True)
            seen = len(spans)
    except KeyboardInterrupt:
        r.stop()


if __name__ == "__main__":
    main()
