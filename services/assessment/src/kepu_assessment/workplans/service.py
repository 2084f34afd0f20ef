"""Use cases of work plans. Each takes the unit of work's session first, applies the domain
rules and writes the outbox; the gRPC edge owns the transaction.

Who may do what: the owner (the plan's tenant, admin role) everything; its ancestors read; a
unit (child tenant or member department named on a task) reads the plan with its own tasks
and reports progress on them; anyone else sees nothing (404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kepu.assessment.v1 import workplans_pb2 as pb
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal, is_descendant_or_self
from sqlalchemy.orm import Session

from .. import repository as base_repo
from ..models import Tenant
from ..service import TOPIC, caller_tenant, check_uuid
from . import domain, sheets
from . import repository as repo
from .domain import Plan, Task

SH = ZoneInfo("Asia/Shanghai")
SCORE_METRIC = "workplan_score"
NOT_VISIBLE = "未找到该工作要点，或无权查看。"


def today() -> date:
    return datetime.now(SH).date()


def _event(
    s: Session, p: Principal, plan: Plan, event_type: str, payload: Any,
    unit: tuple[str, str] | None = None,
) -> None:  # fmt: skip
    """An event of the plan, under the owner; a unit's own report goes under the unit."""
    tenant_id, path = unit or (plan.owner_tenant_id, plan.owner_path)
    record_event(
        s, topic=TOPIC, event_type=event_type, tenant_id=tenant_id, tenant_path=path,
        actor=p.subject, payload=payload,
    )  # fmt: skip


def units_of(s: Session, owner_path: str) -> dict[str, Tenant]:
    """The units a plan may name: the owner's direct children (下级单位 and 成员单位)."""
    return {t.id: t for t in base_repo.children(s, owner_path)}


# ---------------------------------------------------------------- access


@dataclass(frozen=True)
class Access:
    plan: Plan
    owner: bool  # the owner's admin: every change
    unit_id: str | None  # a unit's caller: its own tasks only


def load(s: Session, p: Principal, plan_id: str) -> Access:
    plan = repo.get_plan(s, check_uuid(plan_id, "工作要点"))
    if plan is None:
        raise NotFound(NOT_VISIBLE)
    if is_descendant_or_self(plan.owner_path, p.tenant_path):
        return Access(plan, domain.is_plan_owner(plan.owner_path, p.tenant_path, p.roles), None)
    mine = [t for t in plan.tasks if p.tenant_id in t.unit_ids]
    if not mine:
        raise NotFound(NOT_VISIBLE)
    plan.tasks = mine
    return Access(plan, False, p.tenant_id)


def allowed_actions(p: Principal, plan: Plan) -> list[str]:
    """What ``p``, who can see ``plan``, may do with it (``domain.plan_actions``)."""
    return domain.plan_actions(plan.owner_path, p.tenant_path, p.roles)


def owned(s: Session, p: Principal, plan_id: str) -> Plan:
    acc = load(s, p, plan_id)
    if not acc.owner:
        raise PermissionDenied("只有制定该工作要点的单位管理员才能进行此操作。")
    return acc.plan


def _task(plan: Plan, task_id: str) -> Task:
    for t in plan.tasks:
        if t.id == task_id:
            return t
    raise NotFound("未找到该任务，或无权查看。")


# ---------------------------------------------------------------- plans


