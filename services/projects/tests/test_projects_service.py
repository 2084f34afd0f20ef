"""Use cases on the real database: a call from 安阳市 runs from filing to 考核, with the review
chain, expert ranking, quota-bound selection, events in the outbox and yearly counts."""

from datetime import timedelta

import pytest
from kepu.projects.v1 import projects_pb2
from kepu_common.db import Scope
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_projects import service
from projects_testkit import form, sh, system_rows
from sqlalchemy import text


def open_call(act, node, clock, **over):
    data = {
        "title": "2026年科普示范社区项目申报",
        "programme": "科普示范社区",
        "deadline": "2026-04-30",
        "quota": 2,
        "criteria": [{"name": "科学性", "weight": 40}, {"name": "创新性", "weight": 60}],
        "min_reviewers": 2,
    }
    data.update(over)
    return act(node, service.open_call, clock.now, data)


def file(act, node, clock, ring, call, **over):
    view = act(node, service.create_project, clock.now, ring, form(call_id=call.id, **over))
    return act(node, service.submit, clock.now, view.project.id).project


def outbox(db, project_id):
    rows = system_rows(db, "SELECT type, payload FROM outbox ORDER BY id")
    out = []
    for typ, payload in rows:
        from kepu.events.v1 import envelope_pb2

        env = envelope_pb2.EventEnvelope.FromString(bytes(payload))
        ev = projects_pb2.ProjectEvent()
        env.payload.Unpack(ev)
        if ev.project_id == project_id:
            out.append(typ)
    return out


def test_a_township_project_climbs_the_chain_and_is_approved_evaluated_and_counted(
    act, db, tree, clock, ring
):
    city, county, town = tree["410500"], tree["410502"], tree["410502001"]
    call = open_call(act, city, clock)
    assert call.owner_name == "安阳市科协"
    fileable = act(town, service.list_calls, clock.now, open_only=True, fileable_only=True)
    assert call.id in [c.id for c in fileable]
    # the city cannot file against its own call
    assert call.id not in [
        c.id for c in act(city, service.list_calls, clock.now, open_only=True, fileable_only=True)
    ]

    p = file(act, town, clock, ring, call, name="宝莲寺镇农技科普大篷车")
    assert (p.status, p.awaiting_path) == ("submitted", county.path)
    # the city may not jump the county
    with pytest.raises(PermissionDenied, match="其他层级"):
        act(city, service.review, clock.now, p.id, "pass", "")
    v = act(county, service.review, clock.now, p.id, "pass", "同意推荐")
    assert (v.project.status, v.project.awaiting_path) == ("submitted", city.path)
    v = act(city, service.review, clock.now, p.id, "pass", "进入专家评审")
    assert v.project.status == "expert_review"
    assert [o.tenant_name for o in v.opinions] == ["文峰区科协", "安阳市科协"]

    for reviewer, s1, s2 in (("张教授", 90, 80), ("李研究员", 70, 90)):
        act(city, service.record_scores, call.id, p.id, reviewer, {"科学性": s1, "创新性": s2})
    _call, rows = act(city, service.ranking, call.id)
    row = next(r for r in rows if r.project.id == p.id)
    assert (row.ranked.mean, row.ranked.spread, row.ranked.eligible) == (83.0, 1.0, True)

    approved, _ = act(city, service.select, clock.now, call.id, 1, False)
    assert [x.id for x in approved] == [p.id]
    got = act(town, service.get_project, ring, p.id).project
    assert got.status == "approved" and got.library_no.endswith("-001")

    with pytest.raises(Conflict, match="先报送"):
        act(town, service.complete, clock.now, p.id, "")
    act(town, service.report_progress, clock.now, p.id, "已完成6场巡回讲座", 40)
    clock.now = sh(2026, 11, 20, 10)
    v = act(town, service.complete, clock.now, p.id, "全部完成")
    assert v.project.status == "completed" and len(v.progress) == 1
    with pytest.raises(PermissionDenied, match="发布申报批次"):
        act(county, service.evaluate, clock.now, p.id, 92, "")
    v = act(city, service.evaluate, clock.now, p.id, 92, "成效显著")
    assert (v.project.status, v.project.evaluation_grade) == ("evaluated", "优秀")
    v = act(city, service.flag_award, p.id, True)
    assert v.project.award_recommended

    assert outbox(db, p.id) == [
        "projects.project.submitted",
        "projects.project.approved",
        "projects.project.completed",
        "projects.project.evaluated",
    ]
    yc = act(city, service.yearly_counts, "", 2026)
    assert (yc.total.approved, yc.total.completed, yc.total.evaluated) >= (1, 1, 1)
    wenfeng = dict((t.code, c) for t, c in yc.children)["410502"]
    assert (wenfeng.approved, wenfeng.completed) == (1, 1)
    assert yc.by_category["activity"] == (1, 1)
    assert act(city, service.yearly_counts, "", 2025).total.approved == 0
    # the province's roll-up includes the city's subtree
    assert (
        dict((t.code, c) for t, c in act(tree["410000"], service.yearly_counts, "", 2026).children)[
            "410500"
        ].approved
        == 1
    )


