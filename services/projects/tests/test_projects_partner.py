"""Partners 合作机构 (银会合作) and the project library on the real database: consents recorded
by the owner or an ancestor, sibling denial, the partner's minimal listing (only consented
library projects, never the phone, every access logged), ``project.approved`` notices written
in the approving transaction, and the same listing over the gateway's /partner/v1/projects."""

from datetime import timedelta

import grpc
import pytest
from fastapi.testclient import TestClient
from kepu.events.v1 import envelope_pb2
from kepu.identity.v1 import identity_pb2_grpc
from kepu.partner.v1 import consent_pb2
from kepu.projects.v1 import projects_pb2, projects_pb2_grpc
from kepu_common.db import Scope
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.grpcio import field_violations, make_server, metadata
from kepu_common.tenancy import Principal
from kepu_devstack.tokens import TestIssuer
from kepu_identity.partners import PartnerServicer, StaffTokenVerifier
from kepu_projects import partner, service
from kepu_projects.grpc_api import ProjectsServicer
from projects_testkit import (
    form,
    partner_registry,
    register_bank,
    sh,
    snapshot,
    system_rows,
)
from sqlalchemy import text

BANK = "bank-anyang-psbc"  # registered by 安阳市科协 (410500)
OTHER_BANK = "bank-luoyang-psbc"  # registered by 洛阳市科协 (410300)
READ = "partner:projects:read"


def bank(node, client_id=BANK, scopes=(READ,)):
    return Principal(
        subject=f"sa-{client_id}",
        username=f"service-account-{client_id}",
        tenant_id=node.id,
        tenant_path=node.path,
        tenant_kind=node.kind,
        roles=frozenset({"partner"}),
        scopes=frozenset(scopes),
        client_id=client_id,
    )


def run(db, p, fn, *args):
    with db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
        return fn(s, p, *args)


def approved_project(act, tree, clock, ring, name):
    """安阳 opens a call; 文峰区 files ``name``; the city passes it, scores it and approves it."""
    city, county = tree["410500"], tree["410502"]
    call = act(
        city,
        service.open_call,
        clock.now,
        {
            "title": f"{name}批次",
            "programme": "现代农业科普园",
            "deadline": "2026-04-30",
            "quota": 10,
            "criteria": [{"name": "科学性", "weight": 1}],
            "min_reviewers": 1,
        },
    )
    view = act(county, service.create_project, clock.now, ring, form(call_id=call.id, name=name))
    pid = view.project.id
    act(county, service.submit, clock.now, pid)
    act(city, service.review, clock.now, pid, "pass", "同意")
    act(city, service.record_scores, call.id, pid, "张教授", {"科学性": 88})
    return call, pid


def notices(db):
    out = []
    for typ, payload in system_rows(db, "SELECT type, payload FROM outbox ORDER BY id"):
        if typ != partner.NOTICE:
            continue
        env = envelope_pb2.EventEnvelope.FromString(bytes(payload))
        msg = projects_pb2.PartnerNotice()
        env.payload.Unpack(msg)
        out.append(msg)
    return out


def consent(act, node, clock, pid, client_id=BANK, path=None, **over):
    args = {
        "partner_client_id": client_id,
        "partner_tenant_path": path or "410000.410500",
        "purpose": "银会合作融资服务",
        "expires_at": "2027-12-31",
    }
    args.update(over)
    return act(
        node,
        partner.create_consent,
        clock.now,
        pid,
        args["partner_client_id"],
        args["partner_tenant_path"],
        args["purpose"],
        args["expires_at"],
    )


