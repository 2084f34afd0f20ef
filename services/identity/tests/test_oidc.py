"""The embedded provider: MFA for admins, key rotation, lockout, account password change."""

import pyotp
import pytest
from kepu_common.db import Scope
from kepu_identity import seed
from sqlalchemy import text

from .conftest import ADMIN, ISSUER, make_identity

TOKEN = "/auth/realms/kepu/protocol/openid-connect/token"


def password_grant(client, username, password, **extra):
    return client.post(
        TOKEN,
        data={
            "grant_type": "password",
            "client_id": "kepu-cli",
            "username": username,
            "password": password,
            **extra,
        },
    )


def test_discovery_and_jwks_match_keycloak_layout(oidc):
    d = oidc.get("/auth/realms/kepu/.well-known/openid-configuration").json()
    assert d["issuer"] == ISSUER
    assert d["jwks_uri"].endswith("/protocol/openid-connect/certs")
    keys = oidc.get("/auth/realms/kepu/protocol/openid-connect/certs").json()["keys"]
    assert keys and all(k["kty"] == "RSA" and "d" not in k for k in keys)


def test_rotation_keeps_tokens_in_flight_valid(ident, oidc):
    before = password_grant(oidc, *ADMIN).json()["access_token"]
    old_kids = {
        k["kid"] for k in oidc.get("/auth/realms/kepu/protocol/openid-connect/certs").json()["keys"]
    }
    ident.keys.rotate_now()
    after = password_grant(oidc, *ADMIN).json()["access_token"]
    kids = {
        k["kid"] for k in oidc.get("/auth/realms/kepu/protocol/openid-connect/certs").json()["keys"]
    }
    assert kids > old_kids  # a new key, the old one still published
    verifier = ident.verifier
    verifier._keys = None  # noqa: SLF001 - as a fresh gateway would
    assert verifier.claims(before)["sub"] == verifier.claims(after)["sub"]


def test_wrong_client_and_unsupported_grant_are_oauth_errors(oidc):
    r = oidc.post(
        TOKEN,
        data={"grant_type": "password", "client_id": "nope", "username": "a", "password": "b"},
    )
    assert r.status_code == 401 and r.json()["error"] == "unauthorized_client"
    r = oidc.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "kepu-cli"})
    assert r.json()["error"] == "unauthorized_client" and r.json()["detail"]


def test_admin_needs_totp_when_mfa_is_required(identity_db):
    strict = make_identity(identity_db, ADMIN_MFA="required")
    seed.seed_admin(strict.db, "mfa_admin", "Mfa@Admin2026", tenant_code="411300")
    client = __import__("fastapi.testclient", fromlist=["TestClient"]).TestClient(strict.oidc_app())
    r = password_grant(client, "mfa_admin", "Mfa@Admin2026")
    assert r.status_code == 400 and r.json()["error_description"] == "Account is not fully set up"
    account = strict.accounts.check_password("mfa_admin", "Mfa@Admin2026")
    secret = pyotp.random_base32()
    assert strict.accounts.enable_totp(account, secret, pyotp.TOTP(secret).now())
    assert password_grant(client, "mfa_admin", "Mfa@Admin2026").json()["error"] == "invalid_grant"
    ok = password_grant(client, "mfa_admin", "Mfa@Admin2026", totp=pyotp.TOTP(secret).now())
    assert ok.status_code == 200 and ok.json()["access_token"]


def test_lockout_after_five_failures_and_password_change_is_lockout_aware(ident, oidc):
    seed.seed_admin(ident.db, "lock_me", "Lock@Me2026x", tenant_code="410500")
    statuses = [password_grant(oidc, "lock_me", "Wrong@Pass2026").status_code for _ in range(5)]
    assert statuses == [401] * 5  # the fifth failure locks, and says no more than the others
    r = password_grant(oidc, "lock_me", "Lock@Me2026x")
    assert r.status_code == 401  # even the right password, answered like a wrong one
    assert r.json()["error_description"] == "Invalid user credentials"
    change = oidc.post(
        "/auth/realms/kepu/account/password",
        json={
            "username": "lock_me",
            "currentPassword": "Lock@Me2026x",
            "newPassword": "New@Pass2026x",
        },
    )
    assert change.status_code in (400, 401, 403) and change.headers["content-type"].startswith(
        "application/problem+json"
    )
    with ident.db.unit_of_work(Scope.system_scope()) as s:  # after 15 minutes ...
        s.execute(
            text(
                "UPDATE users SET locked_until = now() - interval '1 second' WHERE username = 'lock_me'"
            )
        )
    assert password_grant(oidc, "lock_me", "Lock@Me2026x").status_code == 200


@pytest.mark.parametrize("bad", [b"not json", b"[1,2]", b'{"username": "x"}'])
def test_account_password_rejects_bad_bodies_with_problem_details(oidc, bad):
    r = oidc.post(
        "/auth/realms/kepu/account/password",
        content=bad,
        headers={"content-type": "application/json"},
    )
    assert r.status_code in (400, 422)
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["detail"]


def test_unknown_realm_and_bogus_logout_answer_like_keycloak(oidc):
    r = oidc.get("/auth/realms/other/.well-known/openid-configuration")
    assert (
        r.status_code == 404 and r.json()["error"] == "Realm does not exist" and r.json()["detail"]
    )
    r = oidc.post(
        "/auth/realms/kepu/protocol/openid-connect/logout",
        data={"client_id": "kepu-cli", "refresh_token": "kr.not-a-session"},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_refresh_tokens_rotate_and_die_after_thirty_idle_minutes(ident, oidc):
    first = password_grant(oidc, *ADMIN).json()
    second = oidc.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": "kepu-cli",
            "refresh_token": first["refresh_token"],
        },
    ).json()
    assert second["refresh_token"] != first["refresh_token"]
    old = oidc.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": "kepu-cli",
            "refresh_token": first["refresh_token"],
        },
    )
    assert old.status_code == 400  # the rotated-out token no longer works
    second = password_grant(oidc, *ADMIN).json()  # (its reuse ended that session: a new one)
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        s.execute(
            text(
                "UPDATE sso_sessions SET last_refresh = now() - interval '31 minutes'"
                " WHERE id = CAST(:i AS uuid)"
            ),
            {"i": second["session_state"]},
        )
    idle = oidc.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": "kepu-cli",
            "refresh_token": second["refresh_token"],
        },
    )
    assert idle.status_code == 400 and "30" in idle.json()["detail"]
