"""The embedded provider's ``/auth/...`` paths, reachable through the gateway (reverse proxy)."""

from __future__ import annotations

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


@router.api_route("/auth/{path:path}", methods=["GET", "POST", "OPTIONS"])
async def auth_proxy(path: str, request: Request) -> Response:
    client: httpx.AsyncClient = request.app.state.identity_http
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
    fwd = request.client.host if request.client else ""
    headers["x-forwarded-for"] = fwd
    headers["x-forwarded-proto"] = request.url.scheme
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
    out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP}
    return Response(upstream.content, status_code=upstream.status_code, headers=out)
