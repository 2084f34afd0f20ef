"""Certified bases on the real database: 安阳市 opens a certification call for 科普示范社区 (refused
without its criteria, nothing written); 文峰区 and 北关区 file, the city selects one; the chosen
unit holds a base with a number and a three-year validity, the event is in the outbox; the
yearly 复核 passes once, a second review of that year is refused, and a failed review takes
the title away; the registry counts the bases per child against targets (e.g. 2 / 6 / 7)."""

from __future__ import annotations

import pytest
from kepu.events.v1 import envelope_pb2
from kepu.projects.v1 import bases_pb2
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_projects import service
from kepu_projects.bases import service as bases
from projects_testkit import form, sh, system_rows

CRITERIA = [{"name": "场地设施", "weight": 40}, {"name": "科普活动", "weight": 60}]


def certification_call(act, node, clock, **over):
    data = {
        "title": "2026年省级科普示范社区认定", "programme": "科普示范社区", "deadline": "2026-04-30",
        "quota": 1, "criteria": CRITERIA, "min_reviewers": 1, "outcome": "certification",
        "base_kind": "科普示范社区",
    } | over  # fmt: skip
    return act(node, service.open_call, clock.now, data)


def base_events(db):
    out = []
    for typ, payload in system_rows(
        db, "SELECT type, payload FROM outbox WHERE type LIKE 'projects.base.%' ORDER BY id"
    ):
        msg = bases_pb2.BaseChanged()
        envelope_pb2.EventEnvelope.FromString(bytes(payload)).payload.Unpack(msg)
        out.append((typ, msg.number))
    return out


def test_a_certification_call_without_criteria_or_kind_is_refused(act, db, tree, clock):
    city = tree["410500"]
    before = system_rows(db, "SELECT count(*) FROM calls")
    for over, fld in (({"criteria": []}, "criteria"), ({"base_kind": "科技小院"}, "base_kind"),
                      ({"outcome": "prize"}, "outcome"), ({"validity_years": 20}, "validity_years")):  # fmt: skip
        with pytest.raises(InvalidArgument) as exc:
            certification_call(act, city, clock, **over)
        assert exc.value.violations[0].field == fld
    assert system_rows(db, "SELECT count(*) FROM calls") == before


def test_selection_certifies_a_base_that_is_reviewed_every_year(act, db, tree, clock, ring):
    city, wenfeng, beiguan, province = (
        tree["410500"],
        tree["410502"],
        tree["410503"],
        tree["410000"],
    )
    call = certification_call(act, city, clock)
    assert (call.outcome, call.base_kind, call.validity_years) == (
        "certification",
        "科普示范社区",
        3,
    )
    ids = []
    for node, name, score in ((wenfeng, "东大街社区", 90), (beiguan, "红旗路社区", 70)):
        v = act(node, service.create_project, clock.now, ring, form(call_id=call.id, name=name))
        act(node, service.submit, clock.now, v.project.id)
        act(city, service.review, clock.now, v.project.id, "pass", "")
        act(city, service.record_scores, call.id, v.project.id, "王专家",
            {"场地设施": score, "科普活动": score})  # fmt: skip
        ids.append(v.project.id)
    approved, _ = act(city, service.select, clock.now, call.id, 1, True)
    assert [p.id for p in approved] == [ids[0]]

    [b] = act(wenfeng, bases.list_bases, clock.now, "", "", "")
    assert (b.kind, b.name, b.tenant_name, b.status) == (
        "科普示范社区",
        "东大街社区",
        "文峰区科协",
        "certified",
    )
    assert b.number == "410500-SQ2026-001"
    assert (str(b.certified_on), str(b.valid_until)) == ("2026-03-01", "2029-02-28")
    assert base_events(db)[-1] == ("projects.base.certified", b.number)
    assert act(beiguan, bases.list_bases, clock.now, "", "", "") == []
    with pytest.raises(NotFound):
        act(beiguan, bases.load, b.id)

    # 2027's 复核: only the certifier, once a year; a failure takes the title away
    clock.now = sh(2027, 3, 10, 9)
    with pytest.raises(PermissionDenied):
        act(province, bases.review, clock.now, b.id, 2027, "passed", "")
    with pytest.raises(InvalidArgument) as exc:
        act(city, bases.review, clock.now, b.id, 2028, "passed", "")
    assert exc.value.violations[0].field == "year"
    kept = act(city, bases.review, clock.now, b.id, 2027, "passed", "设施完好")
    assert kept.status == "certified" and [r[1] for r in kept.reviews] == [2027]
    with pytest.raises(Conflict):
        act(city, bases.review, clock.now, b.id, 2027, "failed", "重复")
    clock.now = sh(2028, 3, 10, 9)
    with pytest.raises(InvalidArgument) as exc:
        act(city, bases.review, clock.now, b.id, 2028, "failed", "")
    assert exc.value.violations[0].field == "opinion"
    lost = act(city, bases.review, clock.now, b.id, 2028, "failed", "全年未开展科普活动")
    assert (lost.status, str(lost.revoked_on)) == ("revoked", "2028-03-10")
    assert base_events(db)[-1] == ("projects.base.revoked", b.number)
    with pytest.raises(Conflict):
        act(city, bases.review, clock.now, b.id, 2028, "passed", "")


def test_the_registry_counts_bases_per_child_against_targets(act, db, tree, clock, ring):
    city, laocheng, wenfeng = tree["410500"], tree["410302"], tree["410502"]
    clock.now = sh(2026, 3, 1, 9)
    call = certification_call(act, city, clock, base_kind="科普教育基地", title="科普教育基地认定")
    v = act(
        wenfeng, service.create_project, clock.now, ring, form(call_id=call.id, name="殷墟科普馆")
    )
    act(wenfeng, service.submit, clock.now, v.project.id)
    act(city, service.review, clock.now, v.project.id, "pass", "")
    act(
        city,
        service.record_scores,
        call.id,
        v.project.id,
        "王专家",
        {"场地设施": 80, "科普活动": 80},
    )
    act(city, service.select, clock.now, call.id, 1, False)

    targets = [{"kind": "科普教育基地", "target": 2}, {"kind": "科普示范社区", "target": 6},
               {"kind": "现代农业科普园", "target": 7}]  # fmt: skip
    own, _ = act(city, bases.set_targets, clock.now, wenfeng.id, targets)
    assert (own.tenant.id, own.certified) == (wenfeng.id, {"科普教育基地": 1})
    total, kids = act(city, bases.registry, clock.now, "")
    row = next(k for k in kids if k.tenant.id == wenfeng.id)
    assert row.targets == {"科普教育基地": 2, "科普示范社区": 6, "现代农业科普园": 7}
    assert row.certified == {"科普教育基地": 1}  # the revoked 科普示范社区 no longer counts
    assert total.certified == {"科普教育基地": 1}
    with pytest.raises(NotFound):  # another city's county
        act(city, bases.set_targets, clock.now, laocheng.id, targets)
    with pytest.raises(PermissionDenied):
        act(wenfeng, bases.set_targets, clock.now, "", targets, roles=("reporter",))
    prov, _ = act(tree["410000"], bases.registry, clock.now, "")
    assert prov.targets["农村中学科技馆"] == 20  # the province's plan (seed 001)
