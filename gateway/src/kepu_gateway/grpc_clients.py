"""gRPC stubs towards the services on ``grpc.aio``, with deadlines and the caller's token forwarded.

A ``grpc.aio`` channel belongs to the event loop it was made in, so channels are made on first
use inside the running loop (each uvicorn worker process makes its own after it has started,
never before a fork) and kept per loop; the app's lifespan closes those of its loop
(:func:`aclose`). Calls make the same CLIENT spans as the services' sync channels
(``kepu_common.grpcio.channel``: OpenTelemetry's interceptors, here their aio form, inject
``traceparent``), forward the request id and are timed in ``rpc.client.call.duration``.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import grpc.aio
from kepu_common import logs, metrics
from kepu_common.grpcio import CLIENT_IP_KEY, metadata
from kepu_common.telemetry import HEALTH_SERVICE, REQUEST_ID_KEY

from .deps import Caller
from .problems import from_grpc

T = TypeVar("T")

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
        self.channels: dict[str, grpc.aio.Channel] = {}
        self.stubs: dict[tuple[str, Any], Any] = {}


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Clients] = weakref.WeakKeyDictionary()


def target(service: str) -> str:
    return os.environ.get(f"{service.upper()}_GRPC_TARGET", "127.0.0.1:50051")


def stub(service: str, stub_cls: Callable[[grpc.aio.Channel], T]) -> T:
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


def channel(address: str) -> grpc.aio.Channel:
    """An aio channel to ``address`` whose calls make CLIENT spans and carry the request id."""
    from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters

    traced = aio_client_interceptors(filter_=filters.negate(filters.health_check()))
    return grpc.aio.insecure_channel(
        address, options=CHANNEL_OPTIONS, interceptors=[*traced, _Observed()]
    )


async def call(
    method: Callable[..., Awaitable[T]], request: Any, caller: Caller, timeout: float = 5.0
) -> T:
    """Await ``method`` with a deadline, forwarding the caller's token and address; gRPC errors
    become problems."""
    extra = {CLIENT_IP_KEY: caller.client_ip} if caller.client_ip else None
    try:
        return await method(request, timeout=timeout, metadata=metadata(caller.token, extra))
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


class _Observed(grpc.aio.UnaryUnaryClientInterceptor):
    """Forwards the request id bound in this context and times the call by status."""

    async def intercept_unary_unary(
        self, continuation: Callable[[Any, Any], Any], details: Any, request: Any
    ) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        service, _, name = method.lstrip("/").partition("/")
        if service == HEALTH_SERVICE:
            return await continuation(details, request)
        md = grpc.aio.Metadata(*tuple(details.metadata or ()))
        request_id = logs.bound("request_id")
        if request_id and REQUEST_ID_KEY not in md:
            md.add(REQUEST_ID_KEY, request_id)
        details = grpc.aio.ClientCallDetails(
            details.method, details.timeout, md, details.credentials, details.wait_for_ready
        )
        start = time.perf_counter()
        rpc = await continuation(details, request)
        code = await rpc.code()  # once the call has ended
        metrics.rpc_client_duration.record(
            time.perf_counter() - start,
            {
                "rpc.system": "grpc",
                "rpc.service": service,
                "rpc.method": name,
                "rpc.grpc.status_code": int(code.value[0]),
            },
        )
        return rpc
