"""A test-only token issuer for unit and integration tests of single services.

It signs tokens exactly as the embedded provider does (RS256, ``kid``, the
tenant claims), so a service's ``TokenVerifier`` can be pointed at it with
``key_source=issuer.jwks``. End-to-end tests use the real identity service.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from kepu_common.auth import TokenVerifier

ISSUER = "http://kepu.test/auth/realms/kepu"


class TestIssuer:
    __test__ = False  # not a pytest class

    def __init__(self, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": uuid.uuid4().hex, "use": "sig", "alg": "RS256"}
        )

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.key]).as_dict(private=False))

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.issuer, key_source=self.jwks)

    def token(
        self,
        *,
        tenant_id: str,
        tenant_path: str,
        tenant_kind: str,
        roles: tuple[str, ...] = ("admin",),
        username: str = "tester",
        subject: str | None = None,
        lifetime: int = 300,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject or str(uuid.uuid5(uuid.NAMESPACE_DNS, username)),
            "aud": ["kepu-api", "account"],
            "azp": "kepu-cli",
            "typ": "Bearer",
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            "preferred_username": username,
            "tenant_id": tenant_id,
            "tenant_path": tenant_path,
            "tenant_kind": tenant_kind,
            "realm_access": {"roles": list(roles)},
            "scope": "openid profile",
            **extra,
        }
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.key)