def test_consent_before_approval_notifies_on_approval_and_the_bank_lists_it(
    act, db, tree, clock, ring
):
    city, county = tree["410500"], tree["410502"]
    call, pid = approved_project(act, tree, clock, ring, "文峰区食用菌科普示范园")
    # the county (owner) records the consent while the project is in expert review
    c = consent(act, county, clock, pid)
    assert (c.live, c.partner_client_id, c.created_by) == (True, BANK, "admin410502")
    assert c.expires_at.startswith("2027-12-31T23:59:59")
    before = len(notices(db))
    # not in the library yet: the bank sees nothing
    assert run(db, bank(city), partner.list_for_partner, clock.now, 1, 20).total == 0
    approved, _ = act(city, service.select, clock.now, call.id, 1, False)
    assert [x.id for x in approved] == [pid]
    sent = notices(db)[before:]
    assert [(n.partner_client_id, n.event, n.consent_id, n.project.id) for n in sent] == [
        (BANK, "project.approved", c.id, pid)
    ]
    assert sent[0].project.library_no == approved[0].library_no
    assert sent[0].project.implementation_months == 9  # 2026-03 .. 2026-11

    res = run(db, bank(city), partner.list_for_partner, clock.now, 1, 20)
    assert res.total == 1
    got = res.projects[0]
    assert (got.name, got.region_code, got.region_name, got.status) == (
        "文峰区食用菌科普示范园",
        "410502",
        "文峰区科协",
        "approved",
    )
    assert (got.category, got.budget, got.applicant_unit) == ("activity", "85000.00", "文峰区科协")
    assert "13812345678" not in str(res) and "138****5678" not in str(res)
    assert not hasattr(got, "contact_phone")
    # each access is logged: a row per project and an outbox event
    log = system_rows(
        db, "SELECT project_id::text, partner_client_id, action FROM partner_access_log"
    )
    assert (pid, BANK, "list") in [tuple(r) for r in log]
    assert (
        system_rows(db, "SELECT count(*) FROM outbox WHERE type = 'projects.partner_accessed'")[0][
            0
        ]
        >= 1
    )
    # another bank (no consent) and the same bank from another city see nothing
    assert run(db, bank(city, "bank-other"), partner.list_for_partner, clock.now, 1, 20).total == 0
    assert run(db, bank(tree["410300"]), partner.list_for_partner, clock.now, 1, 20).total == 0
    # a staff token cannot use the partner view; a bank without the scope is refused
    with pytest.raises(PermissionDenied, match="合作机构"):
        act(city, partner.list_for_partner, clock.now, 1, 20)
    with pytest.raises(PermissionDenied, match=READ):
        run(db, bank(city, scopes=()), partner.list_for_partner, clock.now, 1, 20)


def test_consent_for_a_library_project_notifies_at_once_revoked_and_expired_hide(
    act, db, tree, clock, ring
):
    city, county, province = tree["410500"], tree["410502"], tree["410000"]
    call, pid = approved_project(act, tree, clock, ring, "文峰区科普大篷车")
    act(city, service.select, clock.now, call.id, 1, False)
    before = len(notices(db))
    # the province (an ancestor) records the consent for the already-approved project
    c = consent(act, province, clock, pid, expires_at="2026-06-30")
    assert [n.project.id for n in notices(db)[before:]] == [pid]
    assert pid in [
        x.id for x in run(db, bank(city), partner.list_for_partner, clock.now, 1, 50).projects
    ]
    # expired: hidden (the clock passes the expiry)
    later = sh(2026, 7, 1, 9)
    assert pid not in [
        x.id for x in run(db, bank(city), partner.list_for_partner, later, 1, 50).projects
    ]
    listed = act(county, partner.list_consents, later, pid)
    assert [(x.id, x.live) for x in listed] == [(c.id, False)]
    # revoked: hidden
    c2 = consent(act, county, clock, pid)
    assert pid in [
        x.id for x in run(db, bank(city), partner.list_for_partner, clock.now, 1, 50).projects
    ]
    r = act(county, partner.revoke_consent, clock.now, pid, c2.id)
    assert (r.live, r.revoked_by) == (False, "admin410502")
    assert pid not in [
        x.id for x in run(db, bank(city), partner.list_for_partner, clock.now, 1, 50).projects
    ]
    with pytest.raises(Conflict, match="已经撤回"):
        act(county, partner.revoke_consent, clock.now, pid, c2.id)


