"""The browser's sign-in session on the embedded provider (Keycloak's KEYCLOAK_IDENTITY): an
app that keeps its tokens in memory gets new ones after a reload without the password, until
the user signs out; a copied cookie does not outlive the session."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from fastapi.testclient import TestClient
from joserfc import jwt
from kepu_identity import seed

from .test_oidc import TOKEN

AUTH = "/auth/realms/kepu/protocol/openid-connect/auth"
LOGOUT = "/auth/realms/kepu/protocol/openid-connect/logout"
CALLBACK = "http://kepu.test/app/callback"


def authorize(browser: TestClient, **extra: str) -> tuple[dict[str, str], str]:
    """Start a code flow; the request's parameters and the PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    params = {
        "client_id": "kepu-portal",
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid profile",
        "state": secrets.token_hex(4),
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
        **extra,
    }
    return params, verifier


def code_of(response, state: str) -> str:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?") and f"state={state}" in location
    return re.search(r"code=([^&]+)", location).group(1)  # type: ignore[union-attr]


def exchange(browser: TestClient, code: str, verifier: str) -> dict[str, str]:
    r = browser.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "client_id": "kepu-portal",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def username_of(ident, tokens: dict[str, str]) -> str:
    return str(jwt.decode(tokens["access_token"], ident.keys.keyset()).claims["preferred_username"])


def test_a_reload_signs_in_again_without_the_password_until_sign_out(ident, oidc):
    seed.seed_admin(ident.db, "sso_one", "Sso@One2026xy", tenant_code="410900")
    browser = TestClient(oidc.app, follow_redirects=False)

    params, verifier = authorize(browser)
    assert "kc-login" in browser.get(AUTH, params=params).text  # no session yet: the page
    signed_in = browser.post(
        AUTH, data={**params, "username": "sso_one", "password": "Sso@One2026xy"}
    )
    cookie = signed_in.headers["set-cookie"]
    assert "KEPU_SSO=" in cookie and "HttpOnly" in cookie and "Path=/auth/realms/kepu/" in cookie
    first = exchange(browser, code_of(signed_in, params["state"]), verifier)

    # The app reloads: its tokens are gone; the provider answers with a code, no page.
    params, verifier = authorize(browser)
    again = exchange(browser, code_of(browser.get(AUTH, params=params), params["state"]), verifier)
    assert username_of(ident, again) == "sso_one" and again["access_token"] != first["access_token"]

    # Asked to show the page, or another browser without the cookie: the password is needed.
    params, _ = authorize(browser, prompt="login")
    assert "kc-login" in browser.get(AUTH, params=params).text
    stranger = TestClient(oidc.app, follow_redirects=False)
    params, _ = authorize(stranger)
    assert "kc-login" in stranger.get(AUTH, params=params).text
    stranger.cookies.set("KEPU_SSO", "forged" + browser.cookies["KEPU_SSO"][6:])
    assert "kc-login" in stranger.get(AUTH, params=params).text
    params, _ = authorize(stranger, prompt="none")  # a silent attempt gets an error, not a page
    silent = stranger.get(AUTH, params=params)
    assert silent.status_code == 302 and "error=login_required" in silent.headers["location"]

    # Sign-out through the provider ends it; a copy of the cookie kept from before is worthless.
    copied = browser.cookies["KEPU_SSO"]
    out = browser.get(
        LOGOUT,
        params={
            "id_token_hint": again["id_token"],
            "post_logout_redirect_uri": "http://kepu.test/app/logged-out",
            "client_id": "kepu-portal",
        },
    )
    assert out.status_code == 302 and 'KEPU_SSO=""' in out.headers["set-cookie"]
    params, _ = authorize(browser)
    assert "kc-login" in browser.get(AUTH, params=params).text
    stranger.cookies.set("KEPU_SSO", copied)
    params, _ = authorize(stranger)
    assert "kc-login" in stranger.get(AUTH, params=params).text
