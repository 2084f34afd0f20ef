"""Rules of work plans 工作要点 / 实施方案, plain Python without I/O: the plan's period and
phases, tasks with their units and milestones, quarterly progress deadlines, the 目标责任书
scores and the to-do entries (overdue milestones, open rectifications)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kepu_common.errors import InvalidArgument, PermissionDenied
from kepu_common.tenancy import is_descendant_or_self

OPEN, DONE, LATE = "open", "done", "late"
MILESTONE_CN = {OPEN: "进行中", DONE: "已完成", LATE: "逾期完成"}
COMPLETED, PARTLY, NOT_DONE = "completed", "partly", "not"
RESULT_CN = {COMPLETED: "完成", PARTLY: "部分完成", NOT_DONE: "未完成"}
PHASE_NAMES = ("启动", "深入实施", "总结评估")
DEPARTMENT = "department"  # 成员单位 (a tenant kind of identity)
PROGRESS_GRACE_DAYS = 10  # a quarter's progress is due by the 10th of the following month
MAX_TASKS = 500
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True)
class Milestone:  # 节点
    id: str
    title: str
    due: date
    status: str = OPEN
    done_on: date | None = None

    def overdue(self, today: date) -> bool:
        return self.status == OPEN and self.due < today


@dataclass(frozen=True)
class Target:  # 可量化目标（某年度）
    year: int
    label: str
    value: float


@dataclass
class Task:  # 任务（序号、任务、牵头单位、参与单位）
    id: str
    seq: int
    section: str
    text: str
    lead_unit_id: str
    participant_ids: tuple[str, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    targets: tuple[Target, ...] = ()

    @property
    def unit_ids(self) -> tuple[str, ...]:
        return (self.lead_unit_id, *[u for u in self.participant_ids if u != self.lead_unit_id])


@dataclass
class Plan:  # 工作要点 / 实施方案
    id: str
    owner_tenant_id: str
    owner_path: str
    title: str
    start_year: int
    end_year: int
    phases: tuple[tuple[str, date, date], ...] = ()
    sections: tuple[tuple[str, str], ...] = ()
    tasks: list[Task] = field(default_factory=list)
    created_by: str = ""
    created_at: datetime | None = None

    @property
    def first_day(self) -> date:
        return date(self.start_year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.end_year, 12, 31)


# 可执行的操作 on a plan, for one caller
PLAN_ACTIONS = (
    "report_progress", "upload_evidence", "set_milestone", "supervise", "rectify", "score",
    "export",
)  # fmt: skip


def is_plan_owner(owner_path: str, caller_path: str, roles: Iterable[str]) -> bool:
    """The owner's admin: every change of the plan."""
    return caller_path == owner_path and "admin" in set(roles)


def plan_actions(owner_path: str, caller_path: str, roles: Iterable[str]) -> list[str]:
    """What a caller who can see the plan may do with it (``PLAN_ACTIONS`` order), by the
    checks the use cases make: the owner's admin everything; a unit named on a task (outside
    the owner's line) reports progress on its tasks and attaches evidence; the owner's other
    users and its ancestors read and export."""
    owner = is_plan_owner(owner_path, caller_path, roles)
    unit = not is_descendant_or_self(owner_path, caller_path)
    allowed = {
        "report_progress": owner or unit,
        "upload_evidence": owner or unit,
        "set_milestone": owner,
        "supervise": owner,
        "rectify": owner,
        "score": owner,
        "export": not unit,
    }
    return [a for a in PLAN_ACTIONS if allowed[a]]


def check_owner_roles(roles: frozenset[str]) -> None:
    if "admin" not in roles:
        raise PermissionDenied("只有本单位管理员可以管理工作要点。")


def parse_day(value: str, what: str, at: str = "") -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise InvalidArgument(f"{what}日期格式不正确（应为 YYYY-MM-DD）。", field=at) from exc


