"""Siblings cannot read or act on each other's reports; bad input changes nothing."""

import pytest
from kepu_common.db import Scope
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_reporting import repository, service
from reporting_testkit import sh, system
from sqlalchemy import text

BRIEF, OCT = "monthly_brief", "2026-10"


@pytest.fixture(scope="module", autouse=True)
def filed(db, tree):
    """七一乡 has submitted its October brief and recorded an activity."""
    from kepu_reporting.clock import FixedClock

    now = FixedClock(sh(2026, 11, 2, 9)).now()
    t1 = tree["411303001"]
    p = t1.principal()
    with db.unit_of_work(Scope.tenant(t1.path)) as s:
        service.create_activity(
            s,
            p,
            now,
            {
                "title": "农技培训",
                "date": "2026-10-10",
                "form": "培训",
                "target": "进乡村",
                "participants": 25,
            },
        )
        service.submit(s, p, now, BRIEF, OCT, {"trainees": 25, "narrative": "培训"})


@pytest.fixture
def at_nov_4(clock):
    clock.set(sh(2026, 11, 4, 9))


def _report_version(db, tenant):
    with system(db) as s:
        return s.execute(
            text(
                'SELECT status, version, "values" FROM reports WHERE tenant_id = CAST(:t AS uuid)'
            ),
            {"t": tenant.id},
        ).first()


def test_a_township_cannot_read_its_siblings_report(tree, act, at_nov_4):
    with pytest.raises(PermissionDenied, match="只能查看本单位及下级单位"):
        act(tree["411303002"], service.get_report, BRIEF, OCT, tree["411303001"].id)


def test_a_township_cannot_accept_or_return_its_siblings_report(db, tree, act, at_nov_4):
    before = _report_version(db, tree["411303001"])
    for action in ("accept", "return"):
        with pytest.raises(PermissionDenied, match="直属下级"):
            act(tree["411303002"], service.review, BRIEF, OCT, tree["411303001"].id, action, "x")
    assert _report_version(db, tree["411303001"]) == before


def test_another_county_cannot_review_a_township_that_is_not_its_child(db, tree, act, at_nov_4):
    with pytest.raises(PermissionDenied):
        act(tree["411302"], service.review, BRIEF, OCT, tree["411303001"].id, "accept")
    # nor can the city skip the county
    with pytest.raises(PermissionDenied, match="直属下级"):
        act(tree["411300"], service.review, BRIEF, OCT, tree["411303001"].id, "accept")
    assert _report_version(db, tree["411303001"]).status == "submitted"


def test_a_sibling_sees_neither_the_report_nor_the_activity_in_its_lists(tree, act, at_nov_4):
    t2 = tree["411303002"]
    assert act(t2, service.list_activities, "2026-10", True) == []
    ov = act(t2, service.children_overview, BRIEF, OCT)
    assert ov.figures.sums == {}
    assert ov.figures.sources == []
    assert ov.children == []
    # the other county sees nothing of 卧龙区's subtree either
    assert act(tree["411302"], service.children_overview, BRIEF, OCT).figures.sums == {}
    # while the county sees its child's activity and figures
    assert len(act(tree["411303"], service.list_activities, "2026-10", True)) == 1
    assert act(tree["411303"], service.children_overview, BRIEF, OCT).figures.sums == {
        "trainees": 25
    }


def test_row_level_security_backs_the_application_filter(db, tree):
    with db.unit_of_work(Scope.tenant(tree["411303002"].path)) as s:
        assert s.execute(text("SELECT count(*) FROM reports")).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM activities")).scalar() == 0
        # even an explicit lookup of the sibling's report finds nothing
        t1 = tree["411303001"]
        assert repository.get_report(s, t1.path, t1.id, BRIEF, OCT) is None


def test_notifications_of_a_sibling_are_not_listed(db, tree):
    t1, t2 = tree["411303001"], tree["411303002"]
    with system(db) as s:
        recipient = repository.tenant_by_id_system(s, t1.id)
        repository.add_notification(
            s,
            recipient=recipient,
            kind="overdue",
            type_code=BRIEF,
            period=OCT,
            subject_tenant_id=t1.id,
            title="t",
            body="b",
            dedupe_key="test:isolation",
        )
    with db.unit_of_work(Scope.tenant(t2.path)) as s:
        assert repository.list_notifications(s, t2.id, t2.path, unread_only=False, limit=10) == []
        # asking with the sibling's id still returns nothing (RLS)
        assert repository.list_notifications(s, t1.id, t1.path, unread_only=False, limit=10) == []


