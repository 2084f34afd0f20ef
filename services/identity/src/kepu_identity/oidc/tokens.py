"""Issuing tokens: signed JWT access/ID tokens, opaque rotating refresh tokens (SSO sessions)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from typing import Any

from joserfc import jwt
from kepu_common.db import Database, Scope

from .. import repository as repo
from .accounts import Account, SignInFailed
from .keys import KeyRing

SESSION_EXPIRED = SignInFailed(
    "invalid_grant", "Session not active", "登录会话已过期（30 分钟无操作），请重新登录。"
)
REFRESH_CONTEXT = b"refresh-token"
# Who the user is, in the ID token, at userinfo and in the discovery document's claims.
USER_CLAIMS = (
    "sub",
    "preferred_username",
    "name",
    "email",
    "tenant_id",
    "tenant_path",
    "tenant_kind",
)
TOKEN_INVALID = SignInFailed("invalid_grant", "Invalid refresh token", "刷新令牌无效，请重新登录。")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class TokenIssuer:
    def __init__(
        self,
        db: Database,
        keys: KeyRing,
        *,
        issuer: str,
        audience: str,
        access_seconds: int,
        idle_seconds: int,
    ) -> None:
        self.db = db
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.access_seconds = access_seconds
        self.idle_seconds = idle_seconds

    def sign(self, claims: dict[str, Any]) -> str:
        key = self.keys.signing_key()
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)

    def access_claims(
        self, account: Account, client_id: str, scope: str, sid: str
    ) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "sub": account.id,
            "aud": [self.audience, "account"],
            "azp": client_id,
            "typ": "Bearer",
            "iat": now,
            "exp": now + self.access_seconds,
            "jti": uuid.uuid4().hex,
            "sid": sid,
            "session_state": sid,
            "scope": scope,
            "preferred_username": account.username,
            "name": account.display_name or account.tenant_name,
            "email": account.email or "",
            "tenant_id": account.tenant_id,
            "tenant_path": account.tenant_path,
            "tenant_kind": account.tenant_kind,
            "tenant_name": account.tenant_name,
            "realm_access": {"roles": account.roles},
        }

    def issue(
        self,
        account: Account,
        client_id: str,
        scope: str,
        *,
        nonce: str | None = None,
        session_id: str | None = None,
        with_refresh: bool = True,
    ) -> dict[str, Any]:
        scope = normalise_scope(scope)
        sid = session_id or str(uuid.uuid4())
        refresh = None
        if with_refresh:
            refresh = self.new_refresh_token(sid)
            with self.db.unit_of_work(Scope.system_scope()) as s:
                repo.save_session(s, sid, account.id, client_id, scope, digest(refresh))
        claims = self.access_claims(account, client_id, scope, sid)
        out: dict[str, Any] = {
            "access_token": self.sign(claims),
            "expires_in": self.access_seconds,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": sid,
            "scope": scope,
        }
        if refresh:
            out["refresh_token"] = refresh
            out["refresh_expires_in"] = self.idle_seconds
        if "openid" in scope.split():
            id_claims = {k: claims[k] for k in ("iss", "iat", "exp", "sid", *USER_CLAIMS)}
            id_claims.update(
                {"aud": client_id, "azp": client_id, "typ": "ID", "auth_time": claims["iat"]}
            )
            if nonce:
                id_claims["nonce"] = nonce
            out["id_token"] = self.sign(id_claims)
        return out

    def new_refresh_token(self, session_id: str) -> str:
        """An opaque refresh token that only we can make, naming its session (family): when a
        token already rotated away is presented again, we know whose session to end."""
        sealed = self.keys.sealer.seal(
            uuid.UUID(session_id).bytes + secrets.token_bytes(16), REFRESH_CONTEXT
        )
        return "kr." + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def session_of(self, refresh_token: str) -> str | None:
        """The session a genuine refresh token of ours was issued for (None if not ours)."""
        if not refresh_token.startswith("kr."):
            return None
        raw = refresh_token[3:]
        try:
            opened = self.keys.sealer.open(
                base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), REFRESH_CONTEXT
            )
        except Exception:  # noqa: BLE001 - forged, truncated or of an older format
            return None
        return str(uuid.UUID(bytes=opened[:16]))

    def session_for_refresh(self, refresh_token: str, client_id: str) -> tuple[str, str, str]:
        """(session id, user id, scope) for a live refresh token of ``client_id``.

        A refresh token is used once. A genuine one that has already been exchanged means it
        was copied (OAuth 2.0 Security BCP, refresh token rotation): the whole session ends,
        so neither the thief nor the user keeps a token of it."""
        with self.db.unit_of_work(Scope.system_scope()) as s:
            row = repo.session_by_refresh(s, digest(refresh_token))
        if row is None:
            reused = self.session_of(refresh_token)
            if reused is not None:
                self.end_session(session_id=reused)
            raise TOKEN_INVALID
        if row.revoked or row.client_id != client_id:
            raise TOKEN_INVALID
        if row.idle > self.idle_seconds:
            raise SESSION_EXPIRED
        return row.id, row.user_id, row.scope

    def end_session(
        self, *, refresh_token: str | None = None, session_id: str | None = None
    ) -> bool:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            if refresh_token:
                n = repo.revoke_session_of_refresh(s, digest(refresh_token))
            elif session_id:
                n = repo.revoke_session(s, session_id)
            else:
                n = 0
        return bool(n)

    def session_active(self, session_id: str) -> bool:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            row = repo.session_by_id(s, session_id)
        return row is not None and not row.revoked and row.idle <= self.idle_seconds


def normalise_scope(scope: str) -> str:
    wanted = [
        s
        for s in (scope or "").split()
        if s in ("openid", "profile", "email", "offline_access", "roles")
    ]
    base = ["openid"] if "openid" in wanted else []
    return " ".join(dict.fromkeys(base + ["profile", "email"] + wanted))