def test_siblings_and_foreign_banks_are_refused_and_bad_input_changes_nothing(
    act, db, tree, clock, ring
):
    county, sibling, town = tree["410502"], tree["410503"], tree["410502001"]
    _call, pid = approved_project(act, tree, clock, ring, "文峰区科普讲坛")
    with db.unit_of_work(Scope.system_scope()) as s:
        before = snapshot(s)
        consents_before = s.execute(text("SELECT count(*) FROM project_consents")).scalar_one()

    def refused(exc, match, node=county, **over):
        with pytest.raises(exc, match=match):
            consent(act, node, clock, pid, **over)

    refused(NotFound, "无权查看", node=sibling)  # 北关区 cannot see 文峰区's project
    refused(NotFound, "无权查看", node=town)  # a descendant neither
    with pytest.raises(NotFound):
        act(sibling, partner.list_consents, clock.now, pid)
    with pytest.raises(PermissionDenied, match="管理员|权限"):
        act(
            county,
            partner.create_consent,
            clock.now,
            pid,
            BANK,
            "410000.410500",
            "用途",
            "2027-01-01",
            roles=("reporter",),
        )
    # a bank of 洛阳 (not an ancestor of 文峰区) cannot be granted
    refused(PermissionDenied, "上级科协", client_id=OTHER_BANK, path="410000.410300")
    refused(InvalidArgument, "晚于当前", expires_at="2026-02-01")
    refused(
        InvalidArgument,
        "最长3年",
        expires_at=(clock.now + timedelta(days=4 * 365)).date().isoformat(),
    )
    refused(InvalidArgument, "格式不正确", expires_at="明年")
    refused(InvalidArgument, "用途", purpose="  ")
    with pytest.raises(InvalidArgument, match="项目编号"):
        act(
            county,
            partner.create_consent,
            clock.now,
            "not-a-uuid",
            BANK,
            "410000.410500",
            "用途",
            "2027-01-01",
        )
    with pytest.raises(InvalidArgument, match="授权记录编号"):
        act(county, partner.revoke_consent, clock.now, pid, "nope")
    with db.unit_of_work(Scope.system_scope()) as s:
        assert snapshot(s) == before
        assert (
            s.execute(text("SELECT count(*) FROM project_consents")).scalar_one() == consents_before
        )
    # a sibling cannot revoke a consent it cannot see
    c = consent(act, county, clock, pid)
    with pytest.raises(NotFound):
        act(sibling, partner.revoke_consent, clock.now, pid, c.id)
    assert act(county, partner.list_consents, clock.now, pid)[0].live


# --- over gRPC and the gateway -------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(service_database):
    partners_ = partner_registry(service_database)
    yield partners_
    partners_.db.dispose()


@pytest.fixture(scope="module")
def gateway(db, ring, registry):
    gateway_app = pytest.importorskip("kepu_gateway.app")
    from kepu_gateway import grpc_clients

    issuer = TestIssuer()
    server, port = make_server(0)
    projects_pb2_grpc.add_ProjectsServiceServicer_to_server(
        ProjectsServicer(issuer.verifier(), db, ring, now=lambda: sh(2026, 3, 1, 9)), server
    )
    staff_only = StaffTokenVerifier(issuer.issuer, key_source=issuer.jwks)
    identity_pb2_grpc.add_PartnerServiceServicer_to_server(
        PartnerServicer(staff_only, registry), server
    )
    server.start()
    mp = pytest.MonkeyPatch()
    mp.setenv("PROJECTS_GRPC_TARGET", f"127.0.0.1:{port}")
    mp.setenv("IDENTITY_GRPC_TARGET", f"127.0.0.1:{port}")
    grpc_clients.close_all()
    app = gateway_app.create_app()
    app.state.verifier = issuer.verifier()
    yield TestClient(app), issuer
    grpc_clients.close_all()
    mp.undo()
    server.stop(0)


def test_the_partner_lists_consented_projects_over_the_gateway(
    act, tree, clock, ring, gateway, registry
):
    c, issuer = gateway
    city, county = tree["410500"], tree["410502"]
    bank_id = register_bank(registry, city, "中国邮政储蓄银行安阳市分行")
    call, pid = approved_project(act, tree, clock, ring, "文峰区农村中学科技馆")
    act(city, service.select, clock.now, call.id, 1, False)
    consent(act, county, clock, pid, client_id=bank_id)

    def auth(scope=READ, client_id=bank_id):
        token = issuer.token(
            tenant_id=city.id,
            tenant_path=city.path,
            tenant_kind=city.kind,
            roles=("partner",),
            username=f"service-account-{client_id}",
            azp=client_id,
            scope=scope,
        )
        return {"Authorization": f"Bearer {token}"}

    r = c.get("/partner/v1/projects?page=1&page_size=100", headers=auth())
    assert r.status_code == 200, r.text
    body = r.json()
    mine = [x for x in body["projects"] if x["id"] == pid]
    assert len(mine) == 1 and mine[0]["status"] == "approved" and mine[0]["library_no"]
    assert "contact_phone" not in mine[0] and "contact_person" not in mine[0]
    assert body["total"] >= 1
    r = c.get("/partner/v1/projects", headers=auth(scope="partner:talents:read"))
    assert r.status_code == 403