def test_expert_ranking_and_top_n_selection_respect_the_quota(act, db, tree, clock, ring):
    city, wenfeng, beiguan = tree["410500"], tree["410502"], tree["410503"]
    call = open_call(act, city, clock, quota=2, title="中原科普讲坛2026")
    ids = {}
    for node, name in ((wenfeng, "甲"), (beiguan, "乙"), (wenfeng, "丙"), (beiguan, "丁")):
        p = file(act, node, clock, ring, call, name=name)
        act(city, service.review, clock.now, p.id, "pass", "")
        ids[name] = p.id
    scores = {  # name -> [(科学性, 创新性)] per expert; totals = 0.4 a + 0.6 b
        "甲": [(80, 90), (90, 90)],  # 86, 90 -> mean 88, spread 2
        "乙": [(100, 80), (70, 100)],  # 88, 88 -> mean 88, spread 0
        "丙": [(60, 60), (50, 50)],  # 60, 50 corrected to 70 below -> mean 65, spread 5
        "丁": [(100, 100)],  # one expert only: not eligible (min 2)
    }
    for name, rows in scores.items():
        for i, (a, b) in enumerate(rows):
            act(
                city,
                service.record_scores,
                call.id,
                ids[name],
                f"专家{i}",
                {"科学性": a, "创新性": b},
            )
    # the same expert again: refused, unless it is an explicit correction with a reason
    again = {"科学性": 70, "创新性": 70}
    with pytest.raises(Conflict, match="不能重复评分"):
        act(city, service.record_scores, call.id, ids["丙"], "专家1", again)
    fixed = act(
        city,
        service.record_scores,
        call.id,
        ids["丙"],
        "专家1",
        again,
        correction=True,
        reason="录入有误，按评分表更正",
    )
    assert [(h.total, h.correction) for h in fixed.history] == [(50.0, False), (70.0, True)]
    _call, rows = act(city, service.ranking, call.id)
    table = [
        (r.project.name, r.ranked.rank, r.ranked.mean, r.ranked.spread, r.ranked.eligible)
        for r in rows
    ]
    assert table == [
        ("丁", 1, 100.0, 0.0, False),
        ("乙", 2, 88.0, 0.0, True),
        ("甲", 3, 88.0, 2.0, True),
        ("丙", 4, 65.0, 5.0, True),
    ]
    with pytest.raises(Conflict, match="剩余名额"):
        act(city, service.select, clock.now, call.id, 3, False)
    approved, rejected = act(city, service.select, clock.now, call.id, 0, True)
    assert [x.name for x in approved] == ["乙", "甲"]
    assert [x.name for x in rejected] == ["丙"]
    assert "排名第4" in rejected[0].reject_reason
    with pytest.raises(Conflict, match="已满"):
        act(city, service.select, clock.now, call.id, 1, False)
    assert act(city, service.get_call, call.id).approved == 2


def test_late_filing_is_refused_and_the_call_owner_can_reject_in_expert_review(
    act, tree, clock, ring
):
    city, county = tree["410500"], tree["410502"]
    call = open_call(act, city, clock, title="农村中学科技馆", programme="农村中学科技馆")
    draft = act(county, service.create_project, clock.now, ring, form(call_id=call.id)).project
    clock.now = call.deadline + timedelta(seconds=1)
    with pytest.raises(Conflict, match="已于2026年04月30日 23:59截止"):
        act(county, service.submit, clock.now, draft.id)
    assert act(county, service.get_project, ring, draft.id).project.status == "draft"

    clock.now = sh(2026, 3, 2, 9)
    p = act(county, service.submit, clock.now, draft.id).project
    act(city, service.review, clock.now, p.id, "pass", "")
    with pytest.raises(Conflict, match="择优立项"):
        act(city, service.review, clock.now, p.id, "pass", "")
    v = act(city, service.review, clock.now, p.id, "fail", "与本专项方向不符")
    assert (v.project.status, v.project.reject_reason) == ("rejected", "与本专项方向不符")


