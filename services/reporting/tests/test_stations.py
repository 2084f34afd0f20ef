"""The e站 network on the real database: 锦州's stations through application, county review and
city 认定 with a 信息员, monthly activities and 未达标, denominators and coverage rolled up the
tree, the events assessment counts, and the denials between siblings."""

from __future__ import annotations

import uuid

import pytest
from kepu.talent.v1 import talent_pb2
from kepu_common.consumer import handle_once
from kepu_common.db import Scope
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.outbox import build_envelope
from kepu_reporting import consumers
from kepu_reporting.stations import service
from reporting_testkit import feed_tree, system
from sqlalchemy import text

TREE = [
    ("210000", "辽宁省科协", "province", None),
    ("210700", "锦州市科协", "city", "210000"),
    ("210703", "凌河区科协", "county", "210700"),
    ("210703001", "石桥子街道", "township", "210703"),
    ("210702", "古塔区科协", "county", "210700"),
    ("210200", "大连市科协", "city", "210000"),
    ("210202", "中山区科协", "county", "210200"),
]
FIVE = [
    {"code": c, "met": True, "evidence": "照片"}
    for c in ("network", "staff", "place", "activities", "terminal")
]


@pytest.fixture(scope="module")
def t(db):
    return feed_tree(db, TREE)


@pytest.fixture
def run(db):
    def go(node, fn, *args, roles=("admin",)):
        p = node.principal(*roles)
        with db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            return fn(s, p, *args)

    return go


def talent(db, node, status="certified"):
    """A talent as the talent service announces it (talent.events)."""
    tid = str(uuid.uuid4())
    msg = talent_pb2.TalentStatusChanged(
        talent_id=tid, tenant_id=node.id, tenant_path=node.path, from_status="city_reviewed",
        to_status=status,
    )  # fmt: skip
    env = build_envelope(
        event_type=f"talent.{status}",
        tenant_id=node.id,
        tenant_path=node.path,
        actor="t",
        payload=msg,
    )
    handle_once(db, consumers.TALENTS_CONSUMER, env, consumers.handle_talent_event)
    return tid


def certify(run, db, t, name, kind="community", under="210703001"):
    town, county, city = t[under], t["210703"], t["210700"]
    st = run(town if under != "210703" else county, service.create_station,
             {"kind": kind, "name": name, "conditions": FIVE})  # fmt: skip
    run(town if under != "210703" else county, service.submit, st.id)
    run(county, service.act, st.id, "county_approve", "同意")
    run(county, service.add_informant, st.id, talent(db, county))
    return run(city, service.act, st.id, "city_certify", "复核通过，予以认定")


def test_the_review_chain_ends_in_a_plaque_and_needs_a_informant(run, db, t):
    town, county, city = t["210703001"], t["210703"], t["210700"]
    st = run(town, service.create_station,
             {"kind": "community", "name": "石桥子社区e站", "conditions": FIVE[:3]})  # fmt: skip
    with pytest.raises(InvalidArgument, match="有活动、有终端"):
        run(town, service.submit, st.id)
    st = run(
        town,
        service.create_station,
        {"kind": "community", "name": "松山社区e站", "conditions": FIVE},
    )
    run(town, service.submit, st.id)
    with pytest.raises(PermissionDenied):  # the city reviews after the county
        run(city, service.act, st.id, "county_approve", "")
    run(county, service.act, st.id, "county_approve", "同意")
    with pytest.raises(InvalidArgument) as err:  # no 信息员 yet
        run(city, service.act, st.id, "city_certify", "")
    assert [v.field for v in err.value.violations] == ["informant_ids"]
    assert run(city, service.load, st.id).status == "county_reviewed"  # nothing written
    with pytest.raises(InvalidArgument):  # a talent not yet certified is no 信息员
        run(county, service.add_informant, st.id, talent(db, county, status="recommended"))
    with pytest.raises(InvalidArgument):  # nor one of another city
        run(county, service.add_informant, st.id, talent(db, t["210202"]))
    run(county, service.add_informant, st.id, talent(db, town))
    done = run(city, service.act, st.id, "city_certify", "予以认定")
    assert done.status == "certified" and done.plaque_no.startswith("210700-E")
    assert run(city, service.coverage, "", 2026)[0].counts.get("community") == 1
    run(city, service.act, st.id, "suspend", "整改")
    assert run(city, service.coverage, "", 2026)[0].counts.get("community", 0) == 0  # not counted
    with pytest.raises(Conflict):
        run(city, service.act, st.id, "suspend", "")
    run(city, service.act, st.id, "withdraw", "撤销")
    with system(db) as s:
        types = [r[0] for r in s.execute(text("SELECT type FROM outbox ORDER BY created_at"))]
    assert {
        "reporting.station.certified",
        "reporting.station.suspended",
        "reporting.station.withdrawn",
    } <= set(types)


