"""``/auth/...`` through the gateway: the embedded provider or Keycloak (reverse proxy).

Browsers and scripts see one issuer, ``<gateway>/auth/realms/kepu``, whichever provider runs.
The account password API (``/auth/realms/<realm>/account/password``) is always the identity
service's: it enforces our password policy and, with Keycloak, sets the password there.
"""

from __future__ import annotations

import re

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response

from .problems import Problem

router = APIRouter(include_in_schema=False)
HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "proxy-authorization",
    "host",
    "content-length",
    "content-encoding",
}
ACCOUNT_PASSWORD = re.compile(r"^realms/[^/]+/account/password/?$")


@router.api_route("/auth/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"])
async def auth_proxy(path: str, request: Request) -> Response:
    state = request.app.state
    client: httpx.AsyncClient = (
        state.identity_http if ACCOUNT_PASSWORD.match(path) else state.auth_http
    )
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
    headers["x-forwarded-for"] = request.client.host if request.client else ""
    headers["x-forwarded-proto"] = request.url.scheme
    headers["x-forwarded-host"] = request.headers.get("host", "")
    try:
        upstream = await client.request(
            request.method,
            f"/auth/{path}",
            params=request.query_params,
            content=await request.body(),
            headers=headers,
        )
    except httpx.HTTPError as exc:
        raise Problem(503, "身份认证服务暂时不可用，请稍后再试。") from exc
    response = Response(upstream.content, status_code=upstream.status_code)
    # multi_items: a login answer sets several cookies; joining them would break every one.
    for key, value in upstream.headers.multi_items():
        if key.lower() not in HOP:
            response.headers.append(key, value)
    return response
