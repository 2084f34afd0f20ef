"""gRPC stubs towards the services on ``grpc.aio``, with deadlines and the caller's token forwarded.

A ``grpc.aio`` channel belongs to the event loop it was made in, so channels are made on first
use inside the running loop (each uvicorn worker process makes its own after it has started,
never before a fork) and kept per loop; the app's lifespan closes those of its loop
(:func:`aclose`). Every call makes the CLIENT span the services' sync channels make
(``kepu_common.grpcio.channel``, OpenTelemetry's gRPC instrumentation: same tracer, name,
``rpc.*`` attributes and status; ``traceparent`` injected), forwards the request id and is timed
in ``rpc.client.call.duration``.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc
import grpc.aio
from kepu_common import logs, metrics
from kepu_common.grpcio import CLIENT_IP_KEY, auth_metadata
from kepu_common.telemetry import REQUEST_ID_KEY
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.grpc.version import __version__ as _otel_grpc_version
from opentelemetry.trace import SpanKind, Status, StatusCode

from .deps import Caller
from .problems import from_grpc

T = TypeVar("T")
# The tracer of opentelemetry-instrumentation-grpc: the spans read as that library's.
_tracer = trace.get_tracer(
    "opentelemetry.instrumentation.grpc",
    _otel_grpc_version,
    schema_url="https://opentelemetry.io/schemas/1.11.0",
)

# Measured side by side in docs/benchmarks.md (issue 16): one channel per service and loop.
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # A restarted service is reachable again within about a second (the default backoff grows
    # to 120 s: 503s for 5-11 s after a restart were measured).
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


class _Clients:
    """The channels and stubs of one event loop."""

    def __init__(self) -> None:
        self.channels: dict[str, _TracedChannel] = {}
        self.stubs: dict[tuple[str, Any], Any] = {}


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Clients] = weakref.WeakKeyDictionary()


def target(service: str) -> str:
    return os.environ.get(f"{service.upper()}_GRPC_TARGET", "127.0.0.1:50051")


def stub(service: str, stub_cls: Callable[[Any], T]) -> T:
    """The ``stub_cls`` on this loop's channel to ``service`` (made on first use)."""
    loop = asyncio.get_running_loop()
    clients = _loops.get(loop)
    if clients is None:
        clients = _loops[loop] = _Clients()
    key = (service, stub_cls)
    found = clients.stubs.get(key)
    if found is None:
        ch = clients.channels.get(service)
        if ch is None:
            ch = clients.channels[service] = channel(target(service))
        found = clients.stubs[key] = stub_cls(ch)
    return found


def channel(address: str) -> _TracedChannel:
    """An aio channel to ``address`` whose calls make CLIENT spans and carry the request id."""
    return _TracedChannel(grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS))


async def call(
    method: Callable[..., Awaitable[T]], request: Any, caller: Caller, timeout: float = 5.0
) -> T:
    """Await ``method`` with a deadline, forwarding the caller's token and address; gRPC errors
    become problems."""
    extra = {CLIENT_IP_KEY: caller.client_ip} if caller.client_ip else None
    try:
        return await method(request, timeout=timeout, metadata=auth_metadata(caller.token, extra))
    except grpc.RpcError as err:  # grpc.aio.AioRpcError
        raise from_grpc(err) from None


async def aclose() -> None:
    """Close the channels of the running loop (the app's shutdown)."""
    clients = _loops.pop(asyncio.get_running_loop(), None)
    if clients is not None:
        await asyncio.gather(*(ch.close() for ch in clients.channels.values()))


def close_all() -> None:
    """Forget every loop's channels (tests pointing the gateway at another server); a channel
    still referenced elsewhere is closed when it is collected."""
    _loops.clear()


class _TracedChannel:
    """A channel whose unary methods are :class:`_Traced`: stubs built on it trace every call.

    Not grpc.aio's interceptors: with OpenTelemetry's aio interceptors and a request-id one a
    call cost twice the client CPU of a bare one (docs/benchmarks.md, issue 16); this makes the
    same CLIENT span (name, kind, ``rpc.*`` attributes, status) in the caller's own coroutine.
    """

    def __init__(self, inner: grpc.aio.Channel) -> None:
        self.inner = inner

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> _Traced:
        return _Traced(method, self.inner.unary_unary(method, *args, **kwargs))

    async def close(self, grace: float | None = None) -> None:
        await self.inner.close(grace)


class _Traced:
    """One unary method: a CLIENT span around the call (``traceparent`` injected), the request
    id forwarded, the duration recorded by status in ``rpc.client.call.duration``."""

    def __init__(self, method: str, inner: Any) -> None:
        self.method = method
        self.inner = inner
        service, _, name = method.lstrip("/").partition("/")
        self.labels = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}

    async def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> Any:
        code = grpc.StatusCode.OK
        start = time.perf_counter()
        with _tracer.start_as_current_span(
            self.method,
            kind=SpanKind.CLIENT,
            attributes={**self.labels, "rpc.grpc.status_code": 0},
        ) as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)  # this span's traceparent, not the caller's
            md = [(k, v) for k, v in metadata if k not in carrier] + list(carrier.items())
            request_id = logs.bound("request_id")
            if request_id and all(k != REQUEST_ID_KEY for k, _ in md):
                md.append((REQUEST_ID_KEY, request_id))
            try:
                return await self.inner(request, timeout=timeout, metadata=md)
            except grpc.aio.AioRpcError as err:
                code = err.code()
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                span.set_status(Status(StatusCode.ERROR, err.details()))
                raise
            except asyncio.CancelledError:  # the browser went away: the call is cancelled
                code = grpc.StatusCode.CANCELLED
                raise
            finally:
                metrics.rpc_client_duration.record(
                    time.perf_counter() - start,
                    {**self.labels, "rpc.grpc.status_code": int(code.value[0])},
                )
