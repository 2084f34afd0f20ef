"""Readiness of what the install Jobs act through: the identity service and the Keycloak realm.

A Helm post-install hook starts as soon as the release's objects exist (Helm 4 waits for
hooks only, by default), when the identity pods and Keycloak may still be starting. The
Jobs wait here first, for a bounded time, and say in their log what they are waiting for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

# A probe returns None when its target is ready, else why it is not (for the log).
Probe = Callable[[], str | None]


@dataclass(frozen=True)
class Dependency:
    name: str  # what the log calls it, e.g. "身份服务 kepu-identity:50051"
    probe: Probe


def identity_serving(target: str) -> Dependency:
    """The identity service answers the gRPC health protocol with SERVING."""

    def probe() -> str | None:
        try:
            with grpc.insecure_channel(target) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=3
                )
        except grpc.RpcError as exc:
            return f"gRPC {exc.code().name}"
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return None

    return Dependency(f"身份服务 {target}", probe)


def realm_answers(keycloak_url: str, realm: str) -> Dependency:
    """Keycloak serves the realm's discovery document (the realm import has finished)."""
    url = f"{keycloak_url.rstrip('/')}/realms/{realm}/.well-known/openid-configuration"

    def probe() -> str | None:
        try:
            r = httpx.get(url, timeout=5)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return None if r.status_code == 200 else f"HTTP {r.status_code}"

    return Dependency(f"Keycloak 域 {realm}（{url}）", probe)


def wait_until_ready(
    dependencies: list[Dependency],
    timeout_seconds: float,
    *,
    interval_seconds: float = 3.0,
    report_every_seconds: float = 30.0,
    log: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Wait for each dependency in turn, all within ``timeout_seconds``; False on timeout."""
    start = clock()
    deadline = start + timeout_seconds
    for dep in dependencies:
        log(f"等待{dep.name}就绪（最多 {timeout_seconds:.0f} 秒）……")
        began = last_report = clock()
        while (why := dep.probe()) is not None:
            now = clock()
            if now >= deadline:
                log(f"等待{dep.name}超时（{timeout_seconds:.0f} 秒）：{why}")
                return False
            if now - last_report >= report_every_seconds:
                log(f"仍在等待{dep.name}（已 {now - began:.0f} 秒）：{why}")
                last_report = now
            sleep(min(interval_seconds, max(deadline - now, 0)))
        log(f"{dep.name}已就绪（等待 {clock() - began:.0f} 秒）")
    return True
