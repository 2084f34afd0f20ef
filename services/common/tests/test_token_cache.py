"""The verified-token cache of ``TokenVerifier``: a repeated token skips the signature check
until it expires, and nothing the cache holds lets an altered or expired token through."""

from __future__ import annotations

import base64
import json

import pytest
from kepu_common.auth import TokenVerifier
from kepu_common.errors import Unauthenticated
from kepu_devstack.tokens import TestIssuer

CITY = {"tenant_id": "t-1", "tenant_path": "410000.411400", "tenant_kind": "city"}


class CountingVerifier(TokenVerifier):
    """Counts the full verifications (signature, issuer, times, audience)."""

    checks = 0

    def _check(self, token: str) -> dict:
        self.checks += 1
        return super()._check(token)


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


def verifier(issuer: TestIssuer, **kw) -> CountingVerifier:
    return CountingVerifier(issuer.issuer, key_source=issuer.jwks, **kw)


def test_a_repeated_token_is_verified_once_and_gives_the_same_caller(issuer):
    v = verifier(issuer)
    token = issuer.token(**CITY, roles=("admin",), username="sq_admin")
    first = v.principal(token)
    for _ in range(5):
        assert v.principal(token) == first
    assert v.claims(token)["preferred_username"] == "sq_admin"
    assert v.checks == 1
    other = issuer.token(**CITY, roles=("viewer",), username="sq_viewer")
    assert v.principal(other).roles == frozenset({"viewer"})
    assert v.checks == 2


def test_an_altered_payload_under_a_cached_signature_is_refused(issuer):
    v = verifier(issuer)
    token = issuer.token(**CITY, roles=("viewer",))
    v.principal(token)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["realm_access"] = {"roles": ["admin"]}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthenticated):
        v.principal(f"{header}.{forged}.{signature}")
    assert v.principal(token).roles == frozenset({"viewer"})


def test_a_cached_token_is_refused_once_it_expires(issuer, monkeypatch):
    v = verifier(issuer, leeway=0)
    token = issuer.token(**CITY, lifetime=60)
    v.principal(token)
    import kepu_common.auth as auth

    real = auth.time.time
    monkeypatch.setattr(auth.time, "time", lambda: real() + 61)
    with pytest.raises(Unauthenticated, match="过期"):
        v.principal(token)


def test_a_token_of_another_issuer_is_refused_even_when_a_valid_one_is_cached(issuer):
    v = verifier(issuer)
    v.principal(issuer.token(**CITY))
    stranger = TestIssuer(issuer.issuer)  # same issuer name, a key the JWKS does not hold
    with pytest.raises(Unauthenticated):
        v.principal(stranger.token(**CITY))
