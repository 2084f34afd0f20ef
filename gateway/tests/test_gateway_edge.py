"""The gateway's edge, in-process: problem details, limits, request ids, trace context, token checks."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from kepu_devstack.tokens import TestIssuer
from kepu_gateway.app import create_app
from kepu_gateway.settings import GatewaySettings

ISSUER = "http://kepu.test/auth/realms/kepu"


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer(ISSUER)


def client_for(issuer: TestIssuer, **env: str) -> TestClient:
    settings = GatewaySettings(OIDC_ISSUER=ISSUER, **env)  # type: ignore[call-arg]
    app = create_app(settings)
    app.state.verifier = issuer.verifier()
    return TestClient(app)


def is_problem(r, status: int) -> bool:  # type: ignore[no-untyped-def]
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    )


def token(issuer: TestIssuer, **kw: object) -> str:
    base: dict[str, object] = {
        "tenant_id": "t1",
        "tenant_path": "410000",
        "tenant_kind": "province",
    }
    return issuer.token(**{**base, **kw})  # type: ignore[arg-type]


def test_oversize_bodies_are_refused_before_reaching_a_service(issuer):
    c = client_for(issuer, GATEWAY_MAX_BODY_BYTES="1000")
    r = c.post(
        "/api/v1/tenants/x/children",
        content=b"x" * 2000,
        headers={"Authorization": f"Bearer {token(issuer)}", "content-type": "application/json"},
    )
    assert is_problem(r, 413)
    assert r.headers["x-request-id"]


def test_rate_limit_per_user_answers_429_with_retry_after(issuer):
    c = client_for(issuer, GATEWAY_RATE_LIMIT_PER_MINUTE="3")
    h = {"Authorization": "Bearer not.a.token"}
    codes = [c.get("/api/v1/tenants/me", headers=h).status_code for _ in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    r = c.get("/api/v1/tenants/me", headers=h)
    assert is_problem(r, 429) and r.headers["retry-after"] == "60"


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"lifetime": -120}, "过期"),
        ({"aud": ["someone-else"]}, "受众"),
        ({"iss": "http://evil.test/auth/realms/kepu"}, "签发方"),
        ({"tenant_path": ""}, "单位"),
    ],
)
def test_expired_wrong_audience_wrong_issuer_and_tenantless_tokens_are_401(issuer, claims, why):
    c = client_for(issuer)
    r = c.get("/api/v1/tenants/me", headers={"Authorization": f"Bearer {token(issuer, **claims)}"})
    assert is_problem(r, 401) and why in r.json()["detail"]


def test_partner_tokens_open_only_the_partner_api(issuer):
    c = client_for(issuer)
    bank = token(issuer, roles=("partner",), username="service-account-bank")
    r = c.get("/api/v1/tenants/me", headers={"Authorization": f"Bearer {bank}"})
    assert is_problem(r, 403) and "/partner/v1" in r.json()["detail"]


def test_request_id_is_echoed_and_trace_context_continued(issuer):
    c = client_for(issuer)
    parent = "00-" + "c" * 32 + "-" + "d" * 16 + "-01"
    r = c.get("/healthz", headers={"x-request-id": "abc123", "traceparent": parent})
    assert r.headers["x-request-id"] == "abc123"
    assert r.headers["traceparent"].startswith("00-" + "c" * 32)


def test_unknown_paths_and_bad_json_are_chinese_problems(issuer):
    c = client_for(issuer)
    assert is_problem(c.get("/nothing-here"), 404)
    h = {"Authorization": f"Bearer {token(issuer)}", "content-type": "application/json"}
    r = c.post("/api/v1/tenants/x/children", content=b"{not json", headers=h)
    assert is_problem(r, 422)
    r = c.post(
        "/api/v1/tenants/x/children", json={"code": "1", "name": "x", "kind": "planet"}, headers=h
    )
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "kind"


def test_a_service_that_is_down_is_a_503_not_a_500(issuer, monkeypatch):
    monkeypatch.setenv("IDENTITY_GRPC_TARGET", "127.0.0.1:9")  # nothing listens there
    from kepu_gateway import grpc_clients

    grpc_clients.close_all()
    c = client_for(issuer)
    started = time.monotonic()
    r = c.get("/api/v1/tenants/me", headers={"Authorization": f"Bearer {token(issuer)}"})
    assert is_problem(r, 503) or is_problem(r, 504)
    assert time.monotonic() - started < 30  # the deadline bounds the wait
    grpc_clients.close_all()


def test_field_errors_name_fields_by_their_chinese_labels(issuer):
    c = client_for(issuer)
    h = {"Authorization": f"Bearer {token(issuer)}"}
    cases = [
        (
            c.post("/api/v1/reports/monthly/2026-01/t2/return", json={"reason": ""}, headers=h),
            ["退回理由不能为空"],
            ["reason"],
        ),
        (
            c.post("/api/v1/partners", json={"name": "某", "scopes": []}, headers=h),
            ["合作机构名称至少需要2个字", "接口权限至少需要1项"],
            ["name", "scopes"],
        ),
        (
            c.post(
                "/api/v1/calls",
                json={
                    "title": "批次",
                    "programme": "科普示范社区",
                    "deadline": "2026-06-30",
                    "criteria": [{"name": "科学性", "weight": "很重"}],
                },
                headers=h,
            ),
            ["评审指标第1项的权重须为数字"],
            ["criteria.0.weight"],
        ),
        (
            c.get("/api/v1/projects", params={"limit": 0}, headers=h),
            ["每页条数不能小于1"],
            ["query.limit"],
        ),
    ]
    for r, phrases, fields in cases:
        assert is_problem(r, 422), r.text
        detail = r.json()["detail"]
        assert all(p in detail for p in phrases), detail
        assert not any(f.split(".")[-1] in detail for f in fields), detail  # no identifiers
        assert [e["field"] for e in r.json()["errors"]] == fields
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e["label"]) for e in r.json()["errors"])
