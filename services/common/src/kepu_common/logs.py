"""Structured logs: one JSON object a line on stderr, from structlog and stdlib logging alike.

Every line carries ``timestamp``, ``level``, ``logger``, ``event``, ``service`` and, when
known, ``trace_id``/``span_id`` (the active span), ``request_id``, ``tenant_id`` and
``user_id`` (bound for the current request or RPC with :func:`bind`). ``LOG_FORMAT=console``
renders the same events for a person at a terminal; ``json`` is the default.

Library loggers (uvicorn, alembic, kafka-python, grpc) go through the same handler, so a
process never prints a line that is not JSON; uncaught exceptions too (main and threads).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import structlog
from opentelemetry import trace

# Request-scoped fields bound by the edge (gateway middleware, gRPC interceptor, consumer).
CONTEXT_KEYS = ("request_id", "tenant_id", "user_id")
_formatter: logging.Formatter | None = None


def _add_trace_ids(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def _service(name: str) -> structlog.types.Processor:
    def add(
        _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", name)
        return event_dict

    return add


def configure(service: str, *, level: str | None = None, fmt: str | None = None) -> None:
    """Route structlog and stdlib logging to one stderr handler rendering ``fmt``.

    ``level`` defaults to ``LOG_LEVEL`` (INFO) and ``fmt`` to ``LOG_FORMAT`` (json).
    """
    level_no = getattr(logging, (level or os.environ.get("LOG_LEVEL", "INFO")).upper(), 20)
    console = (fmt or os.environ.get("LOG_FORMAT", "json")).lower() == "console"
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _add_trace_ids,
        _service(service),
    ]
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if console
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    final: list[structlog.types.Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta
    ]
    if not console:
        final.append(structlog.processors.format_exc_info)
    final.append(renderer)
    global _formatter
    _formatter = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=final)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level_no)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic"):
        lib = logging.getLogger(name)
        lib.handlers = []
        lib.propagate = True
    # kafka-python 3 logs every failed connection attempt as an ERROR, several a second while
    # Kafka is down; relays and consumers say it once themselves (kepu_common.bus.BrokerWatch).
    # KAFKA_LOG_LEVEL=DEBUG shows the client's own account (group joins, metadata) when needed.
    logging.getLogger("kafka").setLevel(os.environ.get("KAFKA_LOG_LEVEL", "CRITICAL").upper())
    logging.captureWarnings(True)
    _log_uncaught()


def also_to(handler: logging.Handler) -> None:
    """Send every log line to ``handler`` too, rendered as on stderr (the OTLP log export:
    its records carry the line as body and the active span's ids)."""
    if _formatter is not None:
        handler.setFormatter(_formatter)
    logging.getLogger().addHandler(handler)


def _log_uncaught() -> None:
    """Uncaught exceptions become one JSON error line instead of a bare traceback."""
    crash = logging.getLogger("kepu.crash")

    def main_hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        crash.critical("uncaught exception", exc_info=(kind, exc, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        crash.critical(
            "uncaught exception in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = main_hook
    threading.excepthook = thread_hook


def bind(**fields: str) -> None:
    """Bind request-scoped fields (empty values are skipped) to every log line that follows
    in this context (a request, an RPC, one consumed event)."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v})


def bound(key: str) -> str:
    """The value of a field bound in this context, or ''."""
    return str(structlog.contextvars.get_contextvars().get(key, ""))


@contextmanager
def request_scope(**fields: str) -> Iterator[None]:
    """Bind ``fields`` for one request, RPC or event; whatever the block binds besides (the
    tenant once the token is verified) is dropped at its end too, so a pooled thread never
    carries one caller's ids into the next call."""
    saved = structlog.contextvars.get_contextvars()
    bind(**fields)
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**saved)


def get(name: str) -> Any:
    """A structlog logger named ``name`` (key-value events: ``log.info("x", n=1)``)."""
    return structlog.get_logger(name)
