"""Sign-in answers that give nothing away, TOTP failures that count, and throttling per
source address and per username on the embedded provider."""

from __future__ import annotations

import secrets
import statistics
import time

import pyotp
from kepu_identity import seed

from .test_oidc import TOKEN


def timed_grant(oidc, username: str, password: str, address: str):
    started = time.perf_counter()
    r = oidc.post(
        TOKEN,
        data={
            "grant_type": "password",
            "client_id": "kepu-cli",
            "username": username,
            "password": password,
        },
        headers={"X-Forwarded-For": address},
    )
    return r, time.perf_counter() - started


def fresh_address() -> str:
    return f"198.51.100.{secrets.randbelow(250) + 1}"  # TEST-NET-2, one per test


def test_a_locked_account_answers_like_an_unknown_name_at_the_same_cost(ident, oidc):
    seed.seed_admin(ident.db, "locked_one", "Locked@One2026", tenant_code="410600")
    address = fresh_address()
    for _ in range(5):
        timed_grant(oidc, "locked_one", "Wrong@Pass2026", address)
    locked, unknown = [], []
    for _ in range(3):
        r_locked, t_locked = timed_grant(oidc, "locked_one", "Locked@One2026", address)
        r_unknown, t_unknown = timed_grant(
            oidc, "nobody_" + secrets.token_hex(3), "X@y2026abc", address
        )
        locked.append(t_locked)
        unknown.append(t_unknown)
        assert (r_locked.status_code, r_locked.json()) == (r_unknown.status_code, r_unknown.json())
    assert r_locked.status_code == 401
    assert r_locked.json()["error_description"] == "Invalid user credentials"
    ratio = statistics.median(locked) / statistics.median(unknown)
    assert 0.5 < ratio < 2.0, (locked, unknown)  # a password hash checked either way


def test_wrong_totp_codes_count_towards_the_lockout(ident, oidc):
    seed.seed_admin(ident.db, "totp_one", "Totp@One2026x", tenant_code="410700")
    account = ident.accounts.check_password("totp_one", "Totp@One2026x")
    secret = pyotp.random_base32()
    assert ident.accounts.enable_totp(account, secret, pyotp.TOTP(secret).now())
    address = fresh_address()
    for _ in range(5):  # the right password, a wrong second factor
        r = oidc.post(
            TOKEN,
            data={
                "grant_type": "password",
                "client_id": "kepu-cli",
                "username": "totp_one",
                "password": "Totp@One2026x",
                "totp": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111",
            },
            headers={"X-Forwarded-For": address},
        )
        assert r.status_code == 401
    r = oidc.post(
        TOKEN,
        data={
            "grant_type": "password",
            "client_id": "kepu-cli",
            "username": "totp_one",
            "password": "Totp@One2026x",
            "totp": pyotp.TOTP(secret).now(),
        },
        headers={"X-Forwarded-For": address},
    )
    assert r.status_code == 401  # locked by the five wrong codes, even with both right


def test_an_address_guessing_many_names_is_throttled_with_429(oidc):
    address = fresh_address()
    codes = [
        timed_grant(oidc, f"guess_{i}_{secrets.token_hex(2)}", "Wrong@Pass2026", address)[0]
        for i in range(31)
    ]
    assert [r.status_code for r in codes[:30]] == [401] * 30
    r = codes[30]
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    assert "稍后" in r.json()["detail"] and int(r.headers["retry-after"]) > 0
    # the same guess from another address is still heard
    assert timed_grant(oidc, "guess_other", "Wrong@Pass2026", fresh_address())[0].status_code == 401


def test_one_username_tried_from_many_addresses_is_throttled_on_every_path(oidc):
    name = "target_" + secrets.token_hex(3)
    for i in range(10):
        r, _ = timed_grant(oidc, name, "Wrong@Pass2026", f"203.0.113.{i + 1}")
        assert r.status_code == 401
    assert timed_grant(oidc, name, "Wrong@Pass2026", "203.0.113.99")[0].status_code == 429
    change = oidc.post(
        "/auth/realms/kepu/account/password",
        json={"username": name, "currentPassword": "x", "newPassword": "New@Pass2026x"},
        headers={"X-Forwarded-For": "203.0.113.100"},
    )
    assert change.status_code == 429


def test_the_portal_is_sent_back_only_to_its_exact_addresses(oidc):
    def authorize(redirect: str):
        return oidc.get(
            "/auth/realms/kepu/protocol/openid-connect/auth",
            params={
                "client_id": "kepu-portal",
                "redirect_uri": redirect,
                "response_type": "code",
                "scope": "openid",
                "state": "s",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            },
        )

    assert authorize("http://kepu.test/app/callback").status_code == 200
    for wrong in (
        "http://kepu.test/app/anything",  # another page of the origin
        "http://kepu.test/app/callback/../../evil",
        "http://kepu.test/app/callback?next=http://evil.example",
        "http://kepu.test.evil.example/app/callback",
    ):
        r = authorize(wrong)
        assert r.status_code == 400 and "未登记" in r.text, wrong


def refresh(oidc, token: str):
    return oidc.post(
        TOKEN,
        data={"grant_type": "refresh_token", "client_id": "kepu-cli", "refresh_token": token},
    )


def test_a_reused_refresh_token_ends_the_whole_session(ident, oidc):
    seed.seed_admin(ident.db, "refresh_one", "Refresh@One2026", tenant_code="410800")
    first = oidc.post(
        TOKEN,
        data={
            "grant_type": "password",
            "client_id": "kepu-cli",
            "username": "refresh_one",
            "password": "Refresh@One2026",
        },
    ).json()
    second = refresh(oidc, first["refresh_token"]).json()  # the user's client rotates ...
    stolen = refresh(oidc, first["refresh_token"])  # ... and a copy of the old one comes back
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # the whole family is gone: the current refresh token and the session's access tokens
    assert refresh(oidc, second["refresh_token"]).status_code == 400
    me = oidc.get(
        "/auth/realms/kepu/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {second['access_token']}"},
    )
    assert me.status_code == 401
    # a forged token naming the session cannot end anyone's session
    assert refresh(oidc, "kr." + "A" * 60).status_code == 400