def test_stations_outside_the_subtree_are_refused(run, t):
    with pytest.raises(InvalidArgument) as err:
        run(t["210703"], service.create_station,
            {"tenant_id": t["210702"].id, "kind": "school", "name": "古塔小学e站", "conditions": FIVE})  # fmt: skip
    assert [v.field for v in err.value.violations] == ["tenant_id"]
    st = run(
        t["210702"],
        service.create_station,
        {"kind": "school", "name": "古塔小学e站", "conditions": FIVE},
    )
    for other in (t["210703"], t["210200"], t["210202"], t["210703001"]):
        with pytest.raises(NotFound):
            run(other, service.load, st.id)
        assert all(x.id != st.id for x in run(other, service.list_stations, "", "", ""))


def test_a_month_without_an_activity_of_50_people_is_unmet(run, db, t):
    st = certify(run, db, t, "凌河社区e站")
    town = t["210703001"]
    for roles in (("viewer",), ("reviewer",)):  # read-only and review accounts file nothing
        with pytest.raises(PermissionDenied):
            run(town, service.file_schedule, st.id, "2026-03", ["科普讲座"], roles=roles)
        with pytest.raises(PermissionDenied):
            run(town, service.record_activity, {"station_id": st.id, "title": "讲座",
                "date": "2026-03-08", "participants": 60}, roles=roles)  # fmt: skip
    assert run(town, service.months, st.id, 2026)[2].activities == 0
    run(town, service.file_schedule, st.id, "2026-03", ["科普讲座", "应急演练"])
    run(
        town,
        service.record_activity,
        {"station_id": st.id, "title": "科普讲座", "date": "2026-03-08", "participants": 60},
    )
    run(
        town,
        service.record_activity,
        {"station_id": st.id, "title": "小课堂", "date": "2026-04-02", "participants": 30},
    )
    months = {m.month: m for m in run(town, service.months, st.id, 2026)}
    assert months["2026-03"].met and months["2026-03"].scheduled
    assert not months["2026-04"].met and months["2026-04"].activities == 1
    total, unmet = run(t["210700"], service.compliance, "2026-04")
    assert st.id in [x.id for x in unmet] and total >= 1
    _, unmet = run(t["210700"], service.compliance, "2026-03")
    assert st.id not in [x.id for x in unmet]


def test_coverage_rolls_up_and_a_small_denominator_is_refused(run, db, t):
    county, city = t["210703"], t["210700"]
    certify(run, db, t, "村e站一", kind="village")
    certify(run, db, t, "村e站二", kind="village")
    with pytest.raises(InvalidArgument) as err:
        run(county, service.set_denominators, {"tenant_id": county.id, "year": 2026,
            "communities": 10, "schools": 5, "villages": 1})  # fmt: skip
    assert [v.field for v in err.value.violations] == ["villages"]
    run(county, service.set_denominators,
        {"tenant_id": county.id, "year": 2026, "communities": 4, "schools": 5, "villages": 8})  # fmt: skip
    with pytest.raises(InvalidArgument):  # the township's numbers are in the county's already
        run(county, service.set_denominators,
            {"tenant_id": t["210703001"].id, "year": 2026, "communities": 1, "schools": 0, "villages": 0})  # fmt: skip
    run(t["210702"], service.set_denominators,
        {"year": 2026, "communities": 6, "schools": 5, "villages": 0})  # fmt: skip
    with pytest.raises(NotFound):  # a sibling city's county: not found, nothing written
        run(t["210200"], service.set_denominators,
            {"tenant_id": county.id, "year": 2026, "communities": 1, "schools": 0, "villages": 0})  # fmt: skip
    total, kids = run(city, service.coverage, "", 2026)
    by_name = {k.tenant.name: k for k in kids}
    assert by_name["凌河区科协"].ratio("village") == 25.0  # 2 of 8
    assert total.counts["communities"] == 10 and total.ratio("village") == 25.0
    assert by_name["古塔区科协"].ratio("community") == 0.0
    with pytest.raises(NotFound):  # a sibling city's tree
        run(t["210200"], service.coverage, county.id, 2026)
