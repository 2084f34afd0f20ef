"""Use cases on the real database: a province scheme over its cities scored from events and
manual entries, ranking, freeze, publication, allocation, and sibling denial everywhere."""

from __future__ import annotations

import copy
import uuid

import pytest
from assessment_testkit import PROVINCE_SCHEME, activity, certified, feed, submitted, system
from kepu_assessment import service
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from sqlalchemy import text


@pytest.fixture(scope="module")
def facts(db, tree):
    ny, kf = tree["411300"], tree["410200"]
    wolong, township = tree["411303"], tree["411303001"]
    feed(
        db,
        # 南阳: 4 talents certified in its subtree, 2 activities, 2 briefs on time
        certified(wolong), certified(wolong), certified(township), certified(ny),
        activity(township, "2026-03-08", 120), activity(ny, "2026-05-20", 80),
        activity(ny, "2025-12-30", 999),  # last year: not this year's activity
        submitted(wolong, "2026-01", on_time=True), submitted(ny, "2026-01", on_time=True),
        # 开封: 2 talents, 1 activity, 1 of 2 briefs on time
        certified(kf), certified(tree["410202"]),
        activity(kf, "2026-04-01", 30),
        submitted(kf, "2026-01", on_time=True), submitted(kf, "2026-02", on_time=False),
    )  # fmt: skip
    return True


@pytest.fixture(scope="module")
def scheme(db, tree, facts):
    from kepu_common.db import Scope

    prov = tree["410000"]
    p = prov.principal("admin")
    with db.unit_of_work(Scope.tenant(prov.path)) as s:
        sc = service.create_scheme(s, p, copy.deepcopy(PROVINCE_SCHEME))
    return sc


def count(db, table):
    with system(db) as s:
        return s.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def entry(code, **kw):
    return {"indicator_code": code, "evidence": kw.pop("evidence", ""), **kw}


def test_province_scores_and_ranks_its_cities(act, tree, scheme):
    prov, ny, kf = tree["410000"], tree["411300"], tree["410200"]
    act(prov, service.set_scores, scheme.id, ny.id,
        [entry("4", score=20, evidence="成立领导小组"), entry("5", value=9.5)])  # fmt: skip
    act(prov, service.set_scores, scheme.id, kf.id, [entry("4", score=20), entry("5", value=9.0)])
    view = act(prov, service.compute, scheme.id)
    got = {r.name: (r.total, r.rank, r.honoured) for r, _ in view.rows}
    # 南阳: 30 (4/4 talents) + 20 (2 activities) + 20 (100% on time) + 20 + 10 (9.5 ≥ 9.38)
    # 开封: 15 (2/4) + 0 (1 activity < 2) + 10 (50% on time) + 20 + 0 (9.0 < 9.38)
    assert got == {
        "南阳市科协": (100, 1, True),
        "开封市科协": (45, 2, False),
        "济源示范区科协": (0, 3, False),
    }
    details = dict((r.name, d) for r, d in view.rows)["南阳市科协"]
    assert details[0]["actual"] == 4 and details[3]["evidence"] == "成立领导小组"


def test_results_and_scores_are_invisible_to_cities_before_publishing(act, tree, scheme):
    ny, kf, wolong = tree["411300"], tree["410200"], tree["411303"]
    for node in (ny, kf, wolong):
        with pytest.raises(PermissionDenied, match="尚未发布"):
            act(node, service.results, scheme.id)
    with pytest.raises(PermissionDenied):
        act(kf, service.get_scores, scheme.id, ny.id)
    # a city can read the scheme it is assessed on, but not change anything
    assert act(ny, service.get_scheme, scheme.id).name == PROVINCE_SCHEME["name"]
    with pytest.raises(PermissionDenied, match="制定该考核方案"):
        act(ny, service.compute, scheme.id)
    with pytest.raises(PermissionDenied):
        act(kf, service.set_scores, scheme.id, ny.id, [entry("4", score=0)])
    with pytest.raises(PermissionDenied):
        act(ny, service.publish, scheme.id, now=True)


