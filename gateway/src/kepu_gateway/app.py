"""The gateway application: the only public entry (REST, /auth proxy, the portal's files)."""

from __future__ import annotations

import http.cookiejar
import importlib
import os
import pkgutil
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from kepu_common import logs, telemetry
from kepu_common.auth import TokenVerifier
from kepu_common.errors import Unauthenticated
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST

from . import deps, guards, problems, proxy, ratelimit, routers, routes, scrape, spa
from .grpc_clients import aclose
from .problems import Problem, problem_response
from .ratelimit import RateLimiter
from .settings import GatewaySettings

access_log = logs.get("kepu.gateway.access")
# Probes and scrapes: no span, no access line (they come every few seconds).
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _include_routers(app: FastAPI) -> None:
    for mod in sorted(pkgutil.iter_modules(routers.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routers.__name__}.{mod.name}")
        if hasattr(module, "router"):
            app.include_router(module.router)


class EdgeMiddleware:
    """Pure ASGI edge: request id, W3C trace context, body-size and rate limits."""

    def __init__(self, app: Any, *, settings: GatewaySettings, limiter: RateLimiter) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter
        self.trusted_proxies = guards.parse_networks(settings.trusted_proxies)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        rid = headers.get("x-request-id", "")[:64] or secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = rid
        # The SERVER span of the FastAPI instrumentation (none for /healthz, /readyz, /metrics).
        span = trace.get_current_span()
        span.set_attribute(telemetry.REQUEST_ID, rid)
        sc = span.get_span_context()
        traceparent = (
            f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{int(sc.trace_flags):02x}"
            if sc.is_valid
            else headers.get("traceparent")
            or f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
        )
        extra = [(b"x-request-id", rid.encode()), (b"traceparent", traceparent.encode())]
        status = 500
        start = time.perf_counter()

        async def send_with_ids(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = guards.with_security_headers(
                    list(message.get("headers", [])) + extra, scope["path"]
                )
            await send(message)

        peer = (scope.get("client") or ("", 0))[0]
        client = guards.client_address(
            peer, headers.get("x-forwarded-for", ""), self.trusted_proxies
        )
        if client != peer:  # audit entries and limits see the caller, not our proxy
            scope["client"] = (client, 0)

        with logs.request_scope(request_id=rid):
            try:
                refusal = await self._refusal(scope, headers)
                if refusal is None and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
                    refusal, receive = await self._read_body(receive, headers)
                if refusal is not None:
                    await problem_response(Request(scope), refusal)(scope, receive, send_with_ids)
                    return
                await self.app(scope, receive, send_with_ids)
            finally:
                _access_log(scope, status, time.perf_counter() - start)

    async def _read_body(self, receive: Any, headers: dict[str, str]) -> tuple[Problem | None, Any]:
        """The body read up to the limit (also when chunked), JSON checked for NUL and depth;
        the app then receives the same bytes."""
        try:
            body, others = await guards.read_body(receive, self.settings.max_body_bytes)
        except guards.BodyTooLarge:
            return self._too_large(), receive
        replayed = guards.replay(body, others, receive)
        if "json" in headers.get("content-type", ""):
            return guards.json_refusal(body), replayed
        return None, replayed

    def _too_large(self) -> Problem:
        mb = self.settings.max_body_bytes // (1024 * 1024)
        return Problem(413, f"上传内容过大（上限 {mb} MB）。")

    async def _refusal(self, scope: Any, headers: dict[str, str]) -> Problem | None:
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.settings.max_body_bytes:
            return self._too_large()
        refusal = guards.nul_in_target(scope)
        if refusal is not None:
            return refusal
        if scope["path"].startswith(("/api/", "/partner/")):
            if not self.limiter.allow(await self._caller_key(scope, headers)):
                return Problem(429, headers={"Retry-After": "60"})
        return None

    @staticmethod
    async def _caller_key(scope: Any, headers: dict[str, str]) -> str:
        """Whose budget a request spends: the verified token subject, else the client address
        (an invented bearer value is no new identity: it spends its sender's budget)."""
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        app = scope.get("app")
        if token and app is not None:
            try:
                return "sub:" + (await deps.verified(app.state.verifier, token)).subject
            except Unauthenticated:
                pass
        return "ip:" + str((scope.get("client") or ("", 0))[0])


def _access_log(scope: Any, status: int, seconds: float) -> None:
    """One line per request: method, route template, status, duration, tenant, request id and
    the worker process that answered."""
    if scope["path"] in QUIET_PATHS:
        return
    route = scope.get("route")
    principal = scope.get("state", {}).get("principal")
    access_log.info(
        "request",
        method=scope["method"],
        route=getattr(route, "path", ""),
        path=scope["path"],
        status=status,
        duration_ms=round(seconds * 1000, 1),
        tenant_id=getattr(principal, "tenant_id", ""),
        user_id=getattr(principal, "subject", ""),
        worker=os.getpid(),
    )


def _upstream(base_url: str) -> httpx.AsyncClient:
    """A client for the sign-in provider that keeps no cookies: the sign-in session cookies
    it sets belong to the browser the answer goes back to, never to the next caller."""
    jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(base_url=base_url, timeout=30, cookies=jar)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.identity_http = _upstream(settings.identity_http_url)
        app.state.auth_http = (
            _upstream(settings.auth_url)
            if settings.auth_url != settings.identity_http_url
            else app.state.identity_http
        )
        yield
        await app.state.identity_http.aclose()
        await app.state.auth_http.aclose()
        await aclose()  # this worker's gRPC channels, in the loop that made them

    app = FastAPI(
        title="科普云服务平台 API（Kepu Cloud）",
        version="1.0.0",
        description="百千万科普工程多租户平台的公开接口。错误以 application/problem+json 返回，detail 为中文说明。",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(
        settings.oidc_issuer, jwks_url=settings.oidc_jwks_url, audience=settings.oidc_audience
    )
    limiter = ratelimit.for_instance(settings.rate_limit_per_minute)
    problems.install(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        try:
            r = await request.app.state.auth_http.get(
                "/auth/realms/kepu/.well-known/openid-configuration"
            )
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        return JSONResponse(
            {"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503
        )

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        # For Prometheus scraping the pod, not for the Internet: a request that came through
        # the ingress (or any proxy that says so) is told there is nothing here.
        if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
            raise Problem(404)
        return Response(await scrape.page(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(proxy.router)
    _include_routers(app)
    spa.install(app)
    # Added last, so it is the outermost layer: every response gets its request id and trace context.
    app.add_middleware(EdgeMiddleware, settings=settings, limiter=limiter)
    # Outside even that: the SERVER span (http.* attributes, http.server.request.duration),
    # its route found by one regex match instead of a scan of every route (kepu_gateway.routes).
    routes.install()
    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls=",".join(f"{p}$" for p in QUIET_PATHS),
        exclude_spans=["receive", "send"],
    )
    return app
