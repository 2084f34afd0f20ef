"""Reporting rules as plain Python: the roll-up and completeness, activities, the report life
cycle and its allowed actions. Two seams have their own modules: ``periods`` (periods, working
days, deadlines, the notices they trigger) and ``report_types`` (what a report type asks and
how its values are checked).

No I/O here. The seeds behind the rules: seed 000 (monthly 工作简报 by the 3rd to the
county, by the 5th to the province; annual summary by 15 Dec / 31 Dec) and seed 002
(quarterly progress reports).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from kepu_common.errors import (
    Conflict,
    DomainError,
    InvalidArgument,
    PermissionDenied,
)

from .report_types import TENANT_KINDS, ReportType, tidy

KIND_CN = {
    "province": "省",
    "city": "市",
    "county": "县（区）",
    "township": "乡镇（街道）",
    "society": "学会",
}

# Report life cycle (报送状态)
NONE, DRAFT, SUBMITTED, RETURNED, ACCEPTED = "none", "draft", "submitted", "returned", "accepted"
STATUS_CN = {
    NONE: "未填报",
    DRAFT: "草稿",
    SUBMITTED: "已提交",
    RETURNED: "已退回",
    ACCEPTED: "已接收",
}
COUNTED = (SUBMITTED, ACCEPTED)  # statuses that count as "reported" in completeness

# Activities 在线科普活动 (seed 000: forms and the 五进 targets)
ACTIVITY_FORMS = (
    "报告",
    "讲座",
    "培训",
    "咨询",
    "推广",
    "展览",
    "竞赛",
    "创客大赛",
    "文艺演出",
    "影片放映",
    "其他",
)
MAX_PARTICIPANTS = 100_000_000  # the column is a 32-bit integer
ACTIVITY_TARGETS = ("进校园", "进乡村", "进社区", "进园区/企业", "进机关", "其他")

# ---------------------------------------------------------------- roll-up and completeness

SUMS_RULE = (
    "汇总口径：每份已提交或已接收的简报代表本单位所辖全部区域（市级简报汇总所辖县区，"
    "县级简报汇总所辖乡镇街道）；每个分支按其最高一级已报送的简报计入，"
    "其下级的简报已含在其中，不再重复相加；上级未报送（或被退回）的分支，按其下级已报送的简报计入。"
    "合计只取决于已报送的简报，与报送先后无关。"
)


def rollup_sources(scope_path: str, submitted_paths: Iterable[str]) -> dict[str, list[str]]:
    """The roll-up rule (汇总口径) over the subtree strictly below ``scope_path``.

    A submitted brief stands for its tenant's whole area (seed 000: the city's brief
    汇总所辖县（市、区）, pre-filled from its children), so each branch counts once, at its
    highest submitted brief; a branch whose head has not submitted counts from the briefs
    below it. Returns each counted brief's path -> the paths of the submitted briefs it
    covers. A function of the set of submitted briefs only, never of their order."""
    submitted = set(submitted_paths)
    sources: dict[str, list[str]] = {}
    covered: list[tuple[str, str]] = []
    for path in submitted:
        head, dot = None, len(scope_path)  # the dot after the scope's own labels
        while (dot := path.find(".", dot + 1)) > 0:  # ancestors below the scope, highest first
            if path[:dot] in submitted:
                head = path[:dot]
                break
        if head is None:
            sources[path] = []
        else:
            covered.append((path, head))
    for path, head in sorted(covered):
        sources[head].append(path)
    return dict(sorted(sources.items()))


@dataclass(frozen=True)
class Tally:  # 报送情况 of a group of the tenants that must report (DHIS2 reporting rates)
    scope: str  # "direct", "subtree" or a tenant kind
    expected: int
    submitted: int
    on_time: int

    @property
    def label(self) -> str:
        return {"direct": "直属下级", "subtree": "全辖区"}.get(
            self.scope, KIND_CN.get(self.scope, self.scope)
        )

    @property
    def completeness(self) -> float:
        """报送率: submitted of those that must report."""
        return self.submitted / self.expected if self.expected else 0.0

    @property
    def timeliness(self) -> float:
        """按时报送率: on time of those that must report (what is due, not only what was
        filed), as DHIS2's "reporting rate on time" and the assessment's 按时报送率."""
        return self.on_time / self.expected if self.expected else 0.0


def tallies(
    rows: Iterable[tuple[str, bool, int, int, int]],
) -> tuple[Tally, list[Tally], Tally]:
    """(kind, is direct child, expected, submitted, on time) rows -> the direct children,
    the subtree by level (in the order of the tree) and the whole subtree."""
    by_kind: dict[str, list[int]] = {}
    direct, total = [0, 0, 0], [0, 0, 0]
    for kind, is_direct, *counts in rows:
        acc = by_kind.setdefault(kind, [0, 0, 0])
        for i, n in enumerate(counts):
            acc[i] += n
            total[i] += n
            if is_direct:
                direct[i] += n
    order = {k: i for i, k in enumerate(TENANT_KINDS)}
    levels = [
        Tally(k, *by_kind[k]) for k in sorted(by_kind, key=lambda k: order.get(k, len(order)))
    ]
    return Tally("direct", *direct), levels, Tally("subtree", *total)


# ---------------------------------------------------------------- activities


@dataclass(frozen=True)
class ActivityFacts:
    form: str
    participants: int


def prefill(
    rtype: ReportType,
    activities: list[ActivityFacts],
    children: dict[str, int | float],
    resources: int = 0,
) -> dict[str, Any]:
    """Pre-filled values: the period's own activities and published resources plus the
    children's reported figures."""
    trainings = [a for a in activities if a.form == "培训"]
    from_activities = {
        "activities.count": len(activities),
        "activities.participants": sum(a.participants for a in activities),
        "activities.training_count": len(trainings),
        "activities.training_participants": sum(a.participants for a in trainings),
        "resources.count": resources,
    }
    out: dict[str, Any] = {}
    for f in rtype.fields:
        if f.kind != "number":
            continue
        total = from_activities.get(f.source, 0) + children.get(f.key, 0)
        out[f.key] = tidy(total)
    return out