def create_plan(s: Session, p: Principal, data: dict[str, Any]) -> Plan:
    domain.check_owner_roles(p.roles)
    if p.tenant_kind == domain.DEPARTMENT:
        raise PermissionDenied("成员单位不能制定工作要点。")
    title, start, end = domain.check_period(
        str(data.get("title") or ""),
        int(data.get("start_year") or 0),
        int(data.get("end_year") or 0),
    )
    owner = caller_tenant(s, p)
    plan = Plan(str(uuid.uuid4()), owner.id, owner.path, title, start, end, created_by=p.subject)
    plan.phases = domain.build_phases(data.get("phases") or (), plan.first_day, plan.last_day)
    plan.sections = tuple(
        (str(x.get("no") or "")[:20], str(x.get("title") or "")[:200])
        for x in data.get("sections") or ()
    )
    units = units_of(s, owner.path)
    names = {u: t.name for u, t in units.items()}
    plan.tasks = [
        domain.build_task(t, plan.first_day, plan.last_day, names, owner.name, f"tasks.{i}")
        for i, t in enumerate(data.get("tasks") or ())
    ]
    if not plan.tasks:
        raise InvalidArgument("工作要点至少要有一项任务。")
    domain.check_unique_seq(plan.tasks)
    repo.insert_plan(s, plan, {u: t.path for u, t in units.items()})
    _event(
        s, p, plan, "assessment.plan.published",
        pb.PlanPublished(plan_id=plan.id, title=plan.title, tasks=len(plan.tasks)),
    )  # fmt: skip
    return plan


def list_plans(s: Session, p: Principal, year: int = 0) -> list[Plan]:
    out = []
    for pid in repo.list_plan_ids(s, p.tenant_path, year or None):
        try:
            out.append(load(s, p, pid).plan)
        except NotFound:
            continue  # an ancestor's plan that names other units only
    return out


def progress(s: Session, p: Principal, acc: Access) -> list[Any]:
    scope = p.tenant_path if acc.unit_id else acc.plan.owner_path
    return repo.progress_of(s, acc.plan.id, scope)


def report_progress(s: Session, p: Principal, data: dict[str, Any]) -> dict[str, Any]:
    acc = load(s, p, str(data.get("plan_id") or ""))
    task = _task(acc.plan, str(data.get("task_id") or ""))
    unit_id = acc.unit_id or str(data.get("unit_id") or "")
    if acc.unit_id is None and not acc.owner:
        raise PermissionDenied("只有任务的牵头单位、参与单位或计划制定单位可以填报进展。")
    if unit_id not in task.unit_ids:
        raise InvalidArgument(f"该单位不是第{task.seq}项任务的牵头单位或参与单位。")
    quarter = str(data.get("quarter") or "").strip()
    deadline = domain.check_quarter(acc.plan, quarter)
    text = str(data.get("text") or "").strip()
    if not text or len(text) > 8000:
        raise InvalidArgument("进展情况不能为空，且不超过8000字。")
    unit = units_of(s, acc.plan.owner_path).get(unit_id) if acc.unit_id is None else None
    path = p.tenant_path if acc.unit_id else (unit.path if unit else "")
    if not path:
        raise InvalidArgument("填报单位已不在计划制定单位之下。")
    figures = [
        {"year": int(f.get("year") or 0), "label": str(f.get("label") or "")[:100],
         "value": float(f.get("value") or 0)}
        for f in data.get("figures") or ()
    ]  # fmt: skip
    attachments = [str(a)[:500] for a in (data.get("attachments") or ())][:20]
    on_time = today() <= deadline
    pid = repo.upsert_progress(
        s,
        {"id": str(uuid.uuid4()), "plan": acc.plan.id, "task": task.id, "unit": unit_id,
         "path": path, "q": quarter, "txt": text, "fig": figures, "att": attachments,
         "by": p.subject, "on_time": on_time},
    )  # fmt: skip
    _event(
        s, p, acc.plan, "assessment.plan.progress_reported",
        pb.ProgressReported(plan_id=acc.plan.id, task_id=task.id, unit_id=unit_id, quarter=quarter),
        (unit_id, path) if acc.unit_id else None,
    )  # fmt: skip
    return {"id": pid, "task_id": task.id, "unit_id": unit_id, "quarter": quarter, "text": text,
            "figures": figures, "attachments": attachments, "on_time": on_time}  # fmt: skip


def set_milestone(
    s: Session, p: Principal, plan_id: str, task_id: str, mid: str, status: str
) -> Task:
    plan = owned(s, p, plan_id)
    task = domain.set_milestone(_task(plan, task_id), mid, status, today())
    repo.update_milestones(s, task)
    _event(
        s, p, plan, "assessment.plan.milestone_changed",
        pb.MilestoneChanged(plan_id=plan.id, task_id=task.id, milestone_id=mid, status=status),
    )  # fmt: skip
    return task


