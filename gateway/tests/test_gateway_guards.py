"""Holes found by attack, closed at the edge (in-process): chunked bodies over the limit,
NUL characters and deep nesting in JSON, forged forwarding headers, invented bearer values
as fresh rate-limit buckets, and browser protections on HTML."""

from __future__ import annotations

import json

from kepu_gateway import guards
from test_gateway_edge import client_for, is_problem, issuer, token

__all__ = ["issuer"]  # the fixture


def chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b"x" * n


def test_a_chunked_body_over_the_limit_is_refused_without_a_token(issuer):
    c = client_for(issuer, GATEWAY_MAX_BODY_BYTES="100000")
    r = c.post("/api/v1/talents/import", content=chunks(300_000))  # no Content-Length
    assert is_problem(r, 413) and "上限" in r.json()["detail"]
    r = c.post("/auth/realms/kepu/protocol/openid-connect/token", content=chunks(300_000))
    assert is_problem(r, 413)


def test_a_chunked_body_under_the_limit_still_reaches_the_endpoint(issuer):
    c = client_for(issuer, GATEWAY_MAX_BODY_BYTES="100000")
    h = {"Authorization": f"Bearer {token(issuer)}", "content-type": "application/json"}
    body = json.dumps({"code": "1", "name": "x", "kind": "planet"}).encode()
    r = c.post("/api/v1/tenants/x/children", content=iter([body[:5], body[5:]]), headers=h)
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "kind"  # parsed whole


def test_nul_characters_anywhere_in_json_are_a_chinese_422(issuer):
    c = client_for(issuer)
    h = {"Authorization": f"Bearer {token(issuer)}"}
    for doc in ({"name": "南阳\u0000市"}, {"items": [{"a\u0000": 1}]}, ["x", ["\u0000"]]):
        r = c.post("/api/v1/tenants/x/children", json=doc, headers=h)
        assert is_problem(r, 422) and "空字符" in r.json()["detail"], doc
    r = c.get("/api/v1/talents", params={"q": "王\x00"}, headers=h)
    assert is_problem(r, 422) and "空字符" in r.json()["detail"]


def test_deeply_nested_json_is_a_chinese_422(issuer):
    c = client_for(issuer)
    h = {"Authorization": f"Bearer {token(issuer)}", "content-type": "application/json"}
    for depth in (guards.MAX_JSON_DEPTH + 1, 100_000):  # the second breaks json's recursion
        body = b'{"values":' + b"[" * depth + b"]" * depth + b"}"
        r = c.put("/api/v1/reports/monthly/2026-01", content=body, headers=h)
        assert is_problem(r, 422) and "嵌套" in r.json()["detail"], depth


def test_forwarded_for_is_ignored_unless_the_peer_is_a_configured_proxy():
    proxies = guards.parse_networks("10.0.0.0/8")
    assert guards.client_address("203.0.113.9", "1.2.3.4", ()) == "203.0.113.9"
    assert guards.client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9"
    # behind our proxy: the address the proxy saw, not what the client wrote further left
    assert guards.client_address("10.0.0.5", "6.6.6.6, 198.51.100.7", proxies) == "198.51.100.7"
    assert guards.client_address("10.0.0.5", "198.51.100.7, 10.0.0.9", proxies) == "198.51.100.7"


def test_random_bearer_values_share_their_senders_budget(issuer):
    c = client_for(issuer, GATEWAY_RATE_LIMIT_PER_MINUTE="3")
    codes = [
        c.get("/api/v1/tenants/me", headers={"Authorization": f"Bearer forged{i:020d}"}).status_code
        for i in range(5)
    ]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    # a verified user has a budget of their own, whatever the address
    c2 = client_for(issuer, GATEWAY_RATE_LIMIT_PER_MINUTE="3")
    a, b = token(issuer, username="a"), token(issuer, username="b")
    for _ in range(3):
        assert c2.get("/healthz").status_code == 200
    over_a = [c2.get("/api/v1/nothing", headers={"Authorization": f"Bearer {a}"}) for _ in range(4)]
    assert over_a[-1].status_code == 429
    fresh_b = c2.get("/api/v1/nothing", headers={"Authorization": f"Bearer {b}"})
    assert fresh_b.status_code != 429
    # a new token of the same user is no new budget
    again_a = c2.get(
        "/api/v1/nothing", headers={"Authorization": f"Bearer {token(issuer, username='a')}"}
    )
    assert again_a.status_code == 429


def test_html_answers_carry_csp_frame_denial_and_nosniff(issuer):
    c = client_for(issuer)
    r = c.get("/docs")
    assert r.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"]
    assert c.get("/healthz").headers["x-content-type-options"] == "nosniff"
    headers = guards.with_security_headers([(b"content-type", b"text/html; charset=utf-8")], "/")
    policy = dict(headers)[b"content-security-policy"].decode()
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
