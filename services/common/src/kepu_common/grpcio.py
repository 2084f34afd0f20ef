"""gRPC bootstrap: servers with health checking, clients with deadlines and token forwarding."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from sqlalchemy.orm import Session

from . import telemetry
from .auth import TokenVerifier
from .consent import require_staff
from .db import Database, Scope
from .errors import DomainError, FieldViolation, Unauthenticated
from .tenancy import Principal
from .transient import is_transient

log = logging.getLogger(__name__)
T = TypeVar("T")


def bind_host() -> str:
    """Where servers listen: loopback locally, ``KEPU_BIND_HOST=0.0.0.0`` in a pod."""
    return os.environ.get("KEPU_BIND_HOST", "127.0.0.1")


def make_server(
    port: int, *, host: str | None = None, workers: int = 16
) -> tuple[grpc.Server, int]:
    """A gRPC server with health checking, traces and RPC metrics; returns it and the bound port."""
    host = host or bind_host()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        interceptors=telemetry.server_interceptors(),
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            # Two processes must never share a port silently (a stale server and its
            # restart, or two services after the launcher's port picking).
            ("grpc.so_reuseport", 0),
        ],
    )
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    # Liveness asks for this service name: SERVING as long as the process answers at all, so a
    # database outage takes pods out of rotation (readiness, "") without restarting them.
    health_servicer.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
    HEALTH.append(health_servicer)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as exc:  # grpc says only "Failed to bind"; say why, and stop
        HEALTH.remove(health_servicer)
        raise PortInUse(
            f"无法监听 {host}:{port}：端口已被别的进程占用（服务不与其他进程共用端口）。"
            f" Cannot bind {host}:{port}: the port is taken and SO_REUSEPORT is off."
        ) from exc
    return server, bound


class PortInUse(RuntimeError):
    """Another process listens on the port a server was told to use (no SO_REUSEPORT sharing)."""


# The health servicers of this process's servers: ``kepu_common.health`` turns them NOT_SERVING
# while the database is unreachable.
HEALTH: list[health.HealthServicer] = []
LIVENESS_SERVICE = "liveness"


def set_serving(serving: bool) -> None:
    """The overall health status ("") of every server of this process."""
    status = (
        health_pb2.HealthCheckResponse.SERVING
        if serving
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
    for servicer in HEALTH:
        servicer.set("", status)


CLIENT_IP_KEY = "x-client-ip"
UNAVAILABLE_DETAIL = "服务暂时不可用（数据库或消息服务连接中断），请稍后再试。"


def client_ip(context: grpc.ServicerContext) -> str:
    """The caller's source address as forwarded by the gateway, or ''."""
    for key, value in context.invocation_metadata():
        if key == CLIENT_IP_KEY and isinstance(value, str):
            return value[:64]
    return ""


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
        """The verified caller, with the source address the gateway forwarded (``x-client-ip``)."""
        principal = self.verifier.principal(bearer(context))
        telemetry.bind_principal(principal)
        ip = client_ip(context)
        return dataclasses.replace(principal, client_ip=ip) if ip else principal

    def call(self, context: grpc.ServicerContext, fn: Callable[[], T]) -> T:
        """Run ``fn``; abort the call with the mapped status on a domain error, and with
        ``UNAVAILABLE`` (the gateway's 503) when the database or the broker cannot be reached."""
        try:
            return fn()
        except DomainError as exc:
            abort(context, exc)
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("unavailable: %s", exc)
            context.abort(grpc.StatusCode.UNAVAILABLE, UNAVAILABLE_DETAIL)
        raise AssertionError("unreachable")

    def in_tenant(
        self,
        context: grpc.ServicerContext,
        db: Database,
        fn: Callable[[Session, Principal], T],
        *,
        staff: bool = False,
    ) -> T:
        """One call, one unit of work: verify the caller (association staff only when
        ``staff``: a partner's token opens only the partner API), open a transaction in the
        caller's tenant scope, run ``fn``, commit; errors map as in ``call``. The edge owns
        the transaction, so use cases only add and flush."""

        def work() -> T:
            p = self.principal(context)
            if staff:
                require_staff(p)
            with db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
                return fn(s, p)

        return self.call(context, work)


def abort(context: grpc.ServicerContext, exc: DomainError) -> None:
    """End the call with the error's status and Chinese detail; the fields at fault, if any,
    ride along as ``google.rpc.BadRequest.field_violations`` (read back by ``field_violations``)."""
    if not exc.violations:
        context.abort(exc.grpc_status, exc.detail)
    bad = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.message)
            for v in exc.violations
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad)
    status = status_pb2.Status(code=exc.grpc_status.value[0], message=exc.detail, details=[detail])
    context.abort_with_status(rpc_status.to_status(status))


def field_violations(err: grpc.RpcError) -> list[FieldViolation]:
    """The ``BadRequest.field_violations`` a failed call carries (``abort``'s), else ``[]``."""
    try:
        status = rpc_status.from_call(err)
    except (ValueError, AttributeError, TypeError):
        return []
    found: list[FieldViolation] = []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found += [FieldViolation(v.field, v.description) for v in bad.field_violations]
    return found


def channel(target: str) -> grpc.Channel:
    """A channel to ``target`` whose calls make CLIENT spans and carry the request id."""
    return telemetry.instrument_channel(
        grpc.insecure_channel(
            target,
            options=[
                ("grpc.max_receive_message_length", 64 * 1024 * 1024),
                ("grpc.max_send_message_length", 64 * 1024 * 1024),
                # A restarted service is reachable again within about a second (the default
                # backoff grows to 120 s: 503s for 5-11 s after a restart were measured).
                ("grpc.initial_reconnect_backoff_ms", 200),
                ("grpc.min_reconnect_backoff_ms", 200),
                ("grpc.max_reconnect_backoff_ms", 1000),
            ],
        )
    )


def auth_metadata(token: str, extra: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The caller's bearer token (and ``extra``) as call metadata, without trace context (for
    a client that injects its own span's, as the gateway's ``grpc_clients`` does)."""
    md = [("authorization", f"Bearer {token}")]
    if extra:
        md += list(extra.items())
    return md


def metadata(token: str, extra: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """:func:`auth_metadata` plus the current trace context."""
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return auth_metadata(token, extra) + list(carrier.items())


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
