"""Attacks on the public edge of a running stack: oversized chunked bodies without a token,
NUL characters and deep nesting in JSON, browser protections on the HTML we serve."""

from __future__ import annotations

import httpx
import pytest
from kepu_devstack.e2e import api

pytestmark = pytest.mark.e2e


def chinese_problem(r: httpx.Response, status: int) -> bool:
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    )


def test_a_chunked_upload_past_the_limit_is_refused_without_a_token(stack):
    def body():  # 51 MB in 1 MB chunks: no Content-Length to check up front
        for _ in range(51):
            yield b"x" * (1024 * 1024)

    r = httpx.post(f"{stack.gateway_url}/api/v1/talents/import", content=body(), timeout=120)
    assert chinese_problem(r, 413)


def test_nul_characters_and_deep_nesting_are_a_chinese_422_not_a_5xx(stack):
    client = api(stack, stack.admin_token())
    me = client.get("/api/v1/tenants/me").json()
    r = client.post(
        f"/api/v1/tenants/{me['id']}/children",
        json={"code": "419999", "name": "测试\u0000单位", "kind": "city"},
    )
    assert chinese_problem(r, 422) and "空字符" in r.json()["detail"]
    nested = '{"values": {"narrative": ' + "[" * 5000 + "]" * 5000 + "}}"
    r = client.put(
        "/api/v1/reports/monthly/2026-01",
        content=nested,
        headers={"content-type": "application/json"},
    )
    assert chinese_problem(r, 422) and "嵌套" in r.json()["detail"]
    assert client.get(f"/api/v1/tenants/{me['id']}/children").status_code == 200


def test_the_pages_we_serve_cannot_be_framed_or_sniffed(stack):
    checked = []
    for path in ("/app/", "/app/talents"):
        r = httpx.get(f"{stack.gateway_url}{path}", follow_redirects=False, timeout=30)
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        checked.append(path)
        policy = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"]
    assert checked, "no HTML page found to check"
