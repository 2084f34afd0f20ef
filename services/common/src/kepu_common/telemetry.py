"""Telemetry of a process: JSON logs (``logs``), metrics (``metrics``) and OpenTelemetry traces.

:func:`setup` runs once at process start. Spans are always made (so logs carry trace ids
and responses a ``traceparent``) but recorded and exported only when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (OTLP/HTTP, port 4318; logs and metrics go there too):
a missing collector must never crash or slow a service, and without one a span is a
non-recording context that costs next to nothing (filling and dropping span attributes was
a tenth of a read's CPU). The W3C propagator is the default, so ``traceparent`` flows through
HTTP, gRPC metadata and Kafka headers.

A trace starts where work enters: an HTTP request or RPC served (SERVER), an event
published or consumed (PRODUCER, CONSUMER). A database query or call with no such parent
(a relay's poll, a scheduler's sweep) is not sampled, so the backend holds user actions,
not the idle loops between them.

What is instrumented: FastAPI (``kepu_gateway``, opentelemetry-instrumentation-fastapi),
gRPC clients and servers (:func:`server_interceptors`, :func:`instrument_channel`), SQLAlchemy
engines (:func:`instrument_engine`); the outbox relay and the consumers make the Kafka
PRODUCER and CONSUMER spans themselves (``messaging.*`` attributes; the kafka-python
instrumentation wraps only consumer iteration, and ours poll).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import grpc
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes
from sqlalchemy import Engine

from . import logs, metrics
from .tenancy import Principal

REQUEST_ID_KEY = "x-request-id"
# Span attributes of the caller (OpenTelemetry's ``user.id``; the tenant is ours).
TENANT_ID = "kepu.tenant.id"
TENANT_PATH = "kepu.tenant.path"
USER_ID = "user.id"
REQUEST_ID = "kepu.request.id"
HEALTH_SERVICE = "grpc.health.v1.Health"

_ENTRY_KINDS = (SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.PRODUCER)


class EntryPoints(Sampler):
    """Samples root spans where work enters (SERVER, CONSUMER, PRODUCER), drops other roots."""

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        decision = Decision.RECORD_AND_SAMPLE if kind in _ENTRY_KINDS else Decision.DROP
        return SamplingResult(decision, attributes if decision.is_sampled() else None)

    def get_description(self) -> str:
        return "EntryPoints"


class _Recorded(Sampler):
    """``inner``'s decision while ``provider`` has a span processor, else DROP: the span is
    then a non-recording context (its trace id still flows in ``traceparent`` and logs)."""

    def __init__(self, provider: _Provider, inner: Sampler) -> None:
        self.provider = provider
        self.inner = inner

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if not self.provider.exporting:
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"Recorded({self.inner.get_description()})"


class _Provider(TracerProvider):
    """A tracer provider that records spans only once a span processor listens (an
    exporter, or a test's in-memory one)."""

    def __init__(self, resource: Resource, sampler: Sampler) -> None:
        self.exporting = False
        super().__init__(resource=resource, sampler=_Recorded(self, sampler))

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        self.exporting = True


def setup(service: str, *, role: str = "", serve_metrics: bool = True) -> None:
    """Configure logs, traces and metrics for ``service`` once, at process start.

    ``role`` (serve, relay, worker, ...) becomes the resource attribute ``kepu.process``;
    ``serve_metrics`` starts the ``/metrics`` server on ``KEPU_METRICS_PORT`` (the gateway
    serves ``/metrics`` on its own port instead).
    """
    # The stable HTTP and database conventions: http.server.request.duration in seconds,
    # http.request.method, http.route, db.query.text...
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")
    logs.configure(service)
    attributes: dict[str, str] = {
        "service.name": os.environ.get("OTEL_SERVICE_NAME") or f"kepu-{service}",
        "service.namespace": "kepu",
    }
    if role:
        attributes["kepu.process"] = role
    resource = Resource.create(attributes)
    endpoint = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    provider = _Provider(resource, ParentBased(root=EntryPoints()))
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        _export_logs(resource)
    trace.set_tracer_provider(provider)
    metrics.setup(resource, otlp=endpoint)
    if serve_metrics:
        metrics.serve_prometheus()


def _export_logs(resource: Resource) -> None:
    """Log records over OTLP/HTTP too, beside the JSON lines on stderr."""
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(provider)
    handler = LoggingHandler(logger_provider=provider)
    # The exporter's own complaints (collector down) stay on stderr, never loop back into it.
    handler.addFilter(lambda record: not record.name.startswith("opentelemetry"))
    logs.also_to(handler)


def instrument_engine(engine: Engine) -> None:
    """Database spans for every statement ``engine`` runs, and its pool's connections by state.

    The pool's figures are read when metrics are collected (``metrics.watch_pool``) instead
    of being counted on every checkout and checkin as the SQLAlchemy instrumentation does:
    those listeners were an eighth of a unit of work's CPU.
    """
    from opentelemetry.instrumentation.sqlalchemy import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import NoOpUpDownCounter
    from sqlalchemy import event

    tracer = trace.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    traced = EngineTracer(tracer, engine, NoOpUpDownCounter("db.client.connections.usage"))
    for name, listener in (
        ("connect", traced._pool_connect),
        ("close", traced._pool_close),
        ("checkin", traced._pool_checkin),
        ("checkout", traced._pool_checkout),
    ):
        event.remove(engine, name, listener)
    metrics.watch_pool(engine, dict(traced._engine_attrs))


def bind_principal(principal: Principal) -> None:
    """The verified caller on the current span and on every log line of this request."""
    span = trace.get_current_span()
    span.set_attribute(TENANT_ID, principal.tenant_id)
    span.set_attribute(TENANT_PATH, principal.tenant_path)
    span.set_attribute(USER_ID, principal.subject)
    logs.bind(tenant_id=principal.tenant_id, user_id=principal.subject)


def _split(full_method: str) -> tuple[str, str]:
    service, _, method = full_method.lstrip("/").partition("/")
    return service, method


def _code(context: Any) -> int:
    try:
        code = context.code()
    except (AttributeError, RuntimeError):
        return grpc.StatusCode.UNKNOWN.value[0]
    return int(code.value[0]) if code is not None else 0


class _ObservedServer(grpc.ServerInterceptor):
    """Inside the server span: the request id and tenant on logs and span, and the RPC's
    duration by status in ``rpc.server.call.duration``."""

    def intercept_service(
        self, continuation: Callable[[Any], Any], handler_call_details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        service, method = _split(handler_call_details.method)
        if service == HEALTH_SERVICE:
            return handler
        metadata = dict(handler_call_details.invocation_metadata or ())
        request_id = str(metadata.get(REQUEST_ID_KEY, ""))[:64]
        inner = handler.unary_unary
        labels = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}

        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            start = time.perf_counter()
            failed = False
            if request_id:
                trace.get_current_span().set_attribute(REQUEST_ID, request_id)
            with logs.request_scope(request_id=request_id):
                try:
                    return inner(request, context)
                except BaseException:
                    failed = True
                    raise
                finally:
                    code = _code(context)
                    if failed and code == 0:
                        code = grpc.StatusCode.UNKNOWN.value[0]
                    metrics.rpc_server_duration.record(
                        time.perf_counter() - start, {**labels, "rpc.grpc.status_code": code}
                    )

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, str | bytes]] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _ObservedClient(grpc.UnaryUnaryClientInterceptor):
    """Forwards the request id bound in this context and times the call by status."""

    def intercept_unary_unary(
        self, continuation: Callable[[Any, Any], Any], client_call_details: Any, request: Any
    ) -> Any:
        service, method = _split(client_call_details.method)
        if service == HEALTH_SERVICE:
            return continuation(client_call_details, request)
        metadata = list(client_call_details.metadata or ())
        request_id = logs.bound("request_id")
        if request_id and all(k != REQUEST_ID_KEY for k, _ in metadata):
            metadata.append((REQUEST_ID_KEY, request_id))
        details = _CallDetails(
            client_call_details.method,
            client_call_details.timeout,
            metadata,
            client_call_details.credentials,
            getattr(client_call_details, "wait_for_ready", None),
            getattr(client_call_details, "compression", None),
        )
        labels = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
        start = time.perf_counter()
        outcome = continuation(details, request)

        def record(call: Any) -> None:
            metrics.rpc_client_duration.record(
                time.perf_counter() - start, {**labels, "rpc.grpc.status_code": _code(call)}
            )

        outcome.add_done_callback(record)
        return outcome


def server_interceptors() -> list[grpc.ServerInterceptor]:
    """The interceptors of every gRPC server: the OpenTelemetry SERVER span (health checks
    left out), then request id, tenant and duration inside it."""
    from opentelemetry.instrumentation.grpc import filters, server_interceptor

    return [server_interceptor(filter_=filters.negate(filters.health_check())), _ObservedServer()]


def instrument_channel(channel: grpc.Channel) -> grpc.Channel:
    """``channel`` with a CLIENT span per call (``traceparent`` injected) and call metrics."""
    from opentelemetry.instrumentation.grpc import client_interceptor, filters, grpcext

    traced = grpcext.intercept_channel(
        channel, client_interceptor(filter_=filters.negate(filters.health_check()))
    )
    return grpc.intercept_channel(traced, _ObservedClient())