# ---------------------------------------------------------------- supervision 督查


def record_supervision(s: Session, p: Principal, data: dict[str, Any]) -> Any:
    plan = owned(s, p, str(data.get("plan_id") or ""))
    unit = units_of(s, plan.owner_path).get(str(data.get("unit_id") or ""))
    if unit is None:
        raise InvalidArgument("督查对象不是该计划制定单位的下级单位或成员单位。")
    task_id = str(data.get("task_id") or "") or None
    if task_id and unit.id not in _task(plan, task_id).unit_ids:
        raise InvalidArgument("督查对象不是该任务的牵头单位或参与单位。")
    visited = domain.parse_day(str(data.get("visited_on") or ""), "督查")
    by = str(data.get("rectify_by") or "")
    rectify_by = domain.parse_day(by, "整改时限") if by else None
    if rectify_by and rectify_by < visited:
        raise InvalidArgument("整改时限不能早于督查日期。")
    findings = str(data.get("findings") or "").strip()
    if not findings or len(findings) > 8000:
        raise InvalidArgument("督查发现的问题不能为空，且不超过8000字。")
    sid = str(uuid.uuid4())
    repo.insert_supervision(
        s,
        {"id": sid, "plan": plan.id, "task": task_id, "unit": unit.id, "path": unit.path,
         "on": visited, "findings": findings, "by_date": rectify_by, "by": p.subject},
    )  # fmt: skip
    _event(
        s, p, plan, "assessment.plan.supervision_recorded",
        pb.SupervisionChanged(plan_id=plan.id, supervision_id=sid, unit_id=unit.id),
    )  # fmt: skip
    return repo.get_supervision(s, plan.owner_path, sid)


def rectify(s: Session, p: Principal, plan_id: str, sup_id: str, note: str) -> Any:
    plan = owned(s, p, plan_id)
    row = repo.get_supervision(s, plan.owner_path, check_uuid(sup_id, "督查记录"))
    if row is None or row[1] != plan.id:
        raise NotFound("未找到该督查记录。")
    repo.rectify(s, row[0], today(), note.strip()[:2000])
    _event(
        s, p, plan, "assessment.plan.rectified",
        pb.SupervisionChanged(plan_id=plan.id, supervision_id=row[0], unit_id=row[3], rectified=True),
    )  # fmt: skip
    return repo.get_supervision(s, plan.owner_path, row[0])


def list_supervisions(s: Session, p: Principal, plan_id: str) -> list[Any]:
    acc = load(s, p, plan_id)
    return repo.supervisions(s, p.tenant_path if acc.unit_id else acc.plan.owner_path, plan_id)


# ---------------------------------------------------------------- 目标责任书 scores


def score_unit(
    s: Session, p: Principal, plan_id: str, unit_id: str, year: int, items: list[dict[str, Any]]
) -> tuple[Tenant, list[tuple[str, str, float]], float]:
    """Score a unit's tasks for the year; the total is the unit's workplan_score metric."""
    plan = owned(s, p, plan_id)
    unit = units_of(s, plan.owner_path).get(unit_id)
    if unit is None:
        raise InvalidArgument("被评分单位不是该计划制定单位的下级单位或成员单位。")
    if not plan.start_year <= year <= plan.end_year:
        raise InvalidArgument(f"评分年度{year}不在计划期限之内。")
    scored = domain.check_score_items({t.id: t for t in plan.tasks}, unit.id, items)
    repo.replace_scores(s, plan.id, unit.id, unit.path, year, scored)
    total = round(sum(x[2] for x in scored), 2)
    base_repo.record_fact(
        s, metric=SCORE_METRIC, subject_id=f"{plan.id}:{unit.id}:{year}", tenant_id=unit.id,
        tenant_path=unit.path, year=year, value=total,
    )  # fmt: skip
    _event(
        s, p, plan, "assessment.plan.unit_scored",
        pb.UnitScored(plan_id=plan.id, unit_id=unit.id, year=year, total=total),
    )  # fmt: skip
    return unit, scored, total


