"""The embedded provider's FastAPI application: error answers, realm metadata (realm info,
discovery, JWKS) and the routes of ``grants`` and ``login``."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database
from kepu_common.transient import UNAVAILABLE_ERRORS
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..crypto import Sealer
from .accounts import Accounts
from .grants import add_token_routes
from .keys import KeyRing
from .login import add_browser_routes
from .provider import OIDC, PREFIX, REALM, Provider, problem
from .throttle import SignInThrottle
from .tokens import USER_CLAIMS, TokenIssuer


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
    provider = Provider(
        db=db,
        accounts=accounts,
        keys=keys,
        tokens=issuer_,
        sealer=sealer,
        issuer=issuer,
        throttle=throttle or SignInThrottle(),
        verifier=TokenVerifier(issuer, key_source=keys.jwks, audience=issuer_.audience),
    )

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
            "claims_supported": list(USER_CLAIMS),
            "account_password_endpoint": f"{issuer}/account/password",
        }

    @app.get(f"{OIDC}/certs")
    def certs() -> dict[str, Any]:
        return keys.jwks()

    add_token_routes(app, provider)
    add_browser_routes(app, provider)
    return app
