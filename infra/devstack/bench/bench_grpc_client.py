"""The gateway's gRPC client cost per call (issue 16), its variants side by side.

A sync gRPC server like the services' (thread pool of 16) runs in a process of its own and
echoes a GetMyTenant-sized message; this process calls it from 16 concurrent coroutines with the
gateway's metadata (token, client address) inside a SERVER span, for ``--seconds`` per variant,
the variants alternating round after round. Printed: requests a second (noisy on a shared
machine) and this process's CPU milliseconds per call (what the gateway worker spends), with
the load average; medians at the end.

    uv run python infra/devstack/bench/bench_grpc_client.py [--rounds 3] [--seconds 4] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent import futures
from typing import Any

import anyio.to_thread
import grpc
import grpc.aio
from kepu_common import logs, metrics, telemetry
from kepu_common.grpcio import channel as sync_channel
from kepu_common.grpcio import metadata
from kepu_gateway import grpc_clients
from opentelemetry import trace

METHOD = "/kepu.bench.Echo/Echo"
PAYLOAD = b"x" * 300
CONCURRENCY = 16
KEEPALIVE = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]


def serve() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    echo = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("kepu.bench.Echo", {"Echo": echo}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


def _md() -> list[tuple[str, str]]:
    return metadata("t" * 900, {"x-client-ip": "127.0.0.1"})


async def _drive(calls: list[Callable[..., Awaitable[Any]]], seconds: float) -> tuple[float, float]:
    """(requests a second, CPU ms per call) of CONCURRENCY coroutines calling round robin."""
    for c in calls:
        await c(PAYLOAD, timeout=5)
    done = 0
    stop = time.monotonic() + seconds

    async def worker(i: int) -> None:
        nonlocal done
        while time.monotonic() < stop:
            await calls[(i + done) % len(calls)](PAYLOAD, timeout=5, metadata=_md())
            done += 1

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
    return done / (time.monotonic() - wall), (time.process_time() - cpu) * 1000 / done


async def sync_in_threads(address: str, seconds: float) -> tuple[float, float]:
    """Before issue 16: a sync route's thread-pool hop around a blocking call."""
    ch = sync_channel(address)
    method = ch.unary_unary(METHOD)

    async def one(request: bytes, **kw: Any) -> Any:
        return await anyio.to_thread.run_sync(lambda: method(request, **kw))

    try:
        return await _drive([one], seconds)
    finally:
        ch.close()


def aio(
    channels: int = 1, traced: bool = True, options: list[tuple[str, Any]] | None = None
) -> Callable[[str, float], Awaitable[tuple[float, float]]]:
    async def run(address: str, seconds: float) -> tuple[float, float]:
        opts = grpc_clients.CHANNEL_OPTIONS + (options or [])
        if channels > 1:  # otherwise channels with equal options share one connection
            opts = [*opts, ("grpc.use_local_subchannel_pool", 1)]
        made = [grpc.aio.insecure_channel(address, options=opts) for _ in range(channels)]
        wrapped: list[Any] = [grpc_clients._TracedChannel(c) if traced else c for c in made]
        try:
            return await _drive([c.unary_unary(METHOD) for c in wrapped], seconds)
        finally:
            await asyncio.gather(*(c.close() for c in made))

    return run


class _RequestIdAndMetric(grpc.aio.UnaryUnaryClientInterceptor):
    """The request id and ``rpc.client.call.duration`` as an aio interceptor (commit 1c15d33)."""

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        service, _, name = method.lstrip("/").partition("/")
        md = grpc.aio.Metadata(*tuple(details.metadata or ()))
        if (request_id := logs.bound("request_id")) and "x-request-id" not in md:
            md.add("x-request-id", request_id)
        details = grpc.aio.ClientCallDetails(
            details.method, details.timeout, md, details.credentials, details.wait_for_ready
        )
        start = time.perf_counter()
        rpc = await continuation(details, request)
        code = await rpc.code()
        labels = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
        metrics.rpc_client_duration.record(
            time.perf_counter() - start, {**labels, "rpc.grpc.status_code": code.value[0]}
        )
        return rpc


def aio_interceptors(
    observed: bool,
) -> Callable[[str, float], Awaitable[tuple[float, float]]]:
    """OpenTelemetry's aio client interceptors (spans), with ``observed`` also the request id
    and the call metric as a second interceptor: the same work as the adopted channel."""

    async def run(address: str, seconds: float) -> tuple[float, float]:
        from opentelemetry.instrumentation.grpc import aio_client_interceptors

        chain = [*aio_client_interceptors(), *([_RequestIdAndMetric()] if observed else [])]
        ch = grpc.aio.insecure_channel(
            address, options=grpc_clients.CHANNEL_OPTIONS, interceptors=chain
        )
        try:
            return await _drive([ch.unary_unary(METHOD)], seconds)
        finally:
            await ch.close()

    return run


VARIANTS: dict[str, Callable[[str, float], Awaitable[tuple[float, float]]]] = {
    "sync stub + thread-pool hop (before)": sync_in_threads,
    "aio + OpenTelemetry aio interceptors + request-id/metric interceptor": aio_interceptors(True),
    "aio + OpenTelemetry aio interceptors (spans only)": aio_interceptors(False),
    "aio, traced in the call (adopted), 1 channel": aio(),
    "aio, traced in the call, 2 channels": aio(channels=2),
    "aio, traced in the call, 4 channels": aio(channels=4),
    "aio, traced in the call, 1 channel + keepalive": aio(options=KEEPALIVE),
    "aio, untraced (floor)": aio(traced=False),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop, as uvicorn does")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve()
        return
    telemetry.setup("gateway", role="bench", serve_metrics=False)
    tracer = trace.get_tracer("bench")
    runner: Callable[[Any], Any] = asyncio.run
    if args.uvloop:
        import uvloop

        runner = uvloop.run
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    address = f"127.0.0.1:{server.stdout.readline().strip()}"
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
    try:
        for r in range(args.rounds):
            for name, variant in VARIANTS.items():

                async def request(variant: Any = variant) -> tuple[float, float]:
                    with tracer.start_as_current_span("GET", kind=trace.SpanKind.SERVER):
                        return await variant(address, args.seconds)

                rps, cpu = runner(request())
                figures[name].append((rps, cpu))
                print(
                    f"round {r} {name}: {rps:.0f} req/s, {cpu:.2f} ms CPU per call,"
                    f" load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    finally:
        server.kill()
    print("\nmedians:")
    for name, runs in figures.items():
        print(
            f"{name}: {statistics.median(c for _, c in runs):.2f} ms CPU per call,"
            f" {statistics.median(r for r, _ in runs):.0f} req/s"
        )


if __name__ == "__main__":
    main()
