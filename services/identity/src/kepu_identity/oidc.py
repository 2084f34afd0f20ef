"""The embedded OpenID Connect provider, laid out like Keycloak (``/auth/realms/kepu/...``).

python-keycloak's ``KeycloakOpenID`` works against it unchanged: discovery, realm
info, certs (JWKS), token (authorization_code + PKCE, refresh_token, password,
client_credentials), userinfo, introspection, logout, and the browser login
with Keycloak's required actions (update password, configure TOTP).

Like Keycloak's ``KEYCLOAK_IDENTITY``, a browser that signed in carries a sign-in session
cookie (``KEPU_SSO``, sealed, HttpOnly, for the realm's path only): the authorization endpoint
answers it with a code at once, so an app that keeps its tokens in memory gets them back after a
reload without the password. The cookie names the latest SSO session; it stops working when that
session is revoked or idles out, when the account is disabled or locked, and at logout.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.errors import DomainError, Unauthenticated
from kepu_common.transient import UNAVAILABLE_ERRORS
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import repository as repo
from .accounts import NOT_SET_UP, OTP_INVALID, Account, Accounts, SignInFailed
from .crypto import Sealer
from .keys import KeyRing
from .models import Client
from .throttle import SignInThrottle
from .tokens import TokenIssuer, digest

REALM = "kepu"
PREFIX = f"/auth/realms/{REALM}"
OIDC = f"{PREFIX}/protocol/openid-connect"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TICKET_SECONDS = 600
SSO_COOKIE = "KEPU_SSO"


def oauth_error(
    err: SignInFailed | tuple[str, str, str], status: int | None = None
) -> JSONResponse:
    if isinstance(err, SignInFailed):
        error, desc, detail, code = err.error, err.description, err.detail, err.status
    else:
        (error, desc, detail), code = err, 400
    return JSONResponse(
        {"error": error, "error_description": desc, "detail": detail},
        status_code=status or code,
        headers={"Cache-Control": "no-store"},
    )


def problem(status: int, detail: str, title: str = "Bad request") -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def too_many(retry_after: int) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Too Many Requests",
            "status": 429,
            "detail": "登录失败次数过多，请稍后再试。",
            "error": "too_many_requests",  # for OAuth clients that read ``error``
        },
        status_code=429,
        media_type="application/problem+json",
        headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"},
    )


def create_oidc_app(
    *,
    db: Database,
    accounts: Accounts,
    keys: KeyRing,
    issuer_: TokenIssuer,
    sealer: Sealer,
    issuer: str,
    throttle: SignInThrottle | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Kepu Cloud embedded OpenID Connect provider", docs_url=None, redoc_url=None
    )
    throttle = throttle or SignInThrottle()
    verifier = TokenVerifier(issuer, key_source=keys.jwks, audience=issuer_.audience)

    @app.exception_handler(StarletteHTTPException)
    async def not_here(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if (
            exc.status_code == 404
            and request.url.path.startswith("/auth/realms/")
            and not request.url.path.startswith(PREFIX + "/")
        ):
            return JSONResponse(
                {"error": "Realm does not exist", "detail": "认证域不存在（只有 kepu）。"},
                status_code=404,
            )
        detail = {404: "请求的认证地址不存在。", 405: "不支持该请求方法。"}.get(
            exc.status_code, "请求无效。"
        )
        return problem(exc.status_code, detail, "Not Found" if exc.status_code == 404 else "Error")

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database (or broker) is down: a sign-in can be tried again, it is not a bug.
        response = problem(503, "认证服务暂时不可用，请稍后再试。", "Service Unavailable")
        response.headers["Retry-After"] = "2"
        return response

    for error in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, unavailable)

    def ip(request: Request) -> str:
        fwd = request.headers.get("x-forwarded-for")
        return fwd.split(",")[0].strip() if fwd else (request.client.host if request.client else "")

    def client_of(client_id: str | None) -> Client | None:
        if not client_id:
            return None
        with db.unit_of_work(Scope.system_scope()) as s:
            return repo.get_client(s, client_id)

    def client_auth(request: Request, form: dict[str, Any]) -> tuple[str | None, str | None]:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
                return urllib.parse.unquote(cid), urllib.parse.unquote(sec)
            except (ValueError, UnicodeDecodeError):
                return None, None
        return form.get("client_id"), form.get("client_secret")

    @app.get(PREFIX)
    def realm_info() -> dict[str, Any]:
        key = keys.signing_key()
        pem = key.as_pem(private=False)
        der = serialization.load_pem_public_key(pem).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {
            "realm": REALM,
            "public_key": base64.b64encode(der).decode(),
            "token-service": f"{issuer}/protocol/openid-connect",
            "account-service": f"{issuer}/account",
            "tokens-not-before": 0,
        }

    @app.get(f"{PREFIX}/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        o = f"{issuer}/protocol/openid-connect"
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{o}/auth",
            "token_endpoint": f"{o}/token",
            "introspection_endpoint": f"{o}/token/introspect",
            "userinfo_endpoint": f"{o}/userinfo",
            "end_session_endpoint": f"{o}/logout",
            "jwks_uri": f"{o}/certs",
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "password",
                "client_credentials",
            ],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": [
                "sub",
                "preferred_username",
                "name",
                "email",
                "tenant_id",
                "tenant_path",
                "tenant_kind",
            ],
            "account_password_endpoint": f"{issuer}/account/password",
        }

    @app.get(f"{OIDC}/certs")
    def certs() -> dict[str, Any]:
        return keys.jwks()

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
        keys_ = (
            "sub",
            "preferred_username",
            "name",
            "email",
            "tenant_id",
            "tenant_path",
            "tenant_kind",
            "tenant_name",
            "realm_access",
        )
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

    return app
