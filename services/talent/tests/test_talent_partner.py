"""Partners and the talent pool (银会合作, PIPL art. 23): consent, the partner view, financing
outcomes and partner notices, on the real database and through the gateway routers."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, timedelta

import grpc
import pytest
from fastapi.testclient import TestClient
from kepu.identity.v1 import identity_pb2_grpc
from kepu.partner.v1 import consent_pb2
from kepu.talent.v1 import talent_pb2, talent_pb2_grpc
from kepu_common import grpcio
from kepu_common.db import Scope
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.tenancy import Principal
from kepu_devstack.tokens import TestIssuer
from kepu_identity.partners import PartnerServicer, StaffTokenVerifier
from kepu_talent import partner
from sqlalchemy import text
from talent_support import (
    KAIFENG,
    KINDS,
    NANYANG,
    PROVINCE,
    TENANT_IDS,
    WANCHENG,
    WOLONG,
    Edge,
    fresh_id_number,
    partner_registry,
    record,
    register_bank,
    who,
)

ALL = ("partner:talents:read", "partner:financing:write")
IN_A_YEAR = (date.today() + timedelta(days=365)).isoformat()


def bank_id(code: str = "411300") -> str:
    return f"partner-{code}-{secrets.token_hex(4)}"


def bank(client_id: str, path: str = NANYANG, scopes: tuple[str, ...] = ALL) -> Principal:
    return Principal(
        subject=f"service-account-{client_id}",
        username=f"service-account-{client_id}",
        tenant_id=TENANT_IDS[path],
        tenant_path=path,
        tenant_kind=KINDS[path],
        roles=frozenset({"partner"}),
        scopes=frozenset(scopes),
        client_id=client_id,
    )


@pytest.fixture(scope="module")
def partners(app) -> Edge:
    return Edge(app.db, partner)


def draft(app, **overrides):
    return app.talents.create(who(WOLONG), record(id_number=fresh_id_number(), **overrides))


def certify(app, partners, talent_id: str):
    app.talents.recommend(who(WOLONG), talent_id, "同意推荐")
    app.talents.review(who(NANYANG, "reviewer"), talent_id, "approve", "同意")
    return app.talents.review(who(PROVINCE), talent_id, "approve", "")


def consent(partners, talent_id: str, client_id: str, path: str = NANYANG, by: str = WOLONG):
    return partners.create_consent(
        who(by), talent_id, client_id, path, "银会合作融资服务", IN_A_YEAR
    )


def listed(partners, client_id: str, path: str = NANYANG) -> dict[str, talent_pb2.PartnerTalent]:
    res = partners.list_for_partner(bank(client_id, path), 1, 100)
    return {t.id: t for t in res.talents}


def consent_count(database) -> int:
    with database.unit_of_work(Scope.system_scope()) as s:
        return s.execute(text("SELECT count(*) FROM talent_consents")).scalar_one()


def test_a_bank_sees_only_certified_talents_consented_to_it(app, partners, database):
    mine, other = bank_id(), bank_id()
    a = draft(app, name="王芳")
    consent(partners, a["id"], mine)
    certify(app, partners, a["id"])
    b = draft(app, name="无授权")
    certify(app, partners, b["id"])
    c = draft(app, name="他行授权")
    consent(partners, c["id"], other)
    certify(app, partners, c["id"])
    d = draft(app, name="尚未认定")
    consent(partners, d["id"], mine)

    seen = listed(partners, mine)
    assert list(seen) == [a["id"]]
    t = seen[a["id"]]
    assert (t.name, t.region_name, t.region_code) == ("王芳", "卧龙区科协", "411303")
    assert t.certificate_no and "****" in t.phone_masked
    assert "id_number" not in [f.name for f in talent_pb2.PartnerTalent.DESCRIPTOR.fields]
    assert list(listed(partners, other)) == [c["id"]]
    # the same client id presented with another tenant's token sees nothing
    assert listed(partners, mine, KAIFENG) == {}
    with database.unit_of_work(Scope.system_scope()) as s:
        logged = s.execute(
            text(
                "SELECT count(*) FROM partner_access_log WHERE partner_client_id = :c"
                " AND talent_id = CAST(:t AS uuid)"
            ),
            {"c": mine, "t": a["id"]},
        ).scalar_one()
        events = s.execute(
            text("SELECT count(*) FROM outbox WHERE type = 'talent.partner_accessed'")
        ).scalar_one()
    assert logged >= 1 and events >= 1


def test_revoked_or_expired_consent_hides_the_record(app, partners, database):
    cid = bank_id()
    t = draft(app)
    given = consent(partners, t["id"], cid)
    certify(app, partners, t["id"])
    assert t["id"] in listed(partners, cid)
    revoked = partners.revoke_consent(who(WOLONG), t["id"], given.id)
    assert revoked.revoked_at and not revoked.live
    assert listed(partners, cid) == {}
    with pytest.raises(Conflict):
        partners.revoke_consent(who(WOLONG), t["id"], given.id)
    again = consent(partners, t["id"], cid, by=PROVINCE)  # an ancestor admin records it again
    assert t["id"] in listed(partners, cid)
    with database.unit_of_work(Scope.system_scope()) as s:
        s.execute(
            text(
                "UPDATE talent_consents SET expires_at = now() - interval '1 minute' WHERE id = :i"
            ),
            {"i": again.id},
        )
    assert listed(partners, cid) == {}
    with pytest.raises(NotFound):
        partners.record_financing(bank(cid), t["id"], "科技人才贷", "50000", "已放款", "2026-01-05")
    states = {c.id: c.live for c in partners.list_consents(who(NANYANG), t["id"])}
    assert states == {given.id: False, again.id: False}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"expires_at": "2020-01-01"}, InvalidArgument),
        ({"expires_at": (date.today() + timedelta(days=4 * 365)).isoformat()}, InvalidArgument),
        ({"expires_at": "明年"}, InvalidArgument),
        ({"purpose": "  "}, InvalidArgument),
        ({"partner_tenant_path": KAIFENG}, PermissionDenied),  # another city's bank
        ({"partner_tenant_path": WANCHENG}, PermissionDenied),  # a sibling county's
        ({"by": WANCHENG}, NotFound),  # a sibling county cannot even see the talent
        ({"by": KAIFENG}, NotFound),
        ({"roles": ("viewer",)}, PermissionDenied),
    ],
)
def test_bad_consents_are_refused_and_write_nothing(app, partners, database, kwargs, error):
    t = draft(app)
    args = {
        "partner_tenant_path": NANYANG,
        "purpose": "银会合作融资服务",
        "expires_at": IN_A_YEAR,
    } | {k: v for k, v in kwargs.items() if k not in ("by", "roles")}
    caller = who(kwargs.get("by", WOLONG), *kwargs.get("roles", ("admin",)))
    before = consent_count(database)
    with pytest.raises(error) as err:
        partners.create_consent(
            caller,
            t["id"],
            bank_id(),
            args["partner_tenant_path"],
            args["purpose"],
            args["expires_at"],
        )
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.detail)
    assert consent_count(database) == before


def test_financing_outcomes_for_consented_talents_only(app, partners):
    cid = bank_id()
    t = draft(app)
    consent(partners, t["id"], cid)
    certify(app, partners, t["id"])
    saved = partners.record_financing(
        bank(cid), t["id"], "科技人才贷", "50000.5", "已放款", "2026-01-05"
    )
    assert (saved.amount_yuan, saved.status) == ("50000.50", "已放款")
    owner_view = partners.list_financing(who(WOLONG), t["id"])
    assert [o.id for o in owner_view] == [saved.id]
    assert [o.id for o in partners.list_financing(who(PROVINCE), t["id"])] == [saved.id]
    with pytest.raises(NotFound):
        partners.list_financing(who(KAIFENG), t["id"])  # a sibling city
    for amount, status, day in (
        ("-1", "已放款", "2026-01-05"),
        ("0", "已放款", "2026-01-05"),
        ("abc", "已放款", "2026-01-05"),
        ("1.001", "已放款", "2026-01-05"),
        ("100", "批准", "2026-01-05"),
        ("100", "已放款", (date.today() + timedelta(days=3)).isoformat()),
    ):
        with pytest.raises(InvalidArgument):
            partners.record_financing(bank(cid), t["id"], "科技人才贷", amount, status, day)
    with pytest.raises(PermissionDenied):  # a token without partner:financing:write
        partners.record_financing(
            bank(cid, scopes=("partner:talents:read",)), t["id"], "贷", "1", "申请中", "2026-01-05"
        )
    with pytest.raises(NotFound):  # another bank has no consent for this talent
        partners.record_financing(bank(bank_id()), t["id"], "贷", "1", "申请中", "2026-01-05")
    with pytest.raises(PermissionDenied):  # staff cannot post as a bank
        partners.record_financing(who(WOLONG), t["id"], "贷", "1", "申请中", "2026-01-05")
    assert len(partners.list_financing(who(WOLONG), t["id"])) == 1


def notices(database, client_id: str) -> list[tuple[str, str]]:
    with database.unit_of_work(Scope.system_scope()) as s:
        rows = s.execute(
            text("SELECT payload FROM outbox WHERE type = 'talent.partner_notice' ORDER BY id")
        ).scalars()
        out = []
        for raw in rows:
            from kepu.events.v1 import envelope_pb2

            env = envelope_pb2.EventEnvelope.FromString(bytes(raw))
            n = talent_pb2.PartnerNotice()
            env.payload.Unpack(n)
            if n.partner_client_id == client_id:
                out.append((n.event, n.talent.id))
        return out


def test_certification_and_revocation_notify_consented_partners_once(app, partners, database):
    cid, gone = bank_id(), bank_id()
    t = draft(app)
    consent(partners, t["id"], cid)
    withdrawn = consent(partners, t["id"], gone)
    partners.revoke_consent(who(WOLONG), t["id"], withdrawn.id)
    certify(app, partners, t["id"])
    # written with the review, in its transaction: once, and nothing is left to send later
    assert notices(database, cid) == [("talent.certified", t["id"])]
    app.talents.change_lifecycle(who(PROVINCE), t["id"], "revoke", "弄虚作假")
    assert notices(database, cid) == [("talent.certified", t["id"]), ("talent.revoked", t["id"])]
    assert notices(database, gone) == []


# --- through the gateway routers and a real gRPC server ------------------------------------


@pytest.fixture(scope="module")
def issuer():
    return TestIssuer()


@pytest.fixture(scope="module")
def registry(service_database):
    partners_ = partner_registry(service_database)
    yield partners_
    partners_.db.dispose()  # an open pool holds up the database server's shutdown


@pytest.fixture(scope="module")
def client(app, issuer, registry):
    mp = pytest.MonkeyPatch()
    server, port = grpcio.make_server(0)
    talent_pb2_grpc.add_TalentServiceServicer_to_server(app.servicer(issuer.verifier()), server)
    # identity's partner registry, with the verifier identity runs (staff tokens only)
    staff_only = StaffTokenVerifier(issuer.issuer, key_source=issuer.jwks)
    identity_pb2_grpc.add_PartnerServiceServicer_to_server(
        PartnerServicer(staff_only, registry), server
    )
    server.start()
    mp.setenv("TALENT_GRPC_TARGET", f"127.0.0.1:{port}")
    mp.setenv("IDENTITY_GRPC_TARGET", f"127.0.0.1:{port}")
    mp.setenv("PROJECTS_GRPC_TARGET", "127.0.0.1:9")  # nothing listens there
    from kepu_gateway import grpc_clients
    from kepu_gateway.app import create_app
    from kepu_gateway.settings import GatewaySettings

    grpc_clients.close_all()
    gateway = create_app(GatewaySettings(OIDC_ISSUER=issuer.issuer))
    gateway.state.verifier = issuer.verifier()
    with TestClient(gateway) as c:
        yield c
    grpc_clients.close_all()
    server.stop(0)
    mp.undo()


def staff(issuer, path, *roles):
    token = issuer.token(
        tenant_id=TENANT_IDS[path],
        tenant_path=path,
        tenant_kind=KINDS[path],
        roles=roles or ("admin",),
        username=f"api-{path}",
    )
    return {"Authorization": f"Bearer {token}"}


def partner_auth(issuer, client_id, scope=" ".join(ALL), path=NANYANG):
    token = issuer.token(
        tenant_id=TENANT_IDS[path],
        tenant_path=path,
        tenant_kind=KINDS[path],
        roles=("partner",),
        username=f"service-account-{client_id}",
        azp=client_id,
        scope=scope,
    )
    return {"Authorization": f"Bearer {token}"}


def is_problem(r, status):
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    )


def test_partner_and_staff_tokens_stay_on_their_own_side(client, issuer, app, partners, registry):
    cid = register_bank(registry)
    t = draft(app)
    consent(partners, t["id"], cid)
    for path in ("/api/v1/talents", f"/api/v1/talents/{t['id']}", "/api/v1/talents/stats"):
        assert is_problem(client.get(path, headers=partner_auth(issuer, cid)), 403), path
    r = client.get(f"/api/v1/talents/{t['id']}/consents", headers=partner_auth(issuer, cid))
    assert is_problem(r, 403)
    assert is_problem(client.get("/partner/v1/talents", headers=staff(issuer, PROVINCE)), 403)
    r = client.get("/partner/v1/talents", headers=partner_auth(issuer, cid, "profile"))
    assert is_problem(r, 403) and "partner:talents:read" in r.json()["detail"]
    assert client.get("/partner/v1/talents").status_code == 401


def test_the_bank_lists_posts_financing_and_the_county_sees_it(
    client, issuer, app, partners, registry
):
    cid = register_bank(registry)
    t = draft(app)
    consent(partners, t["id"], cid)
    for path in (WOLONG, NANYANG, PROVINCE):
        step = "recommend" if path == WOLONG else "review"
        body = (
            {"opinion": "同意"}
            if step == "recommend"
            else {"decision": "approve", "opinion": "同意"}
        )
        r = client.post(f"/api/v1/talents/{t['id']}/{step}", json=body, headers=staff(issuer, path))
        assert r.status_code == 200, r.text
    got = client.get("/partner/v1/talents", headers=partner_auth(issuer, cid)).json()
    assert [x["id"] for x in got["talents"]] == [t["id"]] and got["total"] == 1
    assert set(got["talents"][0]) >= {"name", "gender", "region_name", "certificate_no"}
    assert "id_number" not in str(got) and "****" in got["talents"][0]["phone_masked"]
    financing = {
        "talent_id": t["id"],
        "product": "科技人才贷",
        "amount_yuan": 80000,
        "status": "申请中",
        "decided_at": "2026-01-10",
    }
    bad = client.post(
        "/partner/v1/financing",
        json=financing | {"amount_yuan": -5},
        headers=partner_auth(issuer, cid),
    )
    assert is_problem(bad, 422)
    r = client.post("/partner/v1/financing", json=financing, headers=partner_auth(issuer, cid))
    assert r.status_code == 201, r.text
    seen = client.get(f"/api/v1/talents/{t['id']}/financing", headers=staff(issuer, WOLONG))
    assert [(o["amount_yuan"], o["status"]) for o in seen.json()] == [("80000.00", "申请中")]
    r = client.get(f"/api/v1/talents/{t['id']}/financing", headers=staff(issuer, KAIFENG))
    assert is_problem(r, 404)
    # the review through the servicer wrote the partner notice
    assert notices(app.db, cid) == [("talent.certified", t["id"])]
    r = client.post(
        "/partner/v1/financing",
        json=financing | {"talent_id": str(uuid.uuid4())},
        headers=partner_auth(issuer, cid),
    )
    assert is_problem(r, 404)


def test_partner_projects_answer_503_in_chinese_when_the_projects_service_is_down(
    client, issuer, registry
):
    cid = register_bank(registry)
    r = client.get(
        "/partner/v1/projects",
        headers=partner_auth(issuer, cid, "partner:projects:read"),
    )
    assert is_problem(r, 503)
    r = client.get("/partner/v1/projects", headers=partner_auth(issuer, cid))
    assert is_problem(r, 403)  # no partner:projects:read


def test_a_repeated_financing_post_answers_the_first_record(
    client, issuer, app, partners, registry
):
    cid = register_bank(registry)
    t = draft(app)
    consent(partners, t["id"], cid)
    certify(app, partners, t["id"])
    bank_h = partner_auth(issuer, cid)
    outcome = {
        "talent_id": t["id"],
        "product": "科技人才贷",
        "amount_yuan": 30000,
        "status": "申请中",
        "decided_at": "2026-01-12",
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/partner/v1/financing", json=outcome, headers=bank_h | key)
    again = client.post("/partner/v1/financing", json=outcome, headers=bank_h | key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    # the same outcome posted again without a key (a retry after a lost answer) is the same
    plain = client.post("/partner/v1/financing", json=outcome, headers=bank_h)
    assert (plain.status_code, plain.json()) == (201, first.json())
    # a key names one outcome: reusing it for another is refused and writes nothing
    r = client.post(
        "/partner/v1/financing", json=outcome | {"amount_yuan": 40000}, headers=bank_h | key
    )
    assert is_problem(r, 422) and "Idempotency-Key" in r.json()["detail"]
    r = client.post(
        "/partner/v1/financing", json=outcome, headers=bank_h | {"Idempotency-Key": "not a key"}
    )
    assert is_problem(r, 422)
    lent = client.post(
        "/partner/v1/financing",
        json=outcome | {"status": "已放款", "decided_at": "2026-01-20"},
        headers=bank_h | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert lent.status_code == 201 and lent.json()["id"] != first.json()["id"]
    seen = client.get(f"/api/v1/talents/{t['id']}/financing", headers=staff(issuer, WOLONG))
    assert sorted(o["status"] for o in seen.json()) == ["已放款", "申请中"]


def test_a_disabled_partners_token_stops_working_at_once(client, issuer, app, partners, registry):
    cid = register_bank(registry)
    t = draft(app)
    consent(partners, t["id"], cid)
    certify(app, partners, t["id"])
    bank_h = partner_auth(issuer, cid)
    got = client.get("/partner/v1/talents", headers=bank_h)
    assert got.status_code == 200 and t["id"] in [x["id"] for x in got.json()["talents"]]
    r = client.delete(f"/api/v1/partners/{cid}", headers=staff(issuer, NANYANG))
    assert r.status_code == 200 and r.json()["enabled"] is False, r.text
    # the same unexpired token, the very next request: refused everywhere on /partner/v1
    financing = {
        "talent_id": t["id"],
        "product": "科技人才贷",
        "amount_yuan": 1000,
        "status": "申请中",
        "decided_at": "2026-01-10",
    }
    for r in (
        client.get("/partner/v1/talents", headers=bank_h),
        client.post("/partner/v1/financing", json=financing, headers=bank_h),
        client.get("/partner/v1/projects", headers=bank_h),
    ):
        assert is_problem(r, 401) and "停用" in r.json()["detail"], r.text
        assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert partners.list_financing(who(WOLONG), t["id"]) == []
    # a client nobody registered (or registered by another city) is refused the same way
    assert is_problem(
        client.get("/partner/v1/talents", headers=partner_auth(issuer, bank_id())), 401
    )
    kaifeng_bank = register_bank(registry, KAIFENG, "邮储银行开封分行")
    r = client.get(
        "/partner/v1/talents", headers=partner_auth(issuer, kaifeng_bank)
    )  # 南阳's claims
    assert is_problem(r, 401)


def test_financing_field_errors_name_the_fields_in_chinese(client, issuer, registry):
    bank_h = partner_auth(issuer, register_bank(registry))
    bad = {
        "talent_id": "t",
        "product": "科技人才贷",
        "amount_yuan": "1.001",
        "status": "批准",
        "decided_at": "2026-13-01",
    }
    r = client.post("/partner/v1/financing", json=bad, headers=bank_h)
    assert is_problem(r, 422), r.text
    detail = r.json()["detail"]
    for phrase in (
        "金额（元）最多保留2位小数",
        "融资状态只能是“申请中”、“已放款”、“已拒绝”",
        "决定日期格式",
    ):
        assert phrase in detail, detail
    assert not any(f in detail for f in ("amount_yuan", "status", "decided_at")), detail


def test_the_tenant_consents_list_shows_its_subtree_and_no_one_elses(
    client, issuer, app, partners, registry
):
    cid = register_bank(registry)
    t = draft(app)
    given = consent(partners, t["id"], cid)

    def page(path, *roles, query="page=1&page_size=200"):
        return client.get(f"/api/v1/consents/talents?{query}", headers=staff(issuer, path, *roles))

    for path in (WOLONG, NANYANG):  # the county's own, and its city's subtree
        r = page(path, "viewer")
        assert r.status_code == 200, r.text
        mine = [c for c in r.json()["consents"] if c["id"] == given.id]
        assert [(c["subject_name"], c["partner_client_id"], c["live"]) for c in mine] == [
            (t["fields"]["name"], cid, True)
        ]
        assert mine[0]["expires_at"].endswith("+08:00")  # Beijing time
    for path in (WANCHENG, KAIFENG):  # a sibling county, another city
        assert given.id not in [c["id"] for c in page(path).json()["consents"]]
    one = page(NANYANG, query="page=1&page_size=1").json()
    assert len(one["consents"]) == 1 and one["total"] >= 1
    r = client.get("/api/v1/consents/talents", headers=partner_auth(issuer, cid))
    assert is_problem(r, 403)
    assert is_problem(page(NANYANG, query="page=0"), 422)


# --- one consent message (kepu.partner.v1) for both ledgers: talent answers its own type only


@pytest.fixture(scope="module")
def talent_stub(app, issuer):
    server, port = grpcio.make_server(0)
    talent_pb2_grpc.add_TalentServiceServicer_to_server(app.servicer(issuer.verifier()), server)
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield talent_pb2_grpc.TalentServiceStub(channel)
    server.stop(0)


def test_a_consent_request_of_another_subject_type_is_refused_and_writes_nothing(
    app, issuer, registry, talent_stub, database
):
    cid = register_bank(registry)
    t = draft(app)
    md = grpcio.metadata(staff(issuer, WOLONG)["Authorization"].removeprefix("Bearer "))
    create = consent_pb2.CreateConsentRequest(
        subject_type=consent_pb2.SUBJECT_TYPE_TALENT,
        subject_id=t["id"],
        partner_client_id=cid,
        partner_tenant_path=NANYANG,
        purpose="银会合作融资服务",
        expires_at=IN_A_YEAR,
    )
    given = talent_stub.CreateConsent(create, metadata=md, timeout=30)
    assert (given.subject_type, given.subject_id, given.live) == (
        consent_pb2.SUBJECT_TYPE_TALENT,
        t["id"],
        True,
    )
    before = consent_count(database)
    project = consent_pb2.SUBJECT_TYPE_PROJECT
    create.subject_type = project
    wrong = [
        (talent_stub.CreateConsent, create),
        (talent_stub.ListConsents, consent_pb2.ListConsentsRequest(subject_id=t["id"])),
        (
            talent_stub.ListTenantConsents,
            consent_pb2.ListTenantConsentsRequest(subject_type=project),
        ),
        (
            talent_stub.RevokeConsent,
            consent_pb2.RevokeConsentRequest(
                subject_type=project, subject_id=t["id"], consent_id=given.id
            ),
        ),
    ]
    for rpc, request in wrong:
        with pytest.raises(grpc.RpcError) as refused:
            rpc(request, metadata=md, timeout=30)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details() == "授权对象类型不正确：这里只受理人才的授权。"
        assert [v.field for v in grpcio.field_violations(refused.value)] == ["subject_type"]
    assert consent_count(database) == before
    listed = talent_stub.ListConsents(
        consent_pb2.ListConsentsRequest(
            subject_type=consent_pb2.SUBJECT_TYPE_TALENT, subject_id=t["id"]
        ),
        metadata=md,
        timeout=30,
    )
    assert [(c.id, c.live) for c in listed.consents] == [(given.id, True)]  # not revoked
