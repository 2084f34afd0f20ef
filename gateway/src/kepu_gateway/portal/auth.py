"""Sign-in through the SSO authorization code flow with PKCE, token refresh and sign-out."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlparse

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from kepu_common.errors import DomainError

from .sessions import COOKIE, PortalSession, SessionStore

CLIENT_ID = "kepu-portal"
router = APIRouter(include_in_schema=False)


def store(request: Request) -> SessionStore:
    return request.app.state.portal_sessions


def issuer(request: Request) -> str:
    return str(request.app.state.settings.oidc_issuer).rstrip("/")


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def set_cookie(request: Request, response: Response, s: PortalSession) -> None:
    response.set_cookie(
        COOKIE,
        store(request).cookie_value(s),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


async def token_request(request: Request, form: dict[str, str]) -> dict[str, Any]:
    """POST to the provider's token endpoint (back channel: the ``/auth`` upstream directly)."""
    path = urlparse(issuer(request)).path + "/protocol/openid-connect/token"
    form = {**form, "client_id": CLIENT_ID}
    try:
        if hasattr(request.app.state, "auth_http"):
            r = await request.app.state.auth_http.post(path, data=form)
        else:
            async with httpx.AsyncClient(timeout=30) as c:
                r = await c.post(issuer(request) + "/protocol/openid-connect/token", data=form)
    except httpx.HTTPError as exc:
        raise LoginFailed("身份认证服务暂时不可用，请稍后再试。") from exc
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code != 200:
        raise LoginFailed(str(body.get("detail") or "登录失败，请重新登录。"))
    return body


class LoginFailed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _jwt_claims(token: str) -> dict[str, Any]:
    """Claims of a token received directly from the token endpoint (back channel)."""
    try:
        part = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}


def apply_tokens(request: Request, s: PortalSession, tokens: dict[str, Any]) -> None:
    access = str(tokens["access_token"])
    try:
        p = request.app.state.verifier.principal(access)
    except DomainError as exc:
        raise LoginFailed(exc.detail) from exc
    claims = _jwt_claims(access)
    s.access_token = access
    s.access_exp = float(claims.get("exp") or time.time() + int(tokens.get("expires_in", 300)))
    s.refresh_token = str(tokens.get("refresh_token") or s.refresh_token)
    s.id_token = str(tokens.get("id_token") or s.id_token)
    s.user = {
        "username": p.username,
        "name": claims.get("name") or p.username,
        "tenant_id": p.tenant_id,
        "tenant_path": p.tenant_path,
        "tenant_kind": p.tenant_kind,
        "tenant_name": claims.get("tenant_name") or "",
        "roles": sorted(p.roles),
    }


async def ensure_fresh(request: Request, s: PortalSession) -> bool:
    """Refresh the 5-minute access token with the refresh token; False when the SSO session ended."""
    if s.access_exp - 30 > time.time():
        return True
    async with s.lock:
        if s.access_exp - 30 > time.time():
            return True
        if not s.refresh_token:
            return False
        try:
            tokens = await token_request(
                request, {"grant_type": "refresh_token", "refresh_token": s.refresh_token}
            )
            apply_tokens(request, s, tokens)
        except LoginFailed:
            return False
    return True


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


@router.get("/login")
def login(request: Request, next: str = "/") -> Response:
    s = getattr(request.state, "portal_session", None) or store(request).create()
    verifier, challenge = _pkce()
    s.login = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": verifier,
        "next": _safe_next(next),
    }
    query = {
        "client_id": CLIENT_ID,
        "redirect_uri": base_url(request) + "/callback",
        "response_type": "code",
        "scope": "openid profile",
        "state": s.login["state"],
        "nonce": s.login["nonce"],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    resp = RedirectResponse(
        issuer(request) + "/protocol/openid-connect/auth?" + urlencode(query), status_code=302
    )
    set_cookie(request, resp, s)
    return resp


@router.get("/callback")
async def callback(request: Request) -> Response:
    from .pages import message_page

    s: PortalSession | None = getattr(request.state, "portal_session", None)
    q = request.query_params
    if (
        s is None
        or not s.login
        or not secrets.compare_digest(q.get("state", ""), s.login.get("state", ""))
    ):
        return message_page(request, "登录请求已过期", "登录请求已过期或不完整，请重新登录。", 400)
    pending, s.login = s.login, None
    if q.get("error"):
        return message_page(request, "登录未完成", "登录未完成，请重新登录。", 400)
    try:
        tokens = await token_request(
            request,
            {
                "grant_type": "authorization_code",
                "code": q.get("code", ""),
                "redirect_uri": base_url(request) + "/callback",
                "code_verifier": pending["verifier"],
            },
        )
        if _jwt_claims(str(tokens.get("id_token", ""))).get("nonce") not in (
            None,
            pending["nonce"],
        ):
            raise LoginFailed("登录校验失败，请重新登录。")
        apply_tokens(request, s, tokens)
    except LoginFailed as exc:
        return message_page(request, "登录失败", exc.detail, 400)
    s = store(request).rotate(s)
    s.last_seen = time.time()
    resp = RedirectResponse(pending["next"], status_code=303)
    set_cookie(request, resp, s)
    return resp


@router.get("/logout")
def logout(request: Request) -> Response:
    s: PortalSession | None = getattr(request.state, "portal_session", None)
    hint = s.id_token if s else ""
    if s is not None:
        store(request).drop(s)
    query = {
        "post_logout_redirect_uri": base_url(request) + "/logged-out",
        "client_id": CLIENT_ID,
    }
    if hint:
        query["id_token_hint"] = hint
    resp = RedirectResponse(
        issuer(request) + "/protocol/openid-connect/logout?" + urlencode(query), status_code=302
    )
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/logged-out")
def logged_out(request: Request) -> Response:
    from .pages import message_page

    return message_page(request, "已安全退出", "您已安全退出科普云服务平台。", 200, login_link=True)
