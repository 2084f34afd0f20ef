"""The portal's calls to the gateway's own REST API (in process), with errors in plain Chinese."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Request

from .sessions import PortalSession

PLAIN = {
    400: "提交的内容格式不对，请检查后重试。",
    401: "登录已过期，请重新登录。",
    403: "您没有权限做这项操作。如需开通，请联系本单位管理员。",
    404: "没有找到要找的内容，可能已被删除，或不属于本单位管辖范围。",
    409: "当前状态下不能做这项操作，请刷新页面查看最新状态。",
    413: "上传的文件太大。",
    422: "填写的内容不符合要求，请检查后重试。",
    429: "操作太频繁，请稍等一分钟再试。",
    500: "系统出了点问题，请稍后再试；如果一直不行，请联系平台运维。",
    502: "系统暂时连不上，请稍后再试。",
    503: "系统暂时忙或正在维护，请稍后再试。",
    504: "系统响应太慢，请稍后再试。",
}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


def _has_cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


def plain_error(r: httpx.Response) -> ApiError:
    """A problem+json response as a message a township clerk understands."""
    body: dict[str, Any] = {}
    try:
        parsed = r.json()
        body = parsed if isinstance(parsed, dict) else {}
    except ValueError:
        pass
    detail = str(body.get("detail") or "")
    if r.status_code >= 500 or not _has_cjk(detail):
        detail = PLAIN.get(r.status_code, "操作没有成功，请稍后再试。")
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    return ApiError(r.status_code, detail, errors)


def _client(request: Request) -> httpx.AsyncClient:
    app = request.app
    if getattr(app.state, "portal_api", None) is None:
        app.state.portal_api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://portal.internal", timeout=900
        )
    return app.state.portal_api


async def call(
    request: Request, s: PortalSession, method: str, path: str, **kw: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {s.access_token}", **kw.pop("headers", {})}
    rid = getattr(request.state, "request_id", None)
    if rid:
        headers["x-request-id"] = rid
    r = await _client(request).request(method, path, headers=headers, **kw)
    if r.status_code >= 400:
        raise plain_error(r)
    return r


async def get_json(request: Request, s: PortalSession, path: str, **kw: Any) -> Any:
    return (await call(request, s, "GET", path, **kw)).json()


def _paths(routes: Any) -> list[str]:
    out: list[str] = []
    for r in routes:
        if isinstance(getattr(r, "path", None), str):
            out.append(r.path)
        inner = getattr(r, "original_router", None)  # FastAPI >= 0.16x includes routers lazily
        if inner is not None:
            out.extend(_paths(inner.routes))
    return out


def has_api(request: Request, prefix: str) -> bool:
    """Whether the gateway serves an API under ``prefix`` (a module not built yet shows 建设中)."""
    paths = getattr(request.app.state, "portal_api_paths", None)
    if paths is None:
        paths = request.app.state.portal_api_paths = _paths(request.app.routes)
    return any(p.startswith(prefix) for p in paths)
