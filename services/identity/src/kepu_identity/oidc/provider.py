"""What the embedded provider's routes share: its parts (``Provider``), the realm's paths, and
the OAuth2 and problem+json answers."""

from __future__ import annotations

import base64
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.templating import Jinja2Templates
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope

from .. import repository as repo
from ..crypto import Sealer
from ..models import Client
from .accounts import Accounts, SignInFailed
from .keys import KeyRing
from .throttle import SignInThrottle
from .tokens import TokenIssuer

REALM = "kepu"
PREFIX = f"/auth/realms/{REALM}"
OIDC = f"{PREFIX}/protocol/openid-connect"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TICKET_SECONDS = 600
SSO_COOKIE = "KEPU_SSO"


@dataclass
class Provider:
    """The parts of one embedded provider, built once by ``create_oidc_app``."""

    db: Database
    accounts: Accounts
    keys: KeyRing
    tokens: TokenIssuer
    sealer: Sealer
    issuer: str
    throttle: SignInThrottle
    verifier: TokenVerifier

    def client_of(self, client_id: str | None) -> Client | None:
        if not client_id:
            return None
        with self.db.unit_of_work(Scope.system_scope()) as s:
            return repo.get_client(s, client_id)


def ip(request: Request) -> str:
    fwd = request.headers.get("x-forwarded-for")
    return fwd.split(",")[0].strip() if fwd else (request.client.host if request.client else "")


def client_auth(request: Request, form: dict[str, Any]) -> tuple[str | None, str | None]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
            return urllib.parse.unquote(cid), urllib.parse.unquote(sec)
        except (ValueError, UnicodeDecodeError):
            return None, None
    return form.get("client_id"), form.get("client_secret")


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
