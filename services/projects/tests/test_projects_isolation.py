"""Tenancy on the real database: siblings and other branches can neither read nor change a
project or a call (404 when invisible, 403 at the wrong level), bad input changes nothing,
and row-level security holds even for a query that forgets its filter."""

import pytest
from kepu_common.db import Scope
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_projects import service
from projects_testkit import Clock, form, sh, snapshot
from sqlalchemy import text


@pytest.fixture(scope="module")
def world(db, tree, ring):
    """安阳 opens a call; 文峰区 files one approved project and keeps one draft."""
    clock = Clock(sh(2026, 3, 1, 9))

    def act(node, fn, *args, **kw):
        p = node.principal("admin")
        with db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            return fn(s, p, *args, **kw)

    city, county = tree["410500"], tree["410502"]
    call = act(
        city,
        service.open_call,
        clock.now,
        {
            "title": "科普教育基地",
            "programme": "科普教育基地",
            "deadline": "2026-05-31",
            "quota": 5,
        },
    )
    p = act(county, service.create_project, clock.now, ring, form(call_id=call.id)).project
    act(county, service.submit, clock.now, p.id)
    act(city, service.review, clock.now, p.id, "pass", "")
    act(
        city,
        service.record_scores,
        call.id,
        p.id,
        "专家甲",
        {"科学性": 80, "创新性": 80, "可行性": 80, "预期绩效": 80},
    )
    act(city, service.select, clock.now, call.id, 1, False)
    draft = act(county, service.create_project, clock.now, ring, form(name="草稿项目")).project
    return {"call": call, "project": p, "draft": draft, "clock": clock}


def use_cases(w, ring):
    """Every use case that touches a project or a call, as (name, fn, args)."""
    pid, did, cid, now = w["project"].id, w["draft"].id, w["call"].id, w["clock"].now
    scores = {"科学性": 90, "创新性": 90, "可行性": 90, "预期绩效": 90}
    return [
        ("get", service.get_project, (ring, pid)),
        ("reveal", service.get_project, (ring, pid), {"reveal": True}),
        ("update", service.update_project, (now, ring, did, form())),
        ("submit", service.submit, (now, did)),
        ("review", service.review, (now, pid, "fail", "不同意")),
        ("progress", service.report_progress, (now, pid, "进展", 10)),
        ("complete", service.complete, (now, pid, "")),
        ("evaluate", service.evaluate, (now, pid, 80, "")),
        ("award", service.flag_award, (pid, True)),
        ("scores", service.record_scores, (cid, pid, "专家乙", scores)),
        ("ranking", service.ranking, (cid,)),
        ("select", service.select, (now, cid, 1, False)),
        ("call", service.get_call, (cid,)),
    ]


CASES = [
    "get",
    "reveal",
    "update",
    "submit",
    "review",
    "progress",
    "complete",
    "evaluate",
    "award",
    "scores",
    "ranking",
    "select",
    "call",
]


@pytest.mark.parametrize("case", CASES)
def test_another_city_cannot_see_or_touch_anything(act, db, tree, world, ring, case):
    name, fn, args, *kw = next(c for c in use_cases(world, ring) if c[0] == case)
    with db.unit_of_work(Scope.system_scope()) as s:
        before = snapshot(s)
    with pytest.raises(NotFound):
        act(tree["410300"], fn, *args, **(kw[0] if kw else {}))  # 洛阳市
    with db.unit_of_work(Scope.system_scope()) as s:
        assert snapshot(s) == before


@pytest.mark.parametrize(
    "case", [c for c in CASES if c not in ("ranking", "select", "scores", "call")]
)
def test_a_sibling_county_cannot_see_or_touch_a_project(act, tree, world, ring, case):
    name, fn, args, *kw = next(c for c in use_cases(world, ring) if c[0] == case)
    with pytest.raises(NotFound):
        act(tree["410503"], fn, *args, **(kw[0] if kw else {}))  # 北关区


@pytest.mark.parametrize("case", ["ranking", "select", "scores"])
def test_a_county_sees_its_citys_call_but_cannot_run_the_expert_review(
    act, tree, world, ring, case
):
    name, fn, args, *kw = next(c for c in use_cases(world, ring) if c[0] == case)
    with pytest.raises(PermissionDenied, match="发布该申报批次"):
        act(tree["410503"], fn, *args)


def test_lists_and_counts_stop_at_the_branch(act, tree, world, ring):
    pid = world["project"].id
    rows, total = act(tree["410503"], service.list_projects, subtree=True)
    assert pid not in [r.id for r in rows]
    rows, _ = act(tree["410300"], service.list_projects, subtree=True, call_id=world["call"].id)
    assert rows == []
    assert world["call"].id not in [
        c.id
        for c in act(
            tree["410300"],
            service.list_calls,
            world["clock"].now,
            open_only=False,
            fileable_only=False,
        )
    ]
    assert world["call"].id in [
        c.id
        for c in act(
            tree["410503"],
            service.list_calls,
            world["clock"].now,
            open_only=True,
            fileable_only=True,
        )
    ]
    with pytest.raises(NotFound):
        act(tree["410503"], service.yearly_counts, tree["410502"].id, 2026)
    with pytest.raises(NotFound):
        act(tree["410300"], service.yearly_counts, tree["410500"].id, 2026)
    assert act(tree["410500"], service.yearly_counts, tree["410502"].id, 2026).total.approved == 1


