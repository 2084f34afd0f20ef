"""Helpers for end-to-end tests that drive a running stack through its public API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from .stack import Stack

T = TypeVar("T")


def eventually(fn: Callable[[], T], what: str, timeout: float = 45.0, every: float = 0.5) -> T:
    """Poll ``fn`` until it returns something truthy and return that; fail naming ``what``
    after ``timeout`` seconds (a bound, not a guess at how fast the machine is)."""
    end = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() >= end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(every)


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
