"""i科普 科技志愿服务 on the real database: registration on consent, teams, service records
confirmed by the tenant, the 24-hour and future-date rules, hours rolled up, the certificate,
and the siblings who see none of it."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from docx import Document
from kepu.talent.v1 import volunteers_pb2
from kepu_common.db import Database, Scope
from kepu_common.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from kepu_talent.crypto import DEV_DATA_KEYS, DEV_HMAC_KEY, KeyRing
from kepu_talent.volunteers import domain
from kepu_talent.volunteers import service as vs
from sqlalchemy import text
from talent_support import (
    KAIFENG,
    NANYANG,
    QILIYUAN,
    TENANT_IDS,
    WANCHENG,
    WOLONG,
    fresh_phone,
    who,
)

T = TypeVar("T")
KEYS = KeyRing.from_config(DEV_DATA_KEYS, DEV_HMAC_KEY)
TODAY = vs.today()


@pytest.fixture
def act(database: Database) -> Callable[..., Any]:
    """Run a use case as an account of ``path`` in one unit of work (what the gRPC edge does)."""

    def run(path: str, fn: Callable[..., T], *args: Any, roles: tuple[str, ...] = ("admin",),
            username: str = "") -> T:  # fmt: skip
        p = who(path, *roles, username=username)
        with database.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            return fn(s, p, *args)

    return run


def a_talent(database: Database, path: str, name: str = "王志愿", status: str = "draft") -> str:
    """A person of the pool at ``path`` (the talent use cases are not what is tested here)."""
    tid = str(uuid.uuid4())
    with database.unit_of_work(Scope.system_scope()) as s:
        s.execute(
            text(
                "INSERT INTO talents (id, tenant_id, tenant_path, province, status, name, gender,"
                " specialty, categories, key_version, name_phone_hash) VALUES (CAST(:id AS uuid),"
                " CAST(:t AS uuid), CAST(:p AS ltree), '410000', :st, :n, '男', '小麦栽培',"
                " ARRAY['农村科普'], 1, :h)"
            ),
            {"id": tid, "t": TENANT_IDS[path], "p": path, "st": status, "n": name, "h": tid},
        )
    return tid


def registered(act, database, path: str = WOLONG, **over: Any) -> domain.Volunteer:
    body = {"talent_id": a_talent(database, path), "phone": fresh_phone(), "consent": True,
            "consent_version": domain.CONSENT_VERSION, **over}  # fmt: skip
    return act(path, vs.register, KEYS, body, roles=("reporter",))


def a_team(act, path: str = WOLONG, name: str = "") -> domain.Org:
    body = {"name": name or f"科技志愿服务队{uuid.uuid4().hex[:6]}", "contact_name": "李队长",
            "contact_phone": "0377-63073372"}  # fmt: skip
    return act(path, vs.create_org, KEYS, body)


def served(org: domain.Org, v: domain.Volunteer, **over: Any) -> dict[str, Any]:
    return {"org_id": org.id, "volunteer_id": v.id, "served_on": TODAY.isoformat(),
            "place": "卧龙区新时代文明实践中心", "kind": "agriculture", "hours": 3,
            "beneficiaries": 40, **over}  # fmt: skip


def events(database: Database, event_type: str) -> list[bytes]:
    with database.unit_of_work(Scope.system_scope()) as s:
        return [
            bytes(x)
            for x in s.execute(
                text("SELECT payload FROM outbox WHERE type = :t"), {"t": event_type}
            ).scalars()
        ]


def test_a_county_registers_a_talent_as_volunteer_with_the_consent_recorded(act, database):
    phone = fresh_phone()
    v = registered(act, database, phone=phone)
    assert v.tenant_path == WOLONG and v.status == "active" and v.name == "王志愿"
    assert v.phone_masked == phone[:3] + "****" + phone[-4:]
    assert v.consent_version == domain.CONSENT_VERSION and v.consented_by_username
    with database.unit_of_work(Scope.system_scope()) as s:
        raw, digest = s.execute(
            text("SELECT phone_enc, consent_sha256 FROM volunteers WHERE id = :i"), {"i": v.id}
        ).one()
    assert phone.encode() not in bytes(raw)  # sealed at rest
    assert KEYS.open(raw, f"volunteers:{v.id}:phone") == phone
    assert len(digest) == 64
    assert any(
        volunteers_pb2.VolunteerRegistered.FromString(_payload(e)).volunteer_id == v.id
        for e in events(database, "talent.volunteer.registered")
    )
    with pytest.raises(AlreadyExists):  # one registration per person
        act(WOLONG, vs.register, KEYS, {"talent_id": v.talent_id, "phone": fresh_phone(),
                                        "consent": True, "consent_version": domain.CONSENT_VERSION})  # fmt: skip


def _payload(envelope_bytes: bytes) -> bytes:
    from kepu.events.v1 import envelope_pb2

    env = envelope_pb2.EventEnvelope.FromString(envelope_bytes)
    return bytes(env.payload.value)


def test_registration_needs_the_consent_a_pool_talent_and_a_writer(act, database):
    tid = a_talent(database, WOLONG)
    body = {"talent_id": tid, "phone": fresh_phone(), "consent_version": domain.CONSENT_VERSION}
    with pytest.raises(InvalidArgument) as e:
        act(WOLONG, vs.register, KEYS, {**body, "consent": False})
    assert e.value.violations[0].field == "consent" and "同意" in e.value.detail
    with pytest.raises(InvalidArgument) as e:
        act(WOLONG, vs.register, KEYS, {**body, "consent": True, "consent_version": "2019-1"})
    assert e.value.violations[0].field == "consent_version"
    with pytest.raises(PermissionDenied):
        act(WOLONG, vs.register, KEYS, {**body, "consent": True}, roles=("viewer",))
    with pytest.raises(NotFound):  # a sibling county's talent is not named to it
        act(WANCHENG, vs.register, KEYS, {**body, "consent": True})
    revoked = a_talent(database, WOLONG, status="revoked")
    with pytest.raises(InvalidArgument, match="已撤销"):
        act(WOLONG, vs.register, KEYS, {**body, "talent_id": revoked, "consent": True})
    with database.unit_of_work(Scope.system_scope()) as s:
        n = s.execute(
            text("SELECT count(*) FROM volunteers WHERE talent_id IN (:a, :b)"),
            {"a": tid, "b": revoked},
        ).scalar_one()
    assert n == 0


def test_bad_service_records_name_every_field_and_write_nothing(act, database):
    v, team = registered(act, database), a_team(act)
    bad = served(team, v, hours=25, served_on=(TODAY + timedelta(days=1)).isoformat(),
                 kind="跳广场舞")  # fmt: skip
    with pytest.raises(InvalidArgument) as e:
        act(WOLONG, vs.add_record, bad, roles=("reporter",))
    fields = {x.field: x.message for x in e.value.violations}
    assert set(fields) == {"hours", "served_on", "kind"}
    assert "24小时" in fields["hours"] and "晚于今天" in fields["served_on"]
    assert "科技培训" in fields["kind"]
    # 20 hours, then 5 more the same day with another team: over 24 hours a day
    act(WOLONG, vs.add_record, served(team, v, hours=20), roles=("reporter",))
    other = a_team(act, NANYANG)
    with pytest.raises(InvalidArgument) as e:
        act(NANYANG, vs.add_record, served(other, v, hours=5, kind="科普报告"))
    assert e.value.violations[0].field == "hours" and "20.0小时" in e.value.detail
    rows = act(WOLONG, vs.list_records, "", v.id, "", 0)
    assert [r.hours for r in rows] == [20]


def test_a_team_records_only_volunteers_of_its_area(act, database):
    township = registered(act, database, QILIYUAN)
    county_team = a_team(act, WOLONG)
    act(WOLONG, vs.add_record, served(county_team, township))  # the township lies below
    v = registered(act, database, WOLONG)
    township_team = a_team(act, QILIYUAN)
    with pytest.raises(InvalidArgument) as e:  # the county's volunteer is above the township
        act(WOLONG, vs.add_record, served(township_team, v))
    assert e.value.violations[0].field == "volunteer_id"
    with pytest.raises(InvalidArgument):  # a sibling county's volunteer is not named to it
        act(WANCHENG, vs.add_record, served(a_team(act, WANCHENG), v))


def test_the_county_confirms_or_returns_records_with_a_reason(act, database):
    v, team = registered(act, database), a_team(act)
    r = act(WOLONG, vs.add_record, served(team, v, hours=8), roles=("reporter",),
            username="reporter")  # fmt: skip
    assert r.status == "submitted"
    with pytest.raises(PermissionDenied):  # not by the reporter who entered it
        act(WOLONG, vs.decide, r.id, "confirm", "", roles=("reporter",), username="reporter")
    with pytest.raises(InvalidArgument) as e:
        act(WOLONG, vs.decide, r.id, "reject", "  ", roles=("reviewer",))
    assert e.value.violations[0].field == "reason"
    back = act(WOLONG, vs.decide, r.id, "reject", "签到表缺失", roles=("reviewer",))
    assert back.status == "rejected" and back.reason == "签到表缺失"
    # the returned 8 hours no longer count against the day: 16 + 8 fit again
    r2 = act(WOLONG, vs.add_record, served(team, v, hours=16))
    r3 = act(WOLONG, vs.add_record, served(team, v, hours=8, kind="youth"))
    done = act(WOLONG, vs.decide, r2.id, "confirm", "", roles=("reviewer",))
    assert done.status == "confirmed" and done.decided_at is not None
    assert domain.allowed_actions(done, who(WOLONG, "reviewer")) == []
    from kepu_common.errors import Conflict

    with pytest.raises(Conflict):
        act(WOLONG, vs.decide, r2.id, "reject", "重复", roles=("reviewer",))
    confirmed = [
        volunteers_pb2.ServiceRecordConfirmed.FromString(_payload(e))
        for e in events(database, "talent.volunteer_record.confirmed")
    ]
    assert {c.record_id for c in confirmed} >= {r2.id} and r3.id not in {
        c.record_id for c in confirmed
    }
    assert next(c for c in confirmed if c.record_id == r2.id).hours == 16


def test_confirmed_hours_roll_up_the_tree_and_make_a_certificate(act, database):
    v1, v2 = registered(act, database, WOLONG), registered(act, database, QILIYUAN)
    team = a_team(act, WOLONG, "卧龙区农技志愿服务队")
    for v, h, kind in ((v1, 4, "agriculture"), (v1, 2.5, "lecture"), (v2, 6, "youth")):
        r = act(WOLONG, vs.add_record, served(team, v, hours=h, kind=kind), roles=("reporter",))
        act(WOLONG, vs.decide, r.id, "confirm", "", roles=("reviewer",))
    act(WOLONG, vs.add_record, served(team, v2, hours=3))  # not confirmed: does not count
    year = TODAY.year
    city = act(NANYANG, vs.hours, "", year)
    wolong = next(c for c in city.children if c.id == TENANT_IDS[WOLONG])
    mine = act(WOLONG, vs.hours, "", year)
    assert wolong.hours == mine.total.hours and city.total.hours >= wolong.hours
    team_row = next(o for o in mine.orgs if o.id == team.id)
    assert (team_row.hours, team_row.records, team_row.beneficiaries) == (12.5, 3, 120)
    per = {x.id: x.hours for x in mine.volunteers}
    assert per[v1.id] == 6.5 and per[v2.id] == 6
    township = act(WOLONG, vs.hours, TENANT_IDS[QILIYUAN], year)
    assert township.total.hours == 0  # the county team's records lie at the county
    assert act(WANCHENG, vs.hours, "", year).orgs == [] or team.id not in {
        o.id for o in act(WANCHENG, vs.hours, "", year).orgs
    }
    number, total, content = act(WOLONG, vs.certificate, v1.id, year)
    assert total == 6.5 and number == f"{domain.volunteer_no(v1.seq)}-{year}"
    doc = Document(io.BytesIO(content))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "志愿服务证明" in body and "王志愿" in body and "共计6.5小时" in body
    assert "卧龙区科协" in body
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert (
        cells[cells.index("农技服务") + 1] == "4.0" and cells[cells.index("科普报告") + 1] == "2.5"
    )
    with pytest.raises(InvalidArgument):
        act(WOLONG, vs.hours, "", 1999)


def test_siblings_and_other_branches_see_nothing_of_a_countys_volunteers(act, database):
    v, team = registered(act, database), a_team(act)
    r = act(WOLONG, vs.add_record, served(team, v))
    for path in (WANCHENG, KAIFENG):
        with pytest.raises(NotFound):
            act(path, vs.load_volunteer, v.id)
        with pytest.raises(NotFound):
            act(path, vs.load_org, team.id)
        with pytest.raises(NotFound):
            act(path, vs.decide, r.id, "confirm", "")
        with pytest.raises(NotFound):
            act(path, vs.certificate, v.id, TODAY.year)
        with pytest.raises(NotFound):
            act(path, vs.hours, TENANT_IDS[WOLONG], TODAY.year)
        assert v.id not in {x.id for x in act(path, vs.list_volunteers, "")}
        assert r.id not in {x.id for x in act(path, vs.list_records, "", "", "", 0)}
    with pytest.raises(NotFound):  # child -> parent: the township reads nothing of the county
        act(QILIYUAN, vs.load_volunteer, v.id)
    with pytest.raises(PermissionDenied):  # a viewer of the county itself writes nothing
        act(WOLONG, vs.decide, r.id, "confirm", "", roles=("viewer",))
    assert act(NANYANG, vs.load_volunteer, v.id).id == v.id  # the city above reads it


@pytest.mark.parametrize("hours", ["NaN", "Infinity", "1e400", "三小时", -2, 0])
def test_hours_that_are_no_number_of_hours_are_a_field_error(hours):
    with pytest.raises(InvalidArgument) as e:
        domain.clean_record(
            {"served_on": TODAY.isoformat(), "place": "文化站", "kind": "training", "hours": hours},
            TODAY,
        )
    assert [v.field for v in e.value.violations] == ["hours"]