def check_period(title: str, start_year: int, end_year: int) -> tuple[str, int, int]:
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidArgument("计划名称不能为空，且不超过200字。")
    if not 2000 <= start_year <= 2100:
        raise InvalidArgument("起始年度应在2000至2100之间。")
    end_year = end_year or start_year
    if not start_year <= end_year <= start_year + 10:
        raise InvalidArgument("结束年度不能早于起始年度，且期限不超过10年。")
    return title, start_year, end_year


def build_phases(
    raw: Sequence[Mapping[str, Any]], first: date, last: date
) -> tuple[tuple[str, date, date], ...]:
    out = []
    for i, ph in enumerate(raw, 1):
        name = str(ph.get("name") or "").strip()
        if not name or len(name) > 50:
            raise InvalidArgument(f"第{i}个阶段的名称不能为空（如{'、'.join(PHASE_NAMES)}）。")
        start = parse_day(ph.get("start", ""), f"阶段“{name}”的开始")
        end = parse_day(ph.get("end", ""), f"阶段“{name}”的结束")
        if start > end or start < first or end > last:
            raise InvalidArgument(f"阶段“{name}”的起止日期应在计划期限（{first}至{last}）之内。")
        out.append((name, start, end))
    return tuple(out)


def build_task(
    raw: Mapping[str, Any],
    first: date,
    last: date,
    units: Mapping[str, str],
    owner_name: str,
    at: str = "tasks.0",
) -> Task:
    """One task from user input; ``units`` maps the ids under the owner to their names and
    ``at`` is the task's place in the request (the field errors name it)."""
    seq = int(raw.get("seq") or 0)
    label = f"第{seq}项任务"
    if seq <= 0:
        raise InvalidArgument("任务序号应为正整数。", field=f"{at}.seq")
    text = str(raw.get("text") or "").strip()
    if not text or len(text) > 4000:
        raise InvalidArgument(f"{label}的内容不能为空，且不超过4000字。", field=f"{at}.text")
    lead = str(raw.get("lead_unit_id") or "")
    if lead not in units:
        raise InvalidArgument(
            f"{label}的牵头单位不是“{owner_name}”的下级单位或成员单位。",
            field=f"{at}.lead_unit_id",
        )
    parts = tuple(dict.fromkeys(str(u) for u in raw.get("participant_ids") or ()))
    for j, u in enumerate(parts):
        if u not in units:
            raise InvalidArgument(
                f"{label}的参与单位不是“{owner_name}”的下级单位或成员单位。",
                field=f"{at}.participant_ids.{j}",
            )
    milestones = []
    for j, m in enumerate(raw.get("milestones") or ()):
        title = str(m.get("title") or "完成").strip()[:200]
        due = parse_day(
            m.get("due", ""), f"{label}节点“{title}”的完成时限", f"{at}.milestones.{j}.due"
        )
        if not first <= due <= last:
            raise InvalidArgument(
                f"{label}节点“{title}”的完成时限{due}不在计划期限（{first}至{last}）之内。",
                field=f"{at}.milestones.{j}.due",
            )
        milestones.append(Milestone(str(m.get("id") or uuid.uuid4()), title, due))
    targets = []
    for t in raw.get("targets") or ():
        year = int(t.get("year") or 0)
        if not first.year <= year <= last.year:
            raise InvalidArgument(f"{label}的目标年度{year}不在计划期限之内。")
        targets.append(Target(year, str(t.get("label") or "")[:100], float(t.get("value") or 0)))
    return Task(
        str(uuid.uuid4()), seq, str(raw.get("section") or "")[:100], text, lead, parts,
        tuple(milestones), tuple(targets),
    )  # fmt: skip


