"""Work plans on the real database: 平顶山's 要点 with member departments, quarterly progress,
milestones, a supervision with rectification, year-end scores feeding a scheme's indicator,
the xlsx import and the files, the to-do lists, and the denials between units and siblings."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from assessment_testkit import feed_tree, system
from docx import Document
from kepu_assessment import service as schemes
from kepu_assessment.workplans import service
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

TREE = [
    ("410000", "河南省科协", "province", None),
    ("410400", "平顶山市科协", "city", "410000"),
    ("410400D01", "市教育局", "department", "410400"),
    ("410400D02", "市卫健委", "department", "410400"),
    ("410400D03", "市农业农村局", "department", "410400"),
    ("410402", "新华区科协", "county", "410400"),
    ("411300", "南阳市科协", "city", "410000"),
    ("411300D01", "南阳市教育局", "department", "411300"),
]
YEAR = date.today().year


@pytest.fixture(scope="module")
def t(db):
    return feed_tree(db, TREE)


def plan_data(t, tasks=None):
    edu, health, agri = t["410400D01"].id, t["410400D02"].id, t["410400D03"].id
    return {
        "title": f"平顶山市{YEAR}年全民科学素质工作要点",
        "start_year": YEAR,
        "phases": [{"name": "启动", "start": f"{YEAR}-01-01", "end": f"{YEAR}-03-31"},
                   {"name": "深入实施", "start": f"{YEAR}-04-01", "end": f"{YEAR}-10-31"},
                   {"name": "总结评估", "start": f"{YEAR}-11-01", "end": f"{YEAR}-12-31"}],
        "sections": [{"no": "一", "title": "实现科普服务的全覆盖"}],
        "tasks": tasks if tasks is not None else [
            {"seq": 1, "section": "一", "text": "开展首届“科技工作者日”活动", "lead_unit_id": edu,
             "participant_ids": [health], "milestones": [{"title": "活动举办", "due": f"{YEAR}-05-30"}],
             "targets": [{"year": YEAR, "label": "科普教育基地", "value": 2}]},
            {"seq": 2, "text": "开展健康科普行动", "lead_unit_id": health,
             "milestones": [{"title": "完成", "due": f"{YEAR}-12-31"}]},
            {"seq": 3, "text": "农民科学素质提升", "lead_unit_id": agri, "participant_ids": [edu],
             "milestones": [{"title": "完成", "due": f"{YEAR}-11-30"}]},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def plan(db, t):
    from kepu_common.db import Scope

    city = t["410400"]
    with db.unit_of_work(Scope.tenant(city.path)) as s:
        return service.create_plan(s, city.principal("admin"), plan_data(t))


def count(db, table):
    with system(db) as s:
        return s.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_a_department_sees_only_its_tasks_and_reports_progress_on_them(act, t, plan):
    edu, health = t["410400D01"], t["410400D02"]
    mine = act(edu, service.load, plan.id, roles=("staff",))
    assert [x.seq for x in mine.plan.tasks] == [1, 3]  # lead of 1, participant of 3
    assert [x.seq for x in act(health, service.load, plan.id).plan.tasks] == [1, 2]
    task = mine.plan.tasks[0]
    out = act(
        edu, service.report_progress,
        {"plan_id": plan.id, "task_id": task.id, "quarter": f"{YEAR}Q1", "text": "已制定活动方案",
         "figures": [{"year": YEAR, "label": "科普教育基地", "value": 1}], "attachments": ["方案.pdf"]},
        roles=("staff",),
    )  # fmt: skip
    assert out["unit_id"] == edu.id
    task2 = next(x for x in plan.tasks if x.seq == 2)
    with pytest.raises(NotFound):  # not its task
        act(edu, service.report_progress,
            {"plan_id": plan.id, "task_id": task2.id, "quarter": f"{YEAR}Q1", "text": "x"})  # fmt: skip
    with pytest.raises(PermissionDenied):  # units do not mark milestones
        act(edu, service.set_milestone, plan.id, task.id, task.milestones[0].id, "done")
    owner = act(t["410400"], service.load, plan.id)
    assert [r[4] for r in act(t["410400"], service.progress, owner)] == ["已制定活动方案"]


def test_siblings_and_other_branches_see_nothing(act, t, plan):
    for node in (t["410402"], t["411300"], t["411300D01"]):
        with pytest.raises(NotFound):
            act(node, service.load, plan.id)
        assert act(node, service.list_plans) == []
    # the province above reads the plan in full, but cannot change it
    assert len(act(t["410000"], service.load, plan.id).plan.tasks) == 3
    with pytest.raises(PermissionDenied):
        act(t["410000"], service.record_supervision,
            {"plan_id": plan.id, "unit_id": t["410400D01"].id, "visited_on": f"{YEAR}-06-01",
             "findings": "x"})  # fmt: skip


def test_bad_plans_are_refused_with_the_field_and_nothing_written(act, t):
    city = t["410400"]
    cases = [
        ({"lead_unit_id": t["411300D01"].id}, "tasks.0.lead_unit_id", "牵头单位"),  # other city's
        ({"lead_unit_id": t["410400D01"].id, "milestones": [{"due": f"{YEAR + 1}-01-15"}]},
         "tasks.0.milestones.0.due", "不在计划期限"),
        ({"lead_unit_id": t["410400D01"].id, "participant_ids": [t["410000"].id]},
         "tasks.0.participant_ids.0", "参与单位"),
    ]  # fmt: skip
    for extra, field, words in cases:
        data = plan_data(t, [{"seq": 1, "text": "任务", **extra}])
        with pytest.raises(InvalidArgument) as err:
            act(city, service.create_plan, data)
        assert words in err.value.detail
        assert [v.field for v in err.value.violations] == [field]


def test_nothing_is_written_by_a_refused_plan(db, act, t, plan):
    n = count(db, "plan_tasks")
    data = plan_data(t)
    data["tasks"][2]["lead_unit_id"] = t["411300D01"].id  # the third task is bad
    with pytest.raises(InvalidArgument):
        act(t["410400"], service.create_plan, data)
    assert count(db, "plan_tasks") == n


def test_supervision_rectification_and_to_do_lists(act, t, plan):
    city, edu, agri = t["410400"], t["410400D01"], t["410400D03"]
    sup = act(
        city, service.record_supervision,
        {"plan_id": plan.id, "unit_id": agri.id, "task_id": plan.tasks[2].id,
         "visited_on": date.today().isoformat(), "findings": "农村科普阵地建设滞后",
         "rectify_by": (date.today() + timedelta(days=30)).isoformat()},
    )  # fmt: skip
    kinds = lambda node: {(i.kind, i.unit_id) for i in act(node, service.todo)}  # noqa: E731
    assert ("rectification_open", agri.id) in kinds(city)
    assert ("rectification_open", agri.id) in kinds(agri)
    assert not any(k == "rectification_open" for k, _ in kinds(edu))  # not its visit
    assert [r[3] for r in act(agri, service.list_supervisions, plan.id)] == [agri.id]
    assert act(edu, service.list_supervisions, plan.id) == []  # a unit sees its own visits
    with pytest.raises(PermissionDenied):  # the owner confirms the rectification
        act(agri, service.rectify, plan.id, sup[0], "")
    act(city, service.rectify, plan.id, sup[0], "已建成乡村e站3个")
    assert not any(k == "rectification_open" for k, _ in kinds(agri))


def test_overdue_milestones_reach_the_owner_and_the_unit(act, t):
    city, health = t["410400"], t["410400D02"]
    past = date.today() - timedelta(days=1)
    if past.year != YEAR:
        pytest.skip("1 January: no past day in this year's plan")
    data = plan_data(t, [{"seq": 1, "text": "健康讲座", "lead_unit_id": health.id,
                          "milestones": [{"title": "讲座", "due": past.isoformat()}]}])  # fmt: skip
    plan = act(city, service.create_plan, data)
    overdue = [i for i in act(health, service.todo) if i.kind == "milestone_overdue"]
    assert plan.id in [i.plan_id for i in overdue]
    task = plan.tasks[0]
    act(city, service.set_milestone, plan.id, task.id, task.milestones[0].id, "late")
    assert not [
        i for i in act(city, service.todo) if i.kind == "milestone_overdue" and i.plan_id == plan.id
    ]


def test_year_end_scores_feed_the_scheme_indicator(act, t, plan):
    city, edu, health = t["410400"], t["410400D01"], t["410400D02"]
    by_seq = {x.seq: x.id for x in plan.tasks}
    act(city, service.score_unit, plan.id, edu.id, YEAR,
        [{"task_id": by_seq[1], "result": "completed", "score": 60},
         {"task_id": by_seq[3], "result": "partly", "score": 20}])  # fmt: skip
    act(city, service.score_unit, plan.id, health.id, YEAR,
        [{"task_id": by_seq[2], "result": "not", "score": 0}])  # fmt: skip
    with pytest.raises(InvalidArgument):  # task 2 is not the education bureau's
        act(city, service.score_unit, plan.id, edu.id, YEAR,
            [{"task_id": by_seq[2], "result": "completed", "score": 10}])  # fmt: skip
    sc = act(city, schemes.create_scheme, {
        "year": YEAR, "name": "成员单位目标责任书考核",
        "indicators": [{"code": "1", "name": "目标责任书", "weight": 100, "kind": "automatic",
                        "metric": "workplan_score", "rule": "linear", "target": 100}]})  # fmt: skip
    view = schemes.compute  # the scheme ranks the city's units by their score
    res = act(city, view, sc.id)
    totals = {r.name: r.total for r, _ in res.rows}
    assert totals["市教育局"] == 80.0
    assert totals["市卫健委"] == 0.0


def test_import_from_xlsx_and_export_as_xlsx_and_docx(act, t):
    city = t["410400"]
    wb = Workbook()
    ws = wb.active
    ws.append(["平顶山市要点任务分解表"])
    ws.append(["序号", "任务", "牵头单位", "参与单位", "完成时限"])
    ws.append([1, "推进科普信息化", "市教育局", "市卫健委、市农业农村局", f"{YEAR}年6月"])
    ws.append([2, "开展科技活动周", "各成员单位", "", f"{YEAR}年底"])
    buf = io.BytesIO()
    wb.save(buf)
    plan = act(
        city, service.import_plan, {"title": "导入的要点", "start_year": YEAR}, buf.getvalue()
    )
    first, second = plan.tasks
    assert first.lead_unit_id == t["410400D01"].id and len(first.participant_ids) == 2
    assert first.milestones[0].due == date(YEAR, 6, 30)
    assert len(second.unit_ids) == 3  # 各成员单位: every department
    ws.append([3, "乡村科普", "南阳市教育局", "", f"{YEAR}-05-01"])  # not under 平顶山
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(InvalidArgument, match="第5行的牵头单位"):
        act(city, service.import_plan, {"title": "坏表", "start_year": YEAR}, buf.getvalue())
    name, _, content = act(city, service.export, plan.id, "xlsx")
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert name.endswith(".xlsx") and rows[2][:3] == (1, "推进科普信息化", "市教育局")
    name, _, content = act(city, service.export, plan.id, "docx")
    doc = Document(io.BytesIO(content))
    assert "督查情况报告" in doc.paragraphs[0].text
    assert doc.tables[0].rows[1].cells[2].text == "市教育局"
    with pytest.raises(PermissionDenied):
        act(t["410400D01"], service.export, plan.id, "docx")
