"""Verification of access tokens against the issuer's JWKS (embedded provider or Keycloak)."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .errors import Unauthenticated
from .tenancy import Principal


class TokenVerifier:
    """Verifies RS256/ES256 JWTs; refetches the JWKS when it meets an unknown ``kid``."""

    def __init__(
        self,
        issuer: str,
        *,
        jwks_url: str | None = None,
        audience: str = "kepu-api",
        leeway: int = 30,
        key_source: Any = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.jwks_url = jwks_url or f"{self.issuer}/protocol/openid-connect/certs"
        self.audience = audience
        self.leeway = leeway
        # key_source: a callable returning a JWKS dict (used by the identity service itself)
        self._key_source = key_source
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _load(self, force: bool = False) -> KeySet:
        with self._lock:
            fresh = time.monotonic() - self._fetched_at < 300
            if self._keys is not None and fresh and not force:
                return self._keys
            if force and time.monotonic() - self._fetched_at < 1:
                return self._keys or KeySet([])
            if self._key_source is not None:
                data = self._key_source()
            else:
                data = httpx.get(self.jwks_url, timeout=5).json()
            self._keys = KeySet.import_key_set(data)
            self._fetched_at = time.monotonic()
            return self._keys

    def claims(self, token: str) -> dict[str, Any]:
        """Return the verified claims of ``token`` or raise ``Unauthenticated``."""
        if not token or token.count(".") != 2:
            raise Unauthenticated("访问令牌格式不正确，请重新登录。")
        header = _header(token)
        try:
            keys = self._load()
            kid = header.get("kid") if isinstance(header, dict) else None
            if kid and all(k.kid != kid for k in keys.keys):
                keys = self._load(force=True)
            decoded = jwt.decode(token, keys, algorithms=["RS256", "ES256"])
        except (JoseError, ValueError) as exc:
            raise Unauthenticated("访问令牌无效或签名不正确，请重新登录。") from exc
        except httpx.HTTPError as exc:
            raise Unauthenticated("暂时无法验证访问令牌（身份服务不可用），请稍后再试。") from exc
        c = decoded.claims
        now = time.time()
        if c.get("iss") != self.issuer:
            raise Unauthenticated("访问令牌的签发方不正确。")
        if not isinstance(c.get("exp"), int | float) or c["exp"] + self.leeway < now:
            raise Unauthenticated("登录已过期，请重新登录。")
        if isinstance(c.get("nbf"), int | float) and c["nbf"] - self.leeway > now:
            raise Unauthenticated("访问令牌尚未生效。")
        aud = c.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if self.audience not in auds:
            raise Unauthenticated("访问令牌的受众不正确。")
        if c.get("typ", "Bearer") != "Bearer":
            raise Unauthenticated("此令牌不是访问令牌。")
        return c

    def principal(self, token: str) -> Principal:
        c = self.claims(token)
        return principal_from_claims(c)


def _header(token: str) -> dict[str, Any] | None:
    try:
        raw = token.split(".")[0]
        value = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def principal_from_claims(c: dict[str, Any]) -> Principal:
    path = c.get("tenant_path")
    if not isinstance(path, str) or not path:
        raise Unauthenticated("访问令牌缺少所属单位信息。")
    roles = (c.get("realm_access") or {}).get("roles") or []
    return Principal(
        subject=str(c.get("sub", "")),
        username=str(c.get("preferred_username", "")),
        tenant_id=str(c.get("tenant_id", "")),
        tenant_path=path,
        tenant_kind=str(c.get("tenant_kind", "")),
        roles=frozenset(str(r) for r in roles),
        scopes=frozenset(str(c.get("scope", "")).split()),
        client_id=str(c.get("azp", "")),
    )
