"""The browser login of the authorization endpoint, with Keycloak's required actions (update
password, configure TOTP), the sign-in session cookie (SSO on reload), logout, and the account
password change without a token."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.parse
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from kepu_common.db import Scope
from kepu_common.errors import DomainError

from .. import repository as repo
from ..models import Client
from .accounts import NOT_SET_UP, Account, SignInFailed
from .provider import (
    OIDC,
    PREFIX,
    SSO_COOKIE,
    TEMPLATES,
    TICKET_SECONDS,
    Provider,
    ip,
    oauth_error,
    problem,
    too_many,
)
from .tokens import digest


def add_browser_routes(app: FastAPI, provider: Provider) -> None:
    db, accounts, keys, issuer_ = provider.db, provider.accounts, provider.keys, provider.tokens
    sealer, issuer, throttle = provider.sealer, provider.issuer, provider.throttle
    client_of = provider.client_of

    @app.api_route(f"{OIDC}/logout", methods=["GET", "POST"])
    async def logout(request: Request) -> Response:
        form = dict(await request.form()) if request.method == "POST" else {}
        params = {**dict(request.query_params), **form}
        if params.get("refresh_token"):
            if not issuer_.end_session(refresh_token=str(params["refresh_token"])):
                return oauth_error(
                    ("invalid_grant", "Invalid refresh token", "刷新令牌无效，会话可能已结束。")
                )
            return Response(status_code=204)
        hint = params.get("id_token_hint")
        if hint:
            try:
                from joserfc import jwt as _jwt

                sid = _jwt.decode(str(hint), keys.keyset()).claims.get("sid")
                if sid:
                    issuer_.end_session(session_id=sid)
            except Exception:  # noqa: BLE001 - an unusable hint still logs out the browser
                pass
        browser_sid, _account = sso_session(request)
        if browser_sid:  # the browser's sign-in session ends too (another tab's, if newer)
            issuer_.end_session(session_id=browser_sid)
        target = params.get("post_logout_redirect_uri")
        client = client_of(str(params.get("client_id") or "kepu-portal"))
        response: Response
        if target and client and client.allows_redirect(str(target)):
            response = RedirectResponse(str(target), status_code=302)
        else:
            response = HTMLResponse(
                "<!doctype html><meta charset=utf-8><title>已退出</title><p>您已安全退出科普云。</p>"
            )
        response.delete_cookie(SSO_COOKIE, path=PREFIX + "/")
        return response

    # ---- browser login (authorization endpoint) -------------------------------------------------

    def seal_ticket(data: dict[str, Any]) -> str:
        data = {**data, "exp": time.time() + TICKET_SECONDS}
        return base64.urlsafe_b64encode(sealer.seal(json.dumps(data).encode(), b"ticket")).decode()

    def open_ticket(ticket: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(
                sealer.open(base64.urlsafe_b64decode(ticket.encode()), b"ticket")
            )
        except Exception:  # noqa: BLE001 - tampered or expired tickets are simply invalid
            return None
        return data if data.get("exp", 0) > time.time() else None

    AUTH_PARAMS = (
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    )

    def auth_error_page(request: Request, message: str, status: int = 400) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request, "error.html", {"message": message}, status_code=status
        )

    def check_auth_params(p: dict[str, Any]) -> tuple[Client | None, str | None]:
        client = client_of(p.get("client_id"))
        if client is None or "authorization_code" not in client.grant_types:
            return None, "客户端无效（client_id 不存在或不允许浏览器登录）。"
        if not client.allows_redirect(str(p.get("redirect_uri") or "")):
            return None, "回调地址（redirect_uri）未登记，已拒绝登录请求。"
        if p.get("response_type") != "code":
            return None, "只支持授权码方式（response_type=code）。"
        if client.public and (
            not p.get("code_challenge") or p.get("code_challenge_method") != "S256"
        ):
            return None, "公共客户端必须使用 PKCE（code_challenge_method=S256）。"
        return client, None

    def sso_session(request: Request) -> tuple[str, Account | None]:
        """(session id, account) of the browser's sign-in session cookie; ("", None) without one."""
        raw = request.cookies.get(SSO_COOKIE, "")
        try:
            data = json.loads(sealer.open(base64.urlsafe_b64decode(raw.encode()), b"sso"))
            sid, user_id = str(data["sid"]), str(data["u"])
        except Exception:  # noqa: BLE001 - no cookie, or a tampered or older one: no session
            return "", None
        if not issuer_.session_active(sid):
            return sid, None
        return sid, accounts.for_single_sign_on(user_id)

    def remember(response: Response, account: Account, sid: str) -> None:
        sealed = sealer.seal(json.dumps({"u": account.id, "sid": sid}).encode(), b"sso")
        response.set_cookie(
            SSO_COOKIE,
            base64.urlsafe_b64encode(sealed).decode(),
            path=PREFIX + "/",
            httponly=True,
            samesite="lax",
            secure=issuer.startswith("https://"),
        )  # no Max-Age: it ends with the browser, like Keycloak's

    @app.get(f"{OIDC}/auth")
    def authorize(request: Request) -> Response:
        p = {k: request.query_params.get(k, "") for k in AUTH_PARAMS}
        _client, err = check_auth_params(p)
        if err:
            return auth_error_page(request, err)
        prompt = request.query_params.get("prompt", "").split()
        if "login" not in prompt:
            _sid, account = sso_session(request)
            if account is not None:
                return finish(account, p, request)
        if "none" in prompt:  # a silent request without a session: no page, an error
            query = {"error": "login_required", **({"state": p["state"]} if p["state"] else {})}
            sep = "&" if "?" in p["redirect_uri"] else "?"
            return RedirectResponse(
                p["redirect_uri"] + sep + urllib.parse.urlencode(query), status_code=302
            )
        return TEMPLATES.TemplateResponse(request, "login.html", {"params": p, "error": None})

    def finish(account: Account, p: dict[str, Any], request: Request) -> Response:
        code = secrets.token_urlsafe(32)
        sid = str(__import__("uuid").uuid4())
        with db.unit_of_work(Scope.system_scope()) as s:
            repo.insert_auth_code(
                s,
                code_hash=digest(code),
                client_id=p["client_id"],
                user_id=account.id,
                redirect_uri=p["redirect_uri"],
                code_challenge=p.get("code_challenge") or None,
                code_challenge_method=p.get("code_challenge_method") or None,
                scope=p.get("scope") or "openid",
                nonce=p.get("nonce") or None,
                session_id=sid,
            )
        accounts.record_sign_in(account, p["client_id"], ip(request))
        query = {"code": code, "session_state": sid}
        if p.get("state"):
            query["state"] = p["state"]
        sep = "&" if "?" in p["redirect_uri"] else "?"
        response = RedirectResponse(
            p["redirect_uri"] + sep + urllib.parse.urlencode(query), status_code=302
        )
        remember(response, account, sid)
        return response

    def next_step(account: Account, p: dict[str, Any], request: Request) -> Response:
        if account.must_change_password:
            return TEMPLATES.TemplateResponse(
                request,
                "update_password.html",
                {
                    "ticket": seal_ticket({"u": account.id, "p": p, "step": "password"}),
                    "error": None,
                    "username": account.username,
                },
            )
        if accounts.mfa_required and account.is_admin and not account.totp_enabled:
            secret = accounts.new_totp_secret()
            return TEMPLATES.TemplateResponse(
                request,
                "totp_setup.html",
                {
                    "ticket": seal_ticket(
                        {"u": account.id, "p": p, "step": "totp_setup", "secret": secret}
                    ),
                    "secret": secret,
                    "uri": accounts.totp_uri(account, secret),
                    "error": None,
                },
            )
        return finish(account, p, request)

    @app.post(f"{OIDC}/auth")
    async def login_submit(request: Request) -> Response:
        form = dict(await request.form())
        p = {k: str(form.get(k, "")) for k in AUTH_PARAMS}
        _client, err = check_auth_params(p)
        if err:
            return auth_error_page(request, err)
        username = str(form.get("username", ""))
        if throttle.retry_after(ip(request), username):
            return TEMPLATES.TemplateResponse(
                request,
                "login.html",
                {"params": p, "error": "登录失败次数过多，请稍后再试。", "username": username},
                status_code=429,
            )
        try:
            account = accounts.check_password(username, str(form.get("password", "")), ip(request))
        except SignInFailed as exc:
            if exc.status == 401:
                throttle.failed(ip(request), username)
            return TEMPLATES.TemplateResponse(
                request,
                "login.html",
                {"params": p, "error": exc.detail, "username": username},
                status_code=200,
            )
        if account.totp_enabled:
            return TEMPLATES.TemplateResponse(
                request,
                "otp.html",
                {"ticket": seal_ticket({"u": account.id, "p": p, "step": "otp"}), "error": None},
            )
        return next_step(account, p, request)

    @app.post(f"{PREFIX}/login-actions/{{step}}")
    async def login_action(step: str, request: Request) -> Response:
        form = dict(await request.form())
        t = open_ticket(str(form.get("ticket", "")))
        if t is None or t.get("step") != step:
            return auth_error_page(request, "登录步骤已过期，请重新登录。")
        account = accounts.reload(t["u"])
        p = t["p"]
        if step == "otp":
            if throttle.retry_after(ip(request), account.username):
                return TEMPLATES.TemplateResponse(
                    request,
                    "otp.html",
                    {"ticket": form["ticket"], "error": "登录失败次数过多，请稍后再试。"},
                    status_code=429,
                )
            if not accounts.verify_otp(account, str(form.get("otp", "")), ip(request)):
                throttle.failed(ip(request), account.username)
                return TEMPLATES.TemplateResponse(
                    request,
                    "otp.html",
                    {"ticket": form["ticket"], "error": "动态口令错误，请重新输入。"},
                )
            return next_step(account, p, request)
        if step == "password":
            new, confirm = str(form.get("password-new", "")), str(form.get("password-confirm", ""))
            error = None
            if new != confirm:
                error = "两次输入的新密码不一致。"
            else:
                try:
                    account = accounts.set_new_password(account, new, ip(request))
                except DomainError as exc:
                    error = exc.detail
            if error:
                return TEMPLATES.TemplateResponse(
                    request,
                    "update_password.html",
                    {"ticket": form["ticket"], "error": error, "username": account.username},
                )
            return next_step(account, p, request)
        if step == "totp_setup":
            if not accounts.enable_totp(account, t["secret"], str(form.get("otp", ""))):
                return TEMPLATES.TemplateResponse(
                    request,
                    "totp_setup.html",
                    {
                        "ticket": form["ticket"],
                        "secret": t["secret"],
                        "uri": accounts.totp_uri(account, t["secret"]),
                        "error": "动态口令错误，请检查手机时间后重新输入。",
                    },
                )
            return next_step(accounts.reload(account.id), p, request)
        return auth_error_page(request, "未知的登录步骤。")

    # ---- account password change without a token ------------------------------------------------

    @app.post(f"{PREFIX}/account/password")
    async def account_password(request: Request) -> Response:
        ctype = request.headers.get("content-type", "")
        try:
            body = await request.json() if "json" in ctype else dict(await request.form())
        except (ValueError, UnicodeDecodeError):
            return problem(400, "请求体不是有效的 JSON。")
        if not isinstance(body, dict):
            return problem(400, "请求体必须是 JSON 对象。")
        username = str(body.get("username") or "")
        current = str(body.get("currentPassword") or body.get("current_password") or "")
        new = str(body.get("newPassword") or body.get("new_password") or "")
        confirm = body.get("confirmation")
        if not username or not current or not new:
            return problem(
                422,
                "请提供用户名、当前密码和新密码（username, currentPassword, newPassword）。",
                "Invalid input",
            )
        if confirm is not None and str(confirm) != new:
            return problem(422, "两次输入的新密码不一致。", "Invalid input")
        wait = throttle.retry_after(ip(request), username)
        if wait:
            return too_many(wait)
        try:
            accounts.change_password(username, current, new, ip(request))
        except SignInFailed as exc:
            if exc.status == 401:
                throttle.failed(ip(request), username)
            return problem(
                401 if exc.status == 401 else 403 if exc is not NOT_SET_UP else 400,
                exc.detail,
                "Unauthorized",
            )
        except DomainError as exc:
            return problem(422, exc.detail, "Invalid input")
        return Response(status_code=204)
