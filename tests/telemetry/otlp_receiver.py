"""The collector side of OTLP/HTTP for tests: decodes what the processes export.

A small HTTP server on a free loopback port accepting ``POST /v1/traces``, ``/v1/metrics``
and ``/v1/logs`` (protobuf, optionally gzip), as an OpenTelemetry Collector's OTLP receiver
does; it keeps the spans, the metric names and the log records it received.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


@dataclass
class Received:
    spans: list[Span] = field(default_factory=list)
    metrics: dict[str, set[str]] = field(default_factory=dict)  # metric name -> services
    logs: list[tuple[str, str, str]] = field(default_factory=list)  # service, trace id, body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_traces(self, req: ExportTraceServiceRequest) -> None:
        found = []
        for rs in req.resource_spans:
            attrs = {a.key: _value(a.value) for a in rs.resource.attributes}
            service = str(attrs.get("service.name", ""))
            for ss in rs.scope_spans:
                for s in ss.spans:
                    found.append(
                        Span(
                            service=service,
                            name=s.name,
                            kind=KINDS.get(s.kind, "UNSPECIFIED"),
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_id=s.parent_span_id.hex(),
                            attributes={a.key: _value(a.value) for a in s.attributes},
                        )
                    )
        with self.lock:
            self.spans += found

    def add_metrics(self, req: ExportMetricsServiceRequest) -> None:
        with self.lock:
            for rm in req.resource_metrics:
                attrs = {a.key: _value(a.value) for a in rm.resource.attributes}
                service = str(attrs.get("service.name", ""))
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        self.metrics.setdefault(m.name, set()).add(service)

    def add_logs(self, req: ExportLogsServiceRequest) -> None:
        with self.lock:
            for rl in req.resource_logs:
                attrs = {a.key: _value(a.value) for a in rl.resource.attributes}
                service = str(attrs.get("service.name", ""))
                for sl in rl.scope_logs:
                    for r in sl.log_records:
                        self.logs.append((service, r.trace_id.hex(), str(_value(r.body))))

    def trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]


class Receiver:
    """``with Receiver() as r``: listening on ``r.endpoint`` (OTEL_EXPORTER_OTLP_ENDPOINT)."""

    def __init__(self) -> None:
        self.received = Received()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                reply: Any
                if self.path == "/v1/traces":
                    req_t = ExportTraceServiceRequest()
                    req_t.ParseFromString(body)
                    received.add_traces(req_t)
                    reply = ExportTraceServiceResponse()
                elif self.path == "/v1/metrics":
                    req_m = ExportMetricsServiceRequest()
                    req_m.ParseFromString(body)
                    received.add_metrics(req_m)
                    reply = ExportMetricsServiceResponse()
                elif self.path == "/v1/logs":
                    req_l = ExportLogsServiceRequest()
                    req_l.ParseFromString(body)
                    received.add_logs(req_l)
                    reply = ExportLogsServiceResponse()
                else:
                    self.send_error(404)
                    return
                data = reply.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