def clean_activity(data: dict[str, Any], today: date) -> dict[str, Any]:
    title = str(data.get("title") or "").strip()
    if not title:
        raise InvalidArgument("请填写活动名称。", field="title")
    if len(title) > 200:
        raise InvalidArgument("活动名称不能超过 200 字。", field="title")
    try:
        day = date.fromisoformat(str(data.get("date") or ""))
    except ValueError as exc:
        raise InvalidArgument("活动日期格式不正确，应写作 2026-10-15。", field="date") from exc
    if day > today:
        raise InvalidArgument("活动日期不能晚于今天：请在活动开展后登记。", field="date")
    form = str(data.get("form") or "")
    if form not in ACTIVITY_FORMS:
        raise InvalidArgument(
            f"活动形式“{form}”不正确，可选：{'、'.join(ACTIVITY_FORMS)}。", field="form"
        )
    target = str(data.get("target") or "")
    if target not in ACTIVITY_TARGETS:
        raise InvalidArgument(
            f"活动对象“{target}”不正确，可选：{'、'.join(ACTIVITY_TARGETS)}。", field="target"
        )
    participants = data.get("participants", 0)
    if isinstance(participants, float) and participants.is_integer():
        participants = int(participants)
    if isinstance(participants, bool) or not isinstance(participants, int):
        raise InvalidArgument("参与人数必须是整数。", field="participants")
    if participants < 0:
        raise InvalidArgument("参与人数不能为负数。", field="participants")
    if participants > MAX_PARTICIPANTS:
        raise InvalidArgument("参与人数不能超过 1 亿。", field="participants")
    talents = [str(t).strip() for t in data.get("talents") or [] if str(t).strip()]
    photos = [str(p).strip() for p in data.get("photos") or [] if str(p).strip()]
    return {
        "title": title,
        "date": day,
        "place": str(data.get("place") or "").strip(),
        "form": form,
        "target": target,
        "participants": participants,
        "talents": talents,
        "photos": photos,
    }


# ---------------------------------------------------------------- life cycle


def check_uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError) as exc:
        raise InvalidArgument(f"{what}编号格式不正确。") from exc


def check_can_edit(status: str) -> None:
    if status == SUBMITTED:
        raise Conflict("报告已提交，不能修改；如需修改，请联系上级单位退回。")
    if status == ACCEPTED:
        raise Conflict("报告已被上级接收，不能再修改。")


def check_can_submit(status: str) -> None:
    if status == SUBMITTED:
        raise Conflict("报告已提交，请勿重复提交。")
    if status == ACCEPTED:
        raise Conflict("报告已被上级接收，不能再次提交。")


def check_can_review(status: str, action: Literal["return", "accept"], reason: str = "") -> None:
    if status != SUBMITTED:
        verb = "退回" if action == "return" else "接收"
        raise Conflict(f"只有已提交的报告才能{verb}（当前状态：{STATUS_CN.get(status, status)}）。")
    if action == "return" and not reason.strip():
        raise InvalidArgument("退回报告时请填写退回理由。")


def check_role(roles: frozenset[str], action: Literal["write", "review", "define"]) -> None:
    allowed = {
        "write": {"admin", "reporter"},
        "review": {"admin", "reviewer"},
        "define": {"admin"},
    }[action]
    if not roles & allowed:
        what = {"write": "填报和提交报告", "review": "审核下级报告", "define": "定义报告类型"}[
            action
        ]
        raise PermissionDenied(f"您没有{what}的权限。")


REPORT_ACTIONS = ("save", "submit", "return", "accept")  # 保存、提交、退回、接收


def allowed_actions(
    status: str, roles: frozenset[str], *, own: bool, must_report: bool, direct_parent: bool
) -> list[str]:
    """What the caller may do next with one brief (``REPORT_ACTIONS`` order), from the checks
    the use cases make: the reporting tenant saves and submits (when its level reports this
    type), its direct parent returns or accepts a submitted brief."""

    def probe(action: str) -> None:
        if action in ("save", "submit"):
            if not own or (action == "submit" and not must_report):
                raise PermissionDenied("")
            check_role(roles, "write")
            if action == "save":
                check_can_edit(status)
            else:
                check_can_submit(status)
        else:
            if not direct_parent:
                raise PermissionDenied("")
            check_role(roles, "review")
            check_can_review(status, "return" if action == "return" else "accept", "-")

    allowed = []
    for action in REPORT_ACTIONS:
        try:
            probe(action)
        except DomainError:
            continue
        allowed.append(action)
    return allowed
