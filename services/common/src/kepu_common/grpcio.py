"""gRPC bootstrap: servers with health checking, clients with deadlines and token forwarding."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from .auth import TokenVerifier
from .errors import DomainError, Unauthenticated
from .tenancy import Principal

log = logging.getLogger(__name__)

T = TypeVar("T")


def make_server(
    port: int, *, host: str = "127.0.0.1", workers: int = 16
) -> tuple[grpc.Server, int]:
    """A gRPC server with the standard health service; returns it and the bound port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
        ],
    )
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    return server, bound


def bearer(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if (
            key == "authorization"
            and isinstance(value, str)
            and value.lower().startswith("bearer ")
        ):
            return value[7:]
    raise Unauthenticated("缺少访问令牌，请先登录。")


class Servicer:
    """Base of servicers: verifies the forwarded token and maps domain errors to status codes."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    def principal(self, context: grpc.ServicerContext) -> Principal:
        return self.verifier.principal(bearer(context))

    def call(self, context: grpc.ServicerContext, fn: Callable[[], T]) -> T:
        """Run ``fn``; abort the call with the mapped status on a domain error."""
        try:
            return fn()
        except DomainError as exc:
            context.abort(exc.grpc_status, exc.detail)
        raise AssertionError("unreachable")


def channel(target: str) -> grpc.Channel:
    return grpc.insecure_channel(
        target,
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
        ],
    )


def metadata(token: str, extra: dict[str, str] | None = None) -> list[tuple[str, str]]:
    md = [("authorization", f"Bearer {token}")]
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    md += list(carrier.items())
    if extra:
        md += list(extra.items())
    return md


@contextmanager
def serving(server: grpc.Server) -> Iterator[grpc.Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop(grace=2).wait()


def wait_ready(target: str, timeout: float = 30.0) -> None:
    ch = channel(target)
    grpc.channel_ready_future(ch).result(timeout=timeout)
    ch.close()