# ---------------------------------------------------------------- to-do 待办


def todo(s: Session, p: Principal) -> list[domain.TodoItem]:
    """Overdue milestones and open rectifications, and for units the progress still due
    for the last quarter: the owner's list covers its plans, a unit's list its own tasks."""
    now = today()
    items: list[domain.TodoItem] = []
    names: dict[str, str] = {}
    for plan in list_plans(s, p):
        mine = not is_descendant_or_self(plan.owner_path, p.tenant_path)
        if not mine and plan.owner_path != p.tenant_path:
            continue  # an ancestor reads, it has nothing to do
        unit = p.tenant_id if mine else None
        items += domain.overdue_milestones(plan, now, unit)
        for row in repo.supervisions(s, p.tenant_path, plan.id, open_only=True):
            names.setdefault(row[3], "")
            items.append(
                domain.TodoItem(
                    "rectification_open",
                    f"《{plan.title}》督查整改（{row[5][:30]}）待完成",
                    plan.id,
                    row[2] or "",
                    row[3],
                    row[6],
                )  # fmt: skip
            )
        if mine:
            items += _progress_due(s, plan, p.tenant_id, now)
    return sorted(items, key=lambda i: (i.due, i.kind))


def _progress_due(s: Session, plan: Plan, unit_id: str, now: date) -> list[domain.TodoItem]:
    q = (now.month - 1) // 3  # the quarter just ended (0: the previous year's Q4)
    quarter = f"{now.year}Q{q}" if q else f"{now.year - 1}Q4"
    start, deadline = domain.quarter_bounds(quarter)
    if not plan.first_day <= start <= plan.last_day:
        return []
    done = repo.reported(s, plan.id, quarter)
    return [
        domain.TodoItem(
            "progress_due",
            f"《{plan.title}》第{t.seq}项任务{quarter}进展待填报",
            plan.id,
            t.id,
            unit_id,
            deadline,
        )  # fmt: skip
        for t in plan.tasks
        if (t.id, unit_id) not in done
    ]


# ---------------------------------------------------------------- files


def import_plan(s: Session, p: Principal, data: dict[str, Any], content: bytes) -> Plan:
    """A plan whose tasks come from an xlsx table; a bad row rejects the whole sheet."""
    domain.check_owner_roles(p.roles)
    title, start, end = domain.check_period(
        str(data.get("title") or ""),
        int(data.get("start_year") or 0),
        int(data.get("end_year") or 0),
    )
    owner = caller_tenant(s, p)
    frame = Plan("", owner.id, owner.path, title, start, end)
    data = {**data, "tasks": sheets.read_tasks(content, frame, units_of(s, owner.path))}
    return create_plan(s, p, data)


def progress_lines(
    s: Session, p: Principal, acc: Access, names: dict[str, str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in progress(s, p, acc):
        out.setdefault(r[1], []).append(f"{r[3]} {names.get(r[2], '')}：{r[4]}")
    return out


def export(s: Session, p: Principal, plan_id: str, fmt: str) -> tuple[str, str, bytes]:
    acc = load(s, p, plan_id)
    if acc.unit_id is not None:
        raise PermissionDenied("只有计划制定单位及其上级可以导出督查报告。")
    plan = acc.plan
    names = {u: t.name for u, t in units_of(s, plan.owner_path).items()}
    owner = base_repo.tenant_by_path(s, plan.owner_path)
    lines = progress_lines(s, p, acc, names)
    if fmt == "xlsx":
        return (
            f"{plan.title}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            sheets.export_xlsx(plan, names, lines, today()),
        )
    if fmt == "docx":
        sups = repo.supervisions(s, plan.owner_path, plan.id)
        return (
            f"{plan.title}督查情况报告.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            sheets.export_docx(plan, owner.name if owner else "", names, lines, sups, today()),
        )
    raise InvalidArgument("导出格式只能是 xlsx 或 docx。")
