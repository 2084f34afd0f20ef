"""The figures a clerk sees in the assessment are right (issue 10): honours never go to units
without a score nor beyond N unless the owner resolves a boundary tie, timeliness counts what
is due, and an allocation is published as the children's quota."""

from __future__ import annotations

import copy

import pytest
from assessment_testkit import PROVINCE_SCHEME, feed, overdue, submitted, system
from kepu.assessment.v1 import assessment_pb2
from kepu.events.v1 import envelope_pb2
from kepu_assessment import service
from kepu_common.errors import Conflict, PermissionDenied
from sqlalchemy import text


def manual_scheme(top_n):
    return {"year": 2026, "name": f"前{top_n}名", "honours_top_n": top_n,
            "indicators": [{"code": "1", "name": "工作实绩", "weight": 100, "kind": "manual"}]}  # fmt: skip


def score(act, owner, sc, node, points):
    entry = {"indicator_code": "1", "score": points, "evidence": ""}
    act(owner, service.set_scores, sc.id, node.id, [entry])


def honours(view):
    return [r.name for r, _ in view.rows if r.honoured]


def test_units_without_a_score_are_never_honoured(act, tree):
    prov, ny = tree["410000"], tree["411300"]
    top3 = act(prov, service.create_scheme, manual_scheme(3))
    score(act, prov, top3, ny, 60)
    view = act(prov, service.compute, top3.id)
    assert [(r.name, r.rank) for r, _ in view.rows] == [
        ("南阳市科协", 1), ("开封市科协", 2), ("济源示范区科协", 2),
    ]  # fmt: skip
    assert honours(view) == ["南阳市科协"]
    assert "2个单位得分为0，不列入先进典型" in view.honours_info.note
    top1 = act(prov, service.create_scheme, manual_scheme(1))  # nobody scored at all
    assert honours(act(prov, service.compute, top1.id)) == []


def test_a_boundary_tie_is_honoured_only_as_the_owner_resolves_it(act, tree):
    prov, ny, kf, jy = tree["410000"], tree["411300"], tree["410200"], tree["419001"]
    sc = act(prov, service.create_scheme, manual_scheme(1))
    score(act, prov, sc, ny, 80)
    score(act, prov, sc, kf, 80)
    score(act, prov, sc, jy, 50)
    view = act(prov, service.close, sc.id, now=True)
    assert honours(view) == [] and view.honours == []
    tie = view.honours_info.tie
    assert (tie.rank, tie.seats, set(tie.tenant_ids)) == (1, 1, {ny.id, kf.id})
    assert (
        "第1名有2个单位并列" in view.honours_info.note
        and "请考核单位确定取舍" in view.honours_info.note
    )
    with pytest.raises(PermissionDenied):
        act(kf, service.resolve_tie, sc.id, [kf.id])  # only the owner decides
    resolved = act(prov, service.resolve_tie, sc.id, [ny.id])
    assert honours(resolved) == ["南阳市科协"]
    published = act(prov, service.publish, sc.id, now=True)
    assert [r.name for r in published.honours] == ["南阳市科协"]
    seen = act(kf, service.results, sc.id)  # what the cities see
    assert honours(seen) == ["南阳市科协"] and "已确定其中1个" in seen.honours_info.note
    with pytest.raises(Conflict, match="已经发布"):
        act(prov, service.resolve_tie, sc.id, [kf.id])


def test_timeliness_counts_the_reports_due_not_only_those_filed(db, act, tree):
    prov = tree["410000"]
    # 南阳's subtree: 4 units owe the January brief; one filed on time, three fell overdue
    feed(db, submitted(tree["411303001"], "2026-01", on_time=True),
         *(overdue(tree[c], "2026-01") for c in ("411300", "411303", "411302")))  # fmt: skip
    sc = act(prov, service.create_scheme, copy.deepcopy(PROVINCE_SCHEME))
    view = act(prov, service.compute, sc.id)
    timeliness = {r.name: d[2] for r, d in view.rows}["南阳市科协"]
    assert (timeliness["actual"], timeliness["score"]) == (25.0, 5.0)  # not 100% and 20 points


def test_an_allocation_is_published_as_the_childrens_quota(db, act, tree):
    prov, ny, kf, jy = tree["410000"], tree["411300"], tree["410200"], tree["419001"]
    sc = act(prov, service.create_scheme, copy.deepcopy(PROVINCE_SCHEME))
    act(prov, service.set_allocation, sc.id, "1", 10000, {ny.id: 5000, kf.id: 3000, jy.id: 2000})
    with system(db) as s:
        raw = s.execute(
            text("SELECT payload FROM outbox WHERE type = 'assessment.allocation.set'")
        ).scalar_one()
    msg = assessment_pb2.AllocationSet()
    envelope_pb2.EventEnvelope.FromString(raw).payload.Unpack(msg)
    assert (msg.metric, msg.year, msg.parent_quota) == ("talents_certified", 2026, 10000)
    assert {q.tenant_id: q.quota for q in msg.quotas} == {ny.id: 5000, kf.id: 3000, jy.id: 2000}