def test_bad_scores_change_nothing(act, tree, scheme, db):
    prov, ny = tree["410000"], tree["411300"]
    before = count(db, "entries")
    with pytest.raises(InvalidArgument, match="没有编号为“99”"):
        act(prov, service.set_scores, scheme.id, ny.id, [entry("4", score=1), entry("99", score=1)])
    with pytest.raises(InvalidArgument, match="0到20分"):
        act(prov, service.set_scores, scheme.id, ny.id, [entry("4", score=21)])
    with pytest.raises(InvalidArgument, match="自动采集"):
        act(prov, service.set_scores, scheme.id, ny.id, [entry("1", score=1)])
    with pytest.raises(PermissionDenied, match="直属下级"):
        act(prov, service.set_scores, scheme.id, tree["411303"].id, [entry("4", score=1)])
    assert count(db, "entries") == before
    assert act(prov, service.get_scores, scheme.id, ny.id)["4"].score == 20


def test_bad_schemes_change_nothing(act, tree, db):
    prov = tree["410000"]
    before = (count(db, "schemes"), count(db, "outbox"))
    bad_weights = copy.deepcopy(PROVINCE_SCHEME)
    bad_weights["indicators"][0]["weight"] = 25
    negative = copy.deepcopy(PROVINCE_SCHEME)
    negative["indicators"][0]["target"] = -5
    unknown = copy.deepcopy(PROVINCE_SCHEME)
    unknown["indicators"][1]["metric"] = "likes"
    for data, needle in ((bad_weights, "应为100分"), (negative, "负数"), (unknown, "未知")):
        with pytest.raises(InvalidArgument, match=needle):
            act(prov, service.create_scheme, data)
    with pytest.raises(PermissionDenied):
        act(prov, service.create_scheme, copy.deepcopy(PROVINCE_SCHEME), roles=("viewer",))
    assert (count(db, "schemes"), count(db, "outbox")) == before


def test_publishing_freezes_and_shows_the_ranking_to_the_whole_subtree(act, tree, scheme, db):
    prov, kf, wolong = tree["410000"], tree["410200"], tree["411303"]
    view = act(prov, service.publish, scheme.id, now=True)
    assert view.scheme.status == "published"
    assert [r.name for r in view.honours] == ["南阳市科协"]

    seen = act(kf, service.results, scheme.id)
    ranks = {r.name: (r.rank, bool(d)) for r, d in seen.rows}
    # 开封 sees every city's rank but only its own indicator scores
    assert ranks == {
        "南阳市科协": (1, False),
        "开封市科协": (2, True),
        "济源示范区科协": (3, False),
    }
    assert [r.name for r in seen.honours] == ["南阳市科协"]
    county_view = act(wolong, service.results, scheme.id)
    assert {r.name: bool(d) for r, d in county_view.rows}["南阳市科协"] is True

    # frozen: no recompute, no new scores, no second publication
    with pytest.raises(Conflict, match="冻结"):
        act(prov, service.compute, scheme.id)
    with pytest.raises(Conflict, match="冻结"):
        act(prov, service.set_scores, scheme.id, kf.id, [entry("4", score=1)])
    with pytest.raises(Conflict, match="已经发布"):
        act(prov, service.publish, scheme.id, now=True)
    feed(db, certified(tree["410202"]), certified(tree["410202"]))
    again = act(prov, service.results, scheme.id)
    assert {r.name: r.total for r, _ in again.rows}["开封市科协"] == 45

    with system(db) as s:
        types = list(s.execute(text("SELECT type FROM outbox ORDER BY id")).scalars())
    assert types[-3:] == [
        "assessment.scheme.created",
        "assessment.scheme.closed",
        "assessment.results.published",
    ]


