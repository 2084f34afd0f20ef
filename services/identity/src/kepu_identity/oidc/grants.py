"""The token endpoint (password, authorization code + PKCE, refresh token and client
credentials grants), userinfo and introspection."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from kepu_common.db import Scope
from kepu_common.errors import DomainError, Unauthenticated

from .. import repository as repo
from ..models import Client
from .accounts import NOT_SET_UP, OTP_INVALID, Account, SignInFailed
from .provider import (
    OIDC,
    Provider,
    client_auth,
    ip,
    oauth_error,
    too_many,
)
from .tokens import USER_CLAIMS, digest


def add_token_routes(app: FastAPI, provider: Provider) -> None:
    db, accounts, issuer_, throttle = (
        provider.db,
        provider.accounts,
        provider.tokens,
        provider.throttle,
    )
    verifier, client_of = provider.verifier, provider.client_of

    @app.post(f"{OIDC}/token")
    async def token(request: Request) -> Response:
        form = dict(await request.form())
        client_id, secret = client_auth(request, form)
        client = client_of(client_id)
        if client is None or not client.check_secret(secret):
            return oauth_error(
                (
                    "unauthorized_client",
                    "Invalid client or Invalid client credentials",
                    "客户端无效或客户端密钥错误。",
                ),
                401,
            )
        grant = form.get("grant_type", "")
        if grant not in client.grant_types:
            return oauth_error(
                (
                    "unauthorized_client",
                    f"Client not allowed for grant {grant or 'none'}",
                    "此客户端不允许该授权方式。",
                )
            )
        username = str(form.get("username") or "")
        if grant == "password":
            wait = throttle.retry_after(ip(request), username)
            if wait:
                return too_many(wait)
        try:
            if grant == "password":
                return JSONResponse(password_grant(request, client, form))
            if grant == "authorization_code":
                return JSONResponse(code_grant(client, form))
            if grant == "refresh_token":
                return JSONResponse(refresh_grant(client, form))
            if grant == "client_credentials":
                return JSONResponse(client_credentials_grant(client, form))
        except SignInFailed as exc:
            if grant == "password" and exc.status == 401:
                throttle.failed(ip(request), username)
            return oauth_error(exc)
        return oauth_error(
            ("unsupported_grant_type", "Unsupported grant_type", "不支持的授权方式。")
        )

    def password_grant(request: Request, client: Client, form: dict[str, Any]) -> dict[str, Any]:
        username, password = form.get("username") or "", form.get("password") or ""
        if not username or not password:
            raise SignInFailed(
                "invalid_request", "Missing parameter: username", "请提供用户名和密码。"
            )
        account = accounts.check_password(username, password, ip(request))
        if accounts.needs_setup(account):
            raise NOT_SET_UP
        if accounts.needs_otp(account) and not accounts.verify_otp(
            account, form.get("totp"), ip(request)
        ):
            raise OTP_INVALID
        accounts.record_sign_in(account, client.client_id, ip(request))
        return issuer_.issue(account, client.client_id, form.get("scope") or "openid")

    def code_grant(client: Client, form: dict[str, Any]) -> dict[str, Any]:
        code, redirect_uri, verifier_ = (
            form.get("code") or "",
            form.get("redirect_uri") or "",
            form.get("code_verifier"),
        )
        bad = SignInFailed("invalid_grant", "Code not valid", "授权码无效或已使用，请重新登录。")
        with db.unit_of_work(Scope.system_scope()) as s:
            row = repo.use_auth_code(s, digest(code))
        if row is None or row.client_id != client.client_id:
            raise bad
        if row.redirect_uri != redirect_uri:
            raise SignInFailed("invalid_grant", "Incorrect redirect_uri", "回调地址不匹配。")
        if row.code_challenge:
            if not verifier_:
                raise SignInFailed(
                    "invalid_grant", "PKCE code verifier not specified", "缺少 PKCE 校验码。"
                )
            calc = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier_.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if not secrets.compare_digest(calc, row.code_challenge):
                raise SignInFailed("invalid_grant", "PKCE verification failed", "PKCE 校验失败。")
        account = accounts.reload(row.user_id)
        return issuer_.issue(
            account, client.client_id, row.scope, nonce=row.nonce, session_id=row.session_id
        )

    def refresh_grant(client: Client, form: dict[str, Any]) -> dict[str, Any]:
        sid, user_id, scope = issuer_.session_for_refresh(
            form.get("refresh_token") or "", client.client_id
        )
        account = accounts.reload(user_id)
        return issuer_.issue(account, client.client_id, scope, session_id=sid)

    def client_credentials_grant(client: Client, form: dict[str, Any]) -> dict[str, Any]:
        if client.public or not client.tenant_id:
            raise SignInFailed(
                "unauthorized_client",
                "Public client not allowed to retrieve service account",
                "公共客户端不能使用客户端凭据方式。",
            )
        with db.unit_of_work(Scope.system_scope()) as s:
            t = repo.get_tenant(s, client.tenant_id)
        assert t is not None  # clients.tenant_id references tenants
        account = Account(
            id=f"service-account-{client.client_id}",
            username=f"service-account-{client.client_id}",
            tenant_id=t.id,
            tenant_path=t.path,
            tenant_kind=t.kind,
            tenant_name=t.name,
            display_name=client.client_id,
            email=None,
            roles=["partner"],
            must_change_password=False,
            totp_enabled=False,
            is_admin=False,
        )
        requested = [s for s in (form.get("scope") or "").split() if s.startswith("partner:")]
        if client.scopes:  # a registered partner: what it asked for, within what it was granted
            wanted = set(requested) or set(client.scopes)
            scope = " ".join(s for s in client.scopes if s in wanted)
        else:  # a client seeded without a scope list (demo partner): as requested
            scope = " ".join(requested)
        out = issuer_.issue(account, client.client_id, "profile", with_refresh=False)
        if scope:
            claims = issuer_.access_claims(account, client.client_id, scope, out["session_state"])
            out["access_token"], out["scope"] = issuer_.sign(claims), scope
        return out

    def bearer_claims(request: Request) -> dict[str, Any]:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Unauthenticated("缺少访问令牌。")
        claims = verifier.claims(auth[7:])
        if (
            claims.get("sid")
            and not str(claims["sub"]).startswith("service-account-")
            and not issuer_.session_active(claims["sid"])
        ):
            raise Unauthenticated("登录会话已结束，请重新登录。")
        return claims

    @app.api_route(f"{OIDC}/userinfo", methods=["GET", "POST"])
    def userinfo(request: Request) -> Response:
        try:
            c = bearer_claims(request)
        except DomainError as exc:
            return JSONResponse(
                {
                    "error": "invalid_token",
                    "error_description": "Token verification failed",
                    "detail": exc.detail,
                },
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        keys_ = (*USER_CLAIMS, "tenant_name", "realm_access")
        return JSONResponse({k: c[k] for k in keys_ if k in c})

    @app.post(f"{OIDC}/token/introspect")
    async def introspect(request: Request) -> Response:
        form = dict(await request.form())
        client_id, secret = client_auth(request, form)
        client = client_of(client_id)
        if client is None or not client.check_secret(secret):
            return oauth_error(
                ("unauthorized_client", "Invalid client credentials", "客户端无效。"), 401
            )
        try:
            c = verifier.claims(str(form.get("token") or ""))
        except DomainError:
            return JSONResponse({"active": False})
        return JSONResponse(
            {
                **c,
                "active": True,
                "client_id": c.get("azp"),
                "username": c.get("preferred_username"),
            }
        )