@pytest.mark.parametrize(
    ("period", "values", "error", "message"),
    [
        ("2026-13", {"trainees": 1}, InvalidArgument, "报告期"),
        ("2026Q5", {"trainees": 1}, InvalidArgument, "报告期"),
        ("2026Q3", {"trainees": 1}, InvalidArgument, "按月度报送"),
        ("2026-12", {"trainees": 1}, InvalidArgument, "尚未开始"),
        ("2026-10", {"trainees": -5}, InvalidArgument, "不能为负数"),
        ("2026-10", {"trainees": "三十人"}, InvalidArgument, "必须填写数字"),
        ("2026-10", {"unknown_field": 1}, InvalidArgument, "没有名为"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_changes(
    db, tree, act, at_nov_4, period, values, error, message
):
    t2 = tree["411303002"]
    before = _report_version(db, t2)
    with pytest.raises(error, match=message):
        act(t2, service.save_draft, BRIEF, period, values)
    with pytest.raises(error, match=message):
        act(t2, service.submit, BRIEF, period, values)
    assert _report_version(db, t2) == before


def test_an_unknown_report_type_is_not_found(tree, act, at_nov_4):
    with pytest.raises(NotFound, match="未找到报告类型"):
        act(tree["411303002"], service.get_report, "no_such_type", OCT)


def test_a_submit_after_acceptance_is_refused_and_nothing_changes(db, tree, act, at_nov_4):
    t1 = tree["411303001"]
    act(tree["411303"], service.review, BRIEF, OCT, t1.id, "accept")
    before = _report_version(db, t1)
    with pytest.raises(Conflict, match="已被上级接收"):
        act(t1, service.submit, BRIEF, OCT, {"trainees": 99})
    with pytest.raises(Conflict, match="已被上级接收"):
        act(t1, service.save_draft, BRIEF, OCT, {"trainees": 99})
    with pytest.raises(Conflict, match="只有已提交"):
        act(tree["411303"], service.review, BRIEF, OCT, t1.id, "return", "再改改")
    assert _report_version(db, t1) == before


def test_a_viewer_cannot_submit_and_a_reporter_cannot_review(tree, act, at_nov_4):
    with pytest.raises(PermissionDenied, match="填报和提交"):
        act(tree["411303002"], service.submit, BRIEF, OCT, roles=("viewer",))
    with pytest.raises(PermissionDenied, match="审核下级"):
        act(
            tree["411303"],
            service.review,
            BRIEF,
            OCT,
            tree["411303002"].id,
            "accept",
            roles=("reporter",),
        )


def test_a_province_has_no_one_to_submit_to(tree, act, at_nov_4):
    with pytest.raises(Conflict, match="无需向上级报送"):
        act(tree["410000"], service.submit, BRIEF, OCT)


def test_a_custom_type_is_seen_by_the_subtree_only(tree, act, at_nov_4):
    nanyang = tree["411300"]
    act(
        nanyang,
        service.define_type,
        {
            "code": "nanyang_estation",
            "name": "e站建设季报",
            "period_kind": "quarter",
            "fields": [{"key": "stations", "label": "新建e站", "kind": "number", "unit": "个"}],
            "due_rules": {"county": {"month_offset": 1, "day": 10}},
        },
    )
    assert "nanyang_estation" in [t.code for t in act(tree["411303"], service.list_types)]
    assert "nanyang_estation" not in [t.code for t in act(tree["410200"], service.list_types)]
    with pytest.raises(NotFound):
        act(tree["410200"], service.get_report, "nanyang_estation", "2026Q3")
    view = act(tree["411303"], service.get_report, "nanyang_estation", "2026Q3")
    assert str(view.deadline) == "2026-10-10"
    with pytest.raises(PermissionDenied, match="定义报告类型"):
        act(tree["411303"], service.define_type, {"code": "x_y"}, roles=("reporter",))
