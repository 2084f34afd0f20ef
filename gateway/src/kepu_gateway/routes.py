"""The route template of a request (``http.route``, the SERVER span's name) in one regex match.

OpenTelemetry's FastAPI instrumentation finds it before the request is routed by trying every
route of the app in Python (``_get_route_details``: about 130 ``Route.matches`` calls here),
which measured 1.5–2 ms of CPU per request on this machine, a quarter of the gateway's own
(docs/benchmarks.md, issue 16). :class:`RouteIndex` asks the same question of one compiled
alternation of the routes' path patterns, in route order; when the first route whose path
matches does not take the method, it falls back to the instrumentation's own scan, so the
answer is always the same (``gateway/tests/test_routes.py`` compares both on every route).
"""

from __future__ import annotations

import re
from typing import Any

from opentelemetry.instrumentation import fastapi as otel_fastapi
from starlette._utils import get_route_path
from starlette.routing import Route, compile_path

_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")


class RouteIndex:
    """The app's routes as one regex; built on first use (the routes are fixed by then)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._pattern: re.Pattern[str] | None = None
        self._routes: list[tuple[str, frozenset[str] | None]] = []

    def _build(self) -> re.Pattern[str]:
        found: list[tuple[str, frozenset[str] | None]] = []
        for ctx in otel_fastapi._flatten_routes(self.app.routes):
            route = getattr(ctx, "route", ctx)  # FastAPI's RouteContext or a plain route
            path = getattr(ctx, "path", None)
            if not isinstance(route, Route) or not isinstance(path, str):
                return re.compile(r"(?!)")  # a mount, host or websocket route: scan them all
            methods = getattr(ctx, "methods", None)
            found.append((path, frozenset(methods) if methods is not None else None))
        self._routes = found
        parts = [
            f"(?P<r{i}>{_NAMED_GROUP.sub('(?:', compile_path(path)[0].pattern[1:-1])})"
            for i, (path, _methods) in enumerate(found)
        ]
        return re.compile("^(?:" + "|".join(parts) + ")$") if parts else re.compile(r"(?!)")

    def route(self, scope: dict[str, Any]) -> str | None:
        if self._pattern is None:
            self._pattern = self._build()
        m = self._pattern.match(get_route_path(scope)) if self._routes else None
        if m is None or m.lastgroup is None:
            return otel_fastapi._get_route_details(scope)  # no route: the scan says what then
        path, methods = self._routes[int(m.lastgroup[1:])]
        if methods is None or scope.get("method", "") in methods:
            return path
        return otel_fastapi._get_route_details(scope)  # a later route may take the method

    @property
    def size(self) -> int:
        """How many routes the regex holds (0: every request is scanned)."""
        if self._pattern is None:
            self._pattern = self._build()
        return len(self._routes)


def span_details(scope: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """What the instrumentation's ``_get_default_span_details`` returns, from the index."""
    index: RouteIndex | None = getattr(scope["app"].state, "route_index", None)
    if index is None:
        index = scope["app"].state.route_index = RouteIndex(scope["app"])
    route = index.route(scope)
    method = otel_fastapi.sanitize_method(scope.get("method", "").strip())
    if method == "_OTHER":
        method = "HTTP"
    attributes = {otel_fastapi.HTTP_ROUTE: route} if route else {}
    if method and route:
        return f"{method} {route}", attributes
    return (route or method), attributes


def install() -> None:
    """Make the instrumentation name its spans through :func:`span_details` (it reads the
    module's ``_get_default_span_details`` when an instrumented app builds its middleware)."""
    otel_fastapi._get_default_span_details = span_details  # type: ignore[assignment]
