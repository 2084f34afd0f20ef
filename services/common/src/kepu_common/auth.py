"""Verification of access tokens against the issuer's JWKS (embedded provider or Keycloak)."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .errors import Unauthenticated
from .tenancy import Principal


class TokenVerifier:
    """Verifies RS256/ES256 JWTs; refetches the JWKS when it meets an unknown ``kid``.

    A verified token is remembered, keyed by its signature, until it expires: the same bearer
    token on the next request costs a dictionary look-up instead of a signature check (the
    gateway and each service verify every request's token). Only what the token itself proves is
    cached; whatever can change during a token's life (a partner disabled, an account locked) is
    checked by its owner on every request, outside this cache (``Partners.current``).
    """

    CACHE_SIZE = 10_000

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
        # signature -> (signed header.payload, expiry with leeway, claims, principal)
        self._verified: dict[str, _Verified] = {}

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
        return self._verify(token).claims

    def known(self, token: str) -> Principal | None:
        """The principal of ``token`` if it was verified before and is unexpired: a look-up, no
        signature check and no JWKS fetch (an event loop may call it), else ``None``."""
        signed, _, signature = token.rpartition(".")
        entry = self._verified.get(signature)
        if entry is None or entry.signed != signed or time.time() > entry.expires:
            return None
        if entry.principal is None:
            entry.principal = principal_from_claims(entry.claims)
        return entry.principal

    def principal(self, token: str) -> Principal:
        entry = self._verify(token)
        if entry.principal is None:
            entry.principal = principal_from_claims(entry.claims)
        return entry.principal

    def _verify(self, token: str) -> _Verified:
        """The cached verification of ``token`` while it is unexpired, else a fresh one."""
        signed, _, signature = token.rpartition(".")
        entry = self._verified.get(signature)
        if entry is not None and entry.signed == signed and time.time() <= entry.expires:
            return entry
        entry = _Verified(signed, 0.0, self._check(token))
        entry.expires = float(entry.claims["exp"]) + self.leeway
        if len(self._verified) >= self.CACHE_SIZE:
            now = time.time()
            for sig in [k for k, v in list(self._verified.items()) if v.expires < now]:
                self._verified.pop(sig, None)
            if len(self._verified) >= self.CACHE_SIZE:
                self._verified.clear()
        self._verified[signature] = entry
        return entry

    def _check(self, token: str) -> dict[str, Any]:
        """Signature, issuer, times, audience and type of ``token`` checked now."""
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


@dataclass
class _Verified:
    signed: str
    expires: float
    claims: dict[str, Any]
    principal: Principal | None = None


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