def test_the_tenant_consents_list_pages_its_subtree_and_no_one_elses(
    act, tree, clock, ring, gateway, registry
):
    c, issuer = gateway
    city, county, other = tree["410500"], tree["410502"], tree["410503"]
    _, pid = approved_project(act, tree, clock, ring, "文峰区授权清单项目")
    given = consent(act, county, clock, pid, purpose="授权清单测试")

    def listed(node, roles=("admin",), query="page=1&page_size=200"):
        token = issuer.token(
            tenant_id=node.id, tenant_path=node.path, tenant_kind=node.kind, roles=roles
        )
        return c.get(
            f"/api/v1/consents/projects?{query}", headers={"Authorization": f"Bearer {token}"}
        )

    for node in (county, city):  # the county's own, and its city's subtree
        r = listed(node, ("viewer",))
        assert r.status_code == 200, r.text
        mine = [x for x in r.json()["consents"] if x["id"] == given.id]
        assert [(x["subject_name"], x["purpose"], x["live"]) for x in mine] == [
            ("文峰区授权清单项目", "授权清单测试", True)
        ]
        assert mine[0]["expires_at"].endswith("+08:00")  # Beijing time
    for node in (other, tree["410300"], tree["410502001"]):  # sibling, other city, child
        ids = [x["id"] for x in listed(node).json()["consents"]]
        assert given.id not in ids
    one = listed(city, query="page=1&page_size=1").json()
    assert len(one["consents"]) == 1 and one["total"] >= 1
    assert listed(city, ("partner",)).status_code == 403
    r = listed(city, query="page_size=500")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.page_size"


# --- one consent message (kepu.partner.v1) for both ledgers: projects answers its own type only


def test_a_consent_request_of_another_subject_type_is_refused_and_writes_nothing(
    act, tree, clock, ring, db
):
    city, county = tree["410500"], tree["410502"]
    _, pid = approved_project(act, tree, clock, ring, "文峰区授权对象类型项目")
    issuer = TestIssuer()
    server, port = make_server(0)
    projects_pb2_grpc.add_ProjectsServiceServicer_to_server(
        ProjectsServicer(issuer.verifier(), db, ring, now=lambda: clock.now), server
    )
    server.start()
    token = issuer.token(
        tenant_id=county.id, tenant_path=county.path, tenant_kind=county.kind, roles=("admin",)
    )
    md = metadata(token)
    create = consent_pb2.CreateConsentRequest(
        subject_type=consent_pb2.SUBJECT_TYPE_PROJECT,
        subject_id=pid,
        partner_client_id=BANK,
        partner_tenant_path=city.path,
        purpose="银会合作融资服务",
        expires_at="2027-12-31",
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = projects_pb2_grpc.ProjectsServiceStub(channel)
            given = stub.CreateConsent(create, metadata=md, timeout=30)
            assert (given.subject_type, given.subject_id, given.live) == (
                consent_pb2.SUBJECT_TYPE_PROJECT,
                pid,
                True,
            )
            before = system_rows(db, "SELECT count(*) FROM project_consents")
            talent = consent_pb2.SUBJECT_TYPE_TALENT
            create.subject_type = talent
            wrong = [
                (stub.CreateConsent, create),
                (stub.ListConsents, consent_pb2.ListConsentsRequest(subject_id=pid)),
                (
                    stub.ListTenantConsents,
                    consent_pb2.ListTenantConsentsRequest(subject_type=talent),
                ),
                (
                    stub.RevokeConsent,
                    consent_pb2.RevokeConsentRequest(
                        subject_type=talent, subject_id=pid, consent_id=given.id
                    ),
                ),
            ]
            for rpc, request in wrong:
                with pytest.raises(grpc.RpcError) as refused:
                    rpc(request, metadata=md, timeout=30)
                assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert refused.value.details() == "授权对象类型不正确：这里只受理项目的授权。"
                assert [v.field for v in field_violations(refused.value)] == ["subject_type"]
            assert system_rows(db, "SELECT count(*) FROM project_consents") == before
            assert [(c.id, c.live) for c in act(county, partner.list_consents, clock.now, pid)] == [
                (given.id, True)
            ]
    finally:
        server.stop(0)