def test_a_county_cannot_see_a_sibling_countys_scores(act, tree):
    ny, kf, wolong, wancheng = tree["411300"], tree["410200"], tree["411303"], tree["411302"]
    data = {
        "year": 2026,
        "name": "南阳市2026年度考核",
        "indicators": [{"code": "A", "name": "组织领导", "weight": 100, "kind": "manual"}],
    }
    sc = act(ny, service.create_scheme, data)
    act(ny, service.set_scores, sc.id, wolong.id, [entry("A", score=80, evidence="材料齐全")])
    with pytest.raises(PermissionDenied):
        act(wancheng, service.get_scores, sc.id, wolong.id)
    with pytest.raises(PermissionDenied, match="尚未发布"):
        act(wancheng, service.results, sc.id)
    # another city does not even see the scheme
    with pytest.raises(NotFound):
        act(kf, service.get_scheme, sc.id)
    with pytest.raises(NotFound):
        act(kf, service.results, sc.id)
    assert sc.id not in {x.id for x in act(kf, service.list_schemes, 2026)}
    assert sc.id in {x.id for x in act(wolong, service.list_schemes, 2026)}
    # the province above sees the city's live results
    live = act(tree["410000"], service.results, sc.id)
    assert live.live and {r.name: r.total for r, _ in live.rows}["卧龙区科协"] == 80
    with pytest.raises(NotFound):
        act(ny, service.get_scheme, str(uuid.uuid4()))
    with pytest.raises(InvalidArgument, match="编号格式"):
        act(ny, service.get_scheme, "not-a-uuid")


def test_quotas_cascade_and_must_cover_the_parents(act, tree, db):
    prov, ny, kf, jy = tree["410000"], tree["411300"], tree["410200"], tree["419001"]
    wolong, wancheng = tree["411303"], tree["411302"]
    data = copy.deepcopy(PROVINCE_SCHEME)
    data["name"] = "任务指标分配"
    sc = act(prov, service.create_scheme, data)
    before = count(db, "allocations")
    with pytest.raises(InvalidArgument, match="之和（9000）少于本级任务指标（10000）"):
        act(prov, service.set_allocation, sc.id, "1", 10000,
            {ny.id: 5000, kf.id: 3000, jy.id: 1000})  # fmt: skip
    with pytest.raises(InvalidArgument, match="负数"):
        act(prov, service.set_allocation, sc.id, "1", 0, {ny.id: -1})
    with pytest.raises(InvalidArgument, match="没有编号"):
        act(prov, service.set_allocation, sc.id, "42", 0, {ny.id: 1})
    with pytest.raises(InvalidArgument, match="直属下级"):
        act(prov, service.set_allocation, sc.id, "1", 0, {wolong.id: 1})
    with pytest.raises(PermissionDenied):
        act(ny, service.set_allocation, sc.id, "1", 0, {ny.id: 99999})
    assert count(db, "allocations") == before

    a = act(prov, service.set_allocation, sc.id, "1", 10000,
            {ny.id: 6000, kf.id: 3000, jy.id: 1000})  # fmt: skip
    assert (a.parent_quota, a.allocated) == (10000, 10000)
    # each city sees its own quota, not its siblings'
    mine = act(ny, service.list_allocations, sc.id)
    assert [(t.name, q) for t, q in mine[0].quotas] == [("南阳市科协", 6000)]
    # the quota replaces the default target: 4 talents of 6000 is almost nothing
    live = act(prov, service.results, sc.id)
    talents = {r.name: r.scores[0] for r, _ in live.rows}
    assert talents["南阳市科协"].target == 6000 and talents["南阳市科协"].score == 0.02

    # 南阳 passes its 6000 on: its counties must cover it, whatever total it claims
    city = {"year": 2026, "name": "南阳市人才任务", "indicators": [
        {"code": "R", "name": "科普人才", "weight": 100, "kind": "automatic",
         "metric": "talents_certified", "target": 100}]}  # fmt: skip
    csc = act(ny, service.create_scheme, city)
    with pytest.raises(InvalidArgument, match="少于本级任务指标（6000）"):
        act(ny, service.set_allocation, csc.id, "R", 0, {wolong.id: 3000, wancheng.id: 2000})
    ok = act(ny, service.set_allocation, csc.id, "R", 0, {wolong.id: 3000, wancheng.id: 3000})
    assert ok.parent_quota == 6000
    with pytest.raises(PermissionDenied):
        act(wancheng, service.get_scores, csc.id, wolong.id)
    assert act(wancheng, service.list_allocations, csc.id)[0].quotas[0][0].name == "宛城区科协"