def check_unique_seq(tasks: Sequence[Task]) -> None:
    if len(tasks) > MAX_TASKS:
        raise InvalidArgument(f"一个计划最多{MAX_TASKS}项任务。")
    seen: set[int] = set()
    for t in tasks:
        if t.seq in seen:
            raise InvalidArgument(f"任务序号{t.seq}重复。")
        seen.add(t.seq)


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First day and deadline (the 10th of the month after the quarter) of ``2017Q2``."""
    m = _QUARTER.match(quarter.strip())
    if not m:
        raise InvalidArgument("季度格式不正确（应为如 2017Q2）。")
    year, q = int(m.group(1)), int(m.group(2))
    start = date(year, 3 * q - 2, 1)
    deadline = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, PROGRESS_GRACE_DAYS)
    return start, deadline


def check_quarter(plan: Plan, quarter: str) -> date:
    start, deadline = quarter_bounds(quarter)
    if not plan.first_day <= start <= plan.last_day:
        raise InvalidArgument(f"季度{quarter}不在计划期限之内。")
    return deadline


def set_milestone(task: Task, milestone_id: str, status: str, today: date) -> Task:
    if status not in MILESTONE_CN:
        raise InvalidArgument("节点状态只能是进行中、已完成或逾期完成。")
    if not any(m.id == milestone_id for m in task.milestones):
        raise InvalidArgument("该任务没有这个节点。")
    task.milestones = tuple(
        Milestone(m.id, m.title, m.due, status, today if status != OPEN else None)
        if m.id == milestone_id
        else m
        for m in task.milestones
    )
    return task


def check_score_items(
    tasks: Mapping[str, Task], unit_id: str, items: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str, float]]:
    out = []
    for it in items:
        task = tasks.get(str(it.get("task_id") or ""))
        if task is None or unit_id not in task.unit_ids:
            raise InvalidArgument("目标责任书评分中有不属于该单位的任务。")
        result = str(it.get("result") or "")
        if result not in RESULT_CN:
            raise InvalidArgument(f"第{task.seq}项任务的完成情况只能是完成、部分完成或未完成。")
        score = float(it.get("score") or 0)
        if not 0 <= score <= 100:
            raise InvalidArgument(f"第{task.seq}项任务的得分应在0到100之间。")
        out.append((task.id, result, score))
    return out


@dataclass(frozen=True)
class TodoItem:  # 待办
    kind: str
    label: str
    plan_id: str
    task_id: str
    unit_id: str
    due: date


def overdue_milestones(plan: Plan, today: date, unit_id: str | None) -> list[TodoItem]:
    """Overdue milestones of the plan; of a unit's own tasks when ``unit_id`` is given."""
    out = []
    for t in plan.tasks:
        if unit_id and unit_id not in t.unit_ids:
            continue
        for m in t.milestones:
            if m.overdue(today):
                out.append(
                    TodoItem(
                        "milestone_overdue",
                        f"《{plan.title}》第{t.seq}项任务节点“{m.title}”已逾期",
                        plan.id,
                        t.id,
                        t.lead_unit_id,
                        m.due,
                    )  # fmt: skip
                )
    return out


# ---------------------------------------------------------------- xlsx import

_DUE_CN = re.compile(r"(\d{4})\s*年\s*(?:(\d{1,2})\s*月)?\s*(?:(\d{1,2})\s*日)?\s*(底|末)?")


def parse_due(value: Any, plan: Plan) -> date | None:
    """完成时限 from a sheet: a date cell, ``2017-06-30``, ``2017年6月``, ``2017年底``, ``全年``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value or "").strip()
    if not s:
        return None
    if s in ("全年", "年底", "长期"):
        return date(plan.end_year, 12, 31)
    try:
        return date.fromisoformat(s[:10])
    except ValueError:
        pass
    m = _DUE_CN.search(s)
    if not m:
        raise InvalidArgument(f"完成时限“{s}”无法识别（如 2017-06-30、2017年6月、2017年底）。")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if not month:
        return date(year, 12, 31)
    mo = int(month)
    if day:
        return date(year, mo, int(day))
    nxt = date(year + (mo == 12), 1 if mo == 12 else mo + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def split_units(cell: Any) -> list[str]:
    return [u.strip() for u in re.split(r"[、，,；;\s]+", str(cell or "")) if u.strip()]