def test_wrong_level_is_forbidden(act, tree, world, ring):
    city, county, province = tree["410500"], tree["410502"], tree["410000"]
    p = act(
        county, service.create_project, world["clock"].now, ring, form(call_id=world["call"].id)
    ).project
    act(county, service.submit, world["clock"].now, p.id)
    with pytest.raises(PermissionDenied, match="其他层级"):
        act(province, service.review, world["clock"].now, p.id, "pass", "")
    with pytest.raises(PermissionDenied, match="本单位"):
        act(county, service.review, world["clock"].now, p.id, "pass", "")
    with pytest.raises(PermissionDenied, match="本单位"):
        act(city, service.report_progress, world["clock"].now, world["project"].id, "代报", 5)
    with pytest.raises(PermissionDenied, match="权限"):
        act(city, service.review, world["clock"].now, p.id, "pass", "", roles=("viewer",))
    # a call may only be filed against by a descendant of its owner
    with pytest.raises(PermissionDenied, match="上级单位"):
        act(city, service.create_project, world["clock"].now, ring, form(call_id=world["call"].id))
    with pytest.raises(PermissionDenied, match="乡镇"):
        act(
            tree["410502001"],
            service.open_call,
            world["clock"].now,
            {"title": "x", "programme": "y", "deadline": "2026-05-31"},
        )


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"start_month": "2026-10", "end_month": "2026-02"}, "不能早于"),
        ({"budget": "-100"}, "负数"),
        ({"category": "科普旅游"}, "项目类别"),
    ],
)
def test_bad_input_changes_nothing(act, db, tree, world, ring, over, needle):
    county = tree["410502"]
    with db.unit_of_work(Scope.system_scope()) as s:
        before = snapshot(s)
    with pytest.raises(InvalidArgument, match=needle):
        act(county, service.create_project, world["clock"].now, ring, form(**over))
    with pytest.raises(InvalidArgument, match=needle):
        act(
            county,
            service.update_project,
            world["clock"].now,
            ring,
            world["draft"].id,
            form(**over),
        )
    with db.unit_of_work(Scope.system_scope()) as s:
        assert snapshot(s) == before


@pytest.mark.parametrize("score", [-1, 100.5, float("nan")])
def test_scores_outside_0_to_100_change_nothing(act, db, tree, world, ring, score):
    city, county = tree["410500"], tree["410502"]
    p = act(
        county, service.create_project, world["clock"].now, ring, form(call_id=world["call"].id)
    ).project
    act(county, service.submit, world["clock"].now, p.id)
    act(city, service.review, world["clock"].now, p.id, "pass", "")
    with db.unit_of_work(Scope.system_scope()) as s:
        before = snapshot(s)
    bad = {"科学性": score, "创新性": 80, "可行性": 80, "预期绩效": 80}
    with pytest.raises(InvalidArgument, match="0到100"):
        act(city, service.record_scores, world["call"].id, p.id, "专家丙", bad)
    with db.unit_of_work(Scope.system_scope()) as s:
        assert snapshot(s) == before


def test_out_of_order_actions_are_conflicts(act, tree, world, ring):
    city, county = tree["410500"], tree["410502"]
    with pytest.raises(Conflict, match="只有草稿"):
        act(county, service.update_project, world["clock"].now, ring, world["project"].id, form())
    with pytest.raises(Conflict, match="重复申报"):
        act(county, service.submit, world["clock"].now, world["project"].id)
    with pytest.raises(Conflict, match="申报批次"):
        act(county, service.submit, world["clock"].now, world["draft"].id)
    with pytest.raises(Conflict, match="结项后"):
        act(city, service.evaluate, world["clock"].now, world["project"].id, 80, "")


def test_row_level_security_hides_other_branches_even_without_a_filter(db, tree, world):
    with db.unit_of_work(Scope.tenant(tree["410503"].path)) as s:
        assert s.execute(text("SELECT count(*) FROM projects")).scalar_one() == 0
        assert s.execute(text("SELECT count(*) FROM opinions")).scalar_one() == 0
        assert s.execute(text("SELECT count(*) FROM expert_scores")).scalar_one() == 0
        # the city's call is readable below it (to file against), never writable
        assert s.execute(text("SELECT count(*) FROM calls")).scalar_one() >= 1
        assert s.execute(text("UPDATE calls SET quota = 99")).rowcount == 0
    with db.unit_of_work(Scope.tenant(tree["410300"].path)) as s:
        assert s.execute(text("SELECT count(*) FROM calls")).scalar_one() == 0
