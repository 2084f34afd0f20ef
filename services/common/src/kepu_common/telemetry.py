"""Structured JSON logs and OpenTelemetry.

Tracing is a no-op unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (a missing
collector must never crash a service). The W3C propagator is always installed,
so ``traceparent`` flows through HTTP, gRPC metadata and Kafka headers.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace


def _add_trace_ids(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    span = trace.get_current_span()
    ctx = span.get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def setup(service_name: str) -> None:
    """Configure logging and tracing for ``service_name`` once, at process start."""
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            _add_trace_ids,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        stream=sys.stderr,
        format='{"level":"%(levelname)s","service":"'
        + service_name
        + '","logger":"%(name)s","msg":%(message)r}',
    )
    # kafka-python 3 logs every failed connection attempt as an ERROR, several a second while
    # Kafka is down; relays and consumers say it once themselves (kepu_common.bus.BrokerWatch).
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
