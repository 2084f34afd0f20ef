"""The route index names every request's route exactly as OpenTelemetry's own scan does.

The SERVER span's name and ``http.route`` (the label of ``http_server_request_duration``) come
from :mod:`kepu_gateway.routes`; it must agree with the instrumentation's ``_get_route_details``
on every route of the app, for every method, and on paths no route takes.
"""

from __future__ import annotations

import re

import pytest
from kepu_gateway.app import create_app
from kepu_gateway.routes import RouteIndex, span_details
from opentelemetry.instrumentation import fastapi as otel_fastapi

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PARAM = re.compile(r"\{([^}:]+)(:path)?\}")


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return create_app()


def _paths(app) -> list[str]:  # type: ignore[no-untyped-def]
    samples = [
        PARAM.sub(lambda m: "a/b.js" if m.group(2) else "0b6f9d4e-1c15", route.path)
        for route in otel_fastapi._flatten_routes(app.routes)
    ]
    return samples + ["/", "/nope", "/api/v1", "/api/v1/talents/x/y/z/w", "/app", "/metrics/"]


def test_the_index_agrees_with_the_instrumentation_on_every_route_and_method(app) -> None:  # type: ignore[no-untyped-def]
    index = RouteIndex(app)
    paths = _paths(app)
    assert index.size == len(paths) - 6 > 100  # every route is in the regex, none left to scan
    for path in paths:
        for method in METHODS:
            scope = {"type": "http", "path": path, "method": method, "app": app, "root_path": ""}
            assert index.route(scope) == otel_fastapi._get_route_details(scope), (method, path)


def test_a_span_is_named_by_its_route_template(app) -> None:  # type: ignore[no-untyped-def]
    scope = {"type": "http", "path": "/api/v1/tenants/me", "method": "GET", "app": app}
    assert span_details(scope) == (
        "GET /api/v1/tenants/me",
        {otel_fastapi.HTTP_ROUTE: "/api/v1/tenants/me"},
    )
    scope = {"type": "http", "path": "/api/v1/talents/4f1c", "method": "GET", "app": app}
    assert span_details(scope)[0] == "GET /api/v1/talents/{talent_id}"