def test_the_phone_is_sealed_at_rest_masked_in_lists_and_every_full_view_is_audited(
    act, db, tree, clock, ring
):
    county = tree["410502"]
    p = act(
        county, service.create_project, clock.now, ring, form(contact_phone="13912345678")
    ).project
    raw = system_rows(
        db, "SELECT phone_sealed, phone_masked FROM projects WHERE id = :id", id=p.id
    )[0]
    assert b"13912345678" not in bytes(raw[0]) and raw[1] == "139****5678"
    rows, _ = act(county, service.list_projects)
    assert "139****5678" in [r.phone_masked for r in rows] and not any(
        r.phone_revealed for r in rows
    )
    with pytest.raises(PermissionDenied, match="完整联系电话"):
        act(county, service.get_project, ring, p.id, reveal=True, roles=("viewer",))
    assert (
        act(county, service.get_project, ring, p.id, reveal=True).project.phone_revealed
        == "13912345678"
    )
    audit = system_rows(
        db, "SELECT viewer_username FROM reveal_audit WHERE project_id = :id", id=p.id
    )
    assert audit == [("admin410502",)]


def test_masks_stored_before_the_area_code_rule_are_redone_at_start(act, db, tree, clock, ring):
    county = tree["410502"]
    p = act(county, service.create_project, clock.now, ring, form(contact_phone="0372-5951234"))
    with db.unit_of_work(Scope.system_scope()) as s:  # how the old rule stored it
        s.execute(
            text("UPDATE projects SET phone_masked = '********1234' WHERE id = CAST(:i AS uuid)"),
            {"i": p.project.id},
        )
    with db.unit_of_work(Scope.system_scope()) as s:
        assert service.remask_phones(s, ring) >= 1
    with db.unit_of_work(Scope.system_scope()) as s:
        assert service.remask_phones(s, ring) == 0
    assert act(county, service.get_project, ring, p.project.id).project.phone_masked == (
        "0372-****1234"
    )


def test_the_list_sorts_on_the_server_by_the_column_asked(act, tree, clock, ring):
    county = tree["410502"]
    for name, budget in (("排序测试乙", "300"), ("排序测试甲", "100"), ("排序测试丙", "")):
        act(county, service.create_project, clock.now, ring, form(name=name, budget=budget))

    def names(**sort):
        rows, total = act(county, service.list_projects, q="排序测试", **sort)
        assert total == 3
        return [r.name for r in rows]

    assert names(sort="budget", order="asc") == ["排序测试甲", "排序测试乙", "排序测试丙"]
    # no budget stays last either way
    assert names(sort="budget", order="desc") == ["排序测试乙", "排序测试甲", "排序测试丙"]
    assert names(sort="name") == sorted(names(sort="name", order="asc"))
    assert names(sort="name", order="desc") == list(reversed(names(sort="name")))
    with pytest.raises(InvalidArgument, match="排序字段不正确") as bad:
        act(county, service.list_projects, sort="contact_phone")
    assert [v.field for v in bad.value.violations] == ["sort"]
    with pytest.raises(InvalidArgument, match="排序方向"):
        act(county, service.list_projects, sort="name", order="up")


def test_the_owner_closes_a_call_early_and_filing_stops_there(act, tree, clock, ring):
    city, county, other_city = tree["410500"], tree["410502"], tree["410300"]
    call = open_call(act, city, clock, title="提前截止的批次")
    draft = act(county, service.create_project, clock.now, ring, form(call_id=call.id)).project
    with pytest.raises(PermissionDenied, match="截止"):
        act(county, service.close_call, clock.now, call.id)  # the county only files into it
    with pytest.raises(PermissionDenied):
        act(city, service.close_call, clock.now, call.id, roles=("reviewer",))
    with pytest.raises(NotFound):
        act(other_city, service.close_call, clock.now, call.id)
    assert act(county, service.get_call, call.id).deadline == call.deadline

    closed = act(city, service.close_call, clock.now, call.id)
    assert closed.deadline < clock.now
    assert act(county, service.get_call, call.id).deadline == closed.deadline
    with pytest.raises(Conflict, match="截止"):
        act(county, service.submit, clock.now, draft.id)
    later = clock.now + timedelta(minutes=1)
    assert call.id not in [
        c.id for c in act(county, service.list_calls, later, open_only=True, fileable_only=True)
    ]
    with pytest.raises(Conflict, match="已经截止"):
        act(city, service.close_call, later, call.id)
