"""Helpers for end-to-end tests that drive a running stack through its public API."""

from __future__ import annotations

import httpx

from .stack import Stack


def api(stack: Stack, token: str) -> httpx.Client:
    """An HTTP client on the gateway that sends ``token`` as the bearer."""
    return httpx.Client(
        base_url=stack.gateway_url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    )


def issue_accounts(
    stack: Stack, parent_token: str, parent_id: str, codes: list[str], password: str
) -> dict[str, str]:
    """Issue (or re-issue) the admin accounts of ``codes`` below ``parent_id`` the way a clerk
    does (the one-time sheet, then the forced password change); returns code -> access token."""
    client = api(stack, parent_token)
    kids = {k["code"]: k for k in client.get(f"/api/v1/tenants/{parent_id}/children").json()}
    r = client.post(
        f"/api/v1/tenants/{parent_id}/credentials",
        headers={"Accept": "application/json"},
        json={"scope": "children", "reset_tenant_ids": [kids[c]["id"] for c in codes]},
    )
    assert r.status_code == 200, r.text
    issued = {c["tenant_code"]: c for c in r.json()["issued"]}
    tokens = {}
    for code in codes:
        c = issued[code]
        ok = httpx.post(
            f"{stack.issuer}/account/password",
            json={
                "username": c["username"],
                "currentPassword": c["initial_password"],
                "newPassword": password,
            },
        )
        assert ok.status_code == 204, ok.text
        tokens[code] = stack.login(c["username"], password)
    return tokens
