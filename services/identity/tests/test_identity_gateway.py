"""Identity behind the gateway's REST routers, over a real gRPC server and database: the audit
log's newest entries and a partner's own registration state (ResolvePartner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from kepu.identity.v1 import identity_pb2_grpc as pbg
from kepu.talent.v1 import talent_pb2
from kepu_common.consumer import handle_once
from kepu_common.db import Scope
from kepu_common.grpcio import make_server
from kepu_common.outbox import build_envelope
from kepu_devstack.tokens import TestIssuer
from kepu_identity import consumers
from kepu_identity import repository as repo
from kepu_identity.grpc_api import (
    CredentialServicer,
    PartnerServicer,
    TenantServicer,
    UserServicer,
)
from kepu_identity.partners import StaffTokenVerifier
from sqlalchemy import create_engine, text

from .conftest import ISSUER, MIGRATIONS, principal_of


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer(ISSUER)


@pytest.fixture(scope="module")
def gateway(ident, issuer):
    from kepu_gateway import grpc_clients
    from kepu_gateway.app import create_app
    from kepu_gateway.settings import GatewaySettings

    # the verifier identity runs with: staff tokens everywhere, partner tokens refused
    verifier = StaffTokenVerifier(ISSUER, key_source=issuer.jwks)
    server, port = make_server(0)
    pbg.add_TenantServiceServicer_to_server(TenantServicer(verifier, ident.db), server)
    pbg.add_UserServiceServicer_to_server(UserServicer(verifier, ident.db), server)
    pbg.add_PartnerServiceServicer_to_server(PartnerServicer(verifier, ident.partners), server)
    pbg.add_CredentialServiceServicer_to_server(
        CredentialServicer(verifier, ident.distributor), server
    )
    server.start()
    mp = pytest.MonkeyPatch()
    mp.setenv("IDENTITY_GRPC_TARGET", f"127.0.0.1:{port}")
    grpc_clients.close_all()
    app = create_app(GatewaySettings(OIDC_ISSUER=ISSUER))  # type: ignore[call-arg]
    app.state.verifier = issuer.verifier()
    with TestClient(app) as c:
        yield c
    grpc_clients.close_all()
    mp.undo()
    server.stop(0)


def staff(ident, issuer, code: str) -> dict[str, str]:
    p = principal_of(ident, code)
    token = issuer.token(
        tenant_id=p.tenant_id,
        tenant_path=p.tenant_path,
        tenant_kind=p.tenant_kind,
        roles=("admin",),
        username=p.username,
    )
    return {"Authorization": f"Bearer {token}"}


def test_the_audit_log_lists_the_newest_entries_first(ident, service_database, gateway, issuer):
    county = principal_of(ident, "411523")  # 新县: nobody else writes here
    owner_url, _ = service_database("identity", MIGRATIONS)
    engine = create_engine(owner_url)
    with engine.begin() as conn:  # let the ids cross a power of ten (…98, 99, 100, 101 …)
        last = conn.execute(text("SELECT last_value FROM audit_log_id_seq")).scalar_one()
        start = 10 ** len(str(last + 20)) - 6
        conn.execute(text("SELECT setval('audit_log_id_seq', :v)"), {"v": start})
    engine.dispose()
    for i in range(12):  # one transaction each, as every audited action is
        with ident.db.unit_of_work(Scope.tenant(county.tenant_path)) as s:
            repo.audit(
                s,
                tenant_id=county.tenant_id,
                tenant_path=county.tenant_path,
                action="test_entry",
                actor="tester",
                details={"seq": str(i)},
            )
    r = gateway.get(
        "/api/v1/audit",
        params={"tenant_id": county.tenant_id, "limit": 10},
        headers=staff(ident, issuer, "411500"),  # 信阳, the county's city
    )
    assert r.status_code == 200, r.text
    entries = r.json()
    assert [e["details"]["seq"] for e in entries] == [str(i) for i in range(11, 1, -1)]
    times = [e["occurred_at"] for e in entries]
    assert times == sorted(times, reverse=True)
    ids = [int(e["id"]) for e in entries]
    assert ids == sorted(ids, reverse=True) and ids[0] >= 10 ** len(str(start)) > ids[-1]


def revealed(county, *, talent_id: str, actor: str, export_root: str = "", ip: str = ""):
    """The event the talent service records when someone sees full personal data."""
    return build_envelope(
        event_type="talent.personal_data_revealed",
        tenant_id=county.tenant_id,
        tenant_path=county.tenant_path,
        actor=f"sub-{actor}",
        payload=talent_pb2.PersonalDataRevealed(
            talent_id=talent_id,
            fields=["phone", "id_number"],
            actor=f"sub-{actor}",
            actor_username=actor,
            actor_tenant_path=county.tenant_path,
            count=3 if export_root else 1,
            export_root=export_root,
            client_ip=ip,
        ),
    )


def test_views_exports_and_partner_accesses_of_talent_data_are_in_the_audit_log(
    ident, gateway, issuer
):
    county = principal_of(ident, "411381")  # 邓州市 (南阳): nobody else writes here
    talent_id = "7b4e7a52-52d4-4a57-9a8f-3f1b6a0d2c11"
    view = revealed(county, talent_id=talent_id, actor="reviewer-dengzhou", ip="10.1.2.3")
    export = revealed(
        county, talent_id="", actor="reviewer-dengzhou", export_root=county.tenant_path
    )
    bank = build_envelope(
        event_type="talent.partner_accessed",
        tenant_id=county.tenant_id,
        tenant_path=county.tenant_path,
        actor="sub-bank",
        payload=talent_pb2.PartnerAccessed(
            partner_client_id="bank-audit-test",
            talent_ids=[talent_id],
            action="list",
            client_ip="10.9.9.9",
        ),
    )
    for env in (view, export, bank):
        assert handle_once(ident.db, consumers.AUDIT_CONSUMER, env, consumers.handle_audited_event)
        # a redelivery writes nothing
        assert not handle_once(
            ident.db, consumers.AUDIT_CONSUMER, env, consumers.handle_audited_event
        )

    nanyang = staff(ident, issuer, "411300")
    r = gateway.get("/api/v1/audit", params={"tenant_id": county.tenant_id}, headers=nanyang)
    assert r.status_code == 200, r.text
    wanted = {"personal_data_viewed", "personal_data_exported", "partner_access"}
    entries = {e["action"]: e for e in r.json() if e["action"] in wanted}
    assert set(entries) == wanted and len([e for e in r.json() if e["action"] in wanted]) == 3
    seen = entries["personal_data_viewed"]
    assert seen["actor"] == "reviewer-dengzhou" and seen["client_ip"] == "10.1.2.3"
    assert seen["object"] == f"talent:{talent_id}"
    assert seen["summary"] == "查看了人才的完整个人信息（手机号、身份证号）"
    assert seen["occurred_at"].endswith("+08:00")
    assert datetime.fromisoformat(seen["occurred_at"]).utcoffset() == timedelta(hours=8)
    assert entries["personal_data_exported"]["summary"].startswith("导出了 3 名人才")
    assert entries["partner_access"]["actor"] == "bank-audit-test"
    assert entries["partner_access"]["client_ip"] == "10.9.9.9"
    assert "涉及 1 名人才" in entries["partner_access"]["summary"]

    # filters and paging
    one = gateway.get(
        "/api/v1/audit",
        params={"tenant_id": county.tenant_id, "action": "partner_access"},
        headers=nanyang,
    ).json()
    assert [e["action"] for e in one] == ["partner_access"]
    by_user = gateway.get(
        "/api/v1/audit",
        params={
            "tenant_id": county.tenant_id,
            "username": "reviewer-dengzhou",
            "limit": 1,
            "offset": 1,
        },
        headers=nanyang,
    )
    assert by_user.headers["X-Total-Count"] == "2" and len(by_user.json()) == 1
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    none = gateway.get(
        "/api/v1/audit", params={"tenant_id": county.tenant_id, "since": later}, headers=nanyang
    )
    assert none.status_code == 200 and none.json() == []
    bad = gateway.get("/api/v1/audit", params={"since": "昨天"}, headers=nanyang)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")

    # another city's auditor sees none of it
    xinyang = staff(ident, issuer, "411500")
    r = gateway.get("/api/v1/audit", params={"tenant_id": county.tenant_id}, headers=xinyang)
    assert r.status_code in (403, 404)
    mine = gateway.get("/api/v1/audit", params={"limit": 1000}, headers=xinyang).json()
    assert not any(e["object"] == f"talent:{talent_id}" for e in mine)


def test_the_audit_log_says_what_happened_and_who_acted(ident, gateway, issuer):
    city = principal_of(ident, "411600")  # 周口
    county = principal_of(ident, "411602")  # 川汇区
    with ident.db.unit_of_work(Scope.tenant(city.tenant_path)) as s:
        repo.audit(
            s,
            tenant_id=county.tenant_id,
            tenant_path=county.tenant_path,
            action="credential_issued",
            username="kx411602",
            actor="kx411600",
            details={"batch_id": "0b5f2a9e-8d1c-4e7a-b3f6-2c9d8e7f6a51", "issued_by": "kx411600"},
        )
        repo.audit(
            s,
            tenant_id=county.tenant_id,
            tenant_path=county.tenant_path,
            action="login_failure",
            username="kx411602",
            client_ip="10.0.0.7",
        )
    r = gateway.get(
        "/api/v1/audit",
        params={"tenant_id": county.tenant_id},
        headers=staff(ident, issuer, "411600"),
    )
    got = {e["action"]: e for e in reversed(r.json())}  # the newest of each action
    issued = got["credential_issued"]
    assert issued["actor"] == "kx411600" and issued["summary"] == "为 kx411602 分配了登录账号"
    assert "0b5f2a9e" not in issued["summary"]
    failed = got["login_failure"]
    assert failed["actor"] == "kx411602" and failed["client_ip"] == "10.0.0.7"
    assert failed["summary"] == "kx411602 登录失败：密码错误"


def test_the_province_issues_accounts_for_one_city_and_its_counties_in_one_request(
    ident, gateway, issuer
):
    province = principal_of(ident, "410000")
    zhumadian = principal_of(ident, "411700")  # 驻马店: no other test distributes here
    headers = staff(ident, issuer, "410000") | {"Accept": "application/json"}
    url = f"/api/v1/tenants/{province.tenant_id}/credentials"
    before, _ = admins_under_province(ident)

    # a branch outside the province's subtree, the province itself or no branch: nothing changes
    for bad in (
        {"scope": "branch"},
        {"scope": "branch", "branch_tenant_id": province.tenant_id},
        {"scope": "branch", "branch_tenant_id": "00000000-0000-0000-0000-000000000000"},
        {"scope": "town"},
    ):
        r = gateway.post(url, json=bad, headers=headers)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    assert admins_under_province(ident)[0] == before

    r = gateway.post(
        url, json={"scope": "branch", "branch_tenant_id": zhumadian.tenant_id}, headers=headers
    )
    assert r.status_code == 200, r.text
    codes = sorted(c["tenant_code"] for c in r.json()["issued"])
    assert codes[0] == "411700" and len(codes) > 5  # the city and each of its counties
    assert all(c.startswith("4117") for c in codes)
    assert admins_under_province(ident)[0] == before + len(codes)  # no other city got one
    again = gateway.post(
        url, json={"scope": "branch", "branch_tenant_id": zhumadian.tenant_id}, headers=headers
    )
    assert again.status_code == 200 and again.json()["issued"] == []


def admins_under_province(ident):
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        return s.execute(
            text("SELECT count(*), count(DISTINCT tenant_id) FROM users WHERE is_tenant_admin")
        ).one()
