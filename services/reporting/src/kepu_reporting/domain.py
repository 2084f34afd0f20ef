"""Reporting rules as plain Python: periods, deadlines, field values, the report life cycle.

No I/O here. The seeds behind the rules: seed 000 (monthly 工作简报 by the 3rd to the
county, by the 5th to the province; annual summary by 15 Dec / 31 Dec) and seed 002
(quarterly progress reports).
"""

from __future__ import annotations

import calendar
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import chinese_calendar
from kepu_common.errors import (
    Conflict,
    DomainError,
    FieldViolation,
    InvalidArgument,
    PermissionDenied,
)
from kepu_common.times import SHANGHAI

PeriodKind = Literal["month", "quarter", "year"]
PERIOD_KIND_CN = {"month": "月度", "quarter": "季度", "year": "年度"}
TENANT_KINDS = ("province", "city", "county", "township", "society")
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

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q(\d)$")
_YEAR = re.compile(r"^(\d{4})$")


# ---------------------------------------------------------------- periods


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: ``2026-10`` (month), ``2026Q3`` (quarter) or ``2026`` (year)."""

    kind: PeriodKind
    year: int
    index: int = 1  # month 1-12, quarter 1-4, 1 for a year

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}Q{self.index}"
        return f"{self.year:04d}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}年{self.index}月"
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        return f"{self.year}年"

    @property
    def first_month(self) -> int:
        return {"month": self.index, "quarter": 3 * self.index - 2, "year": 1}[self.kind]

    @property
    def last_month(self) -> int:
        return {"month": self.index, "quarter": 3 * self.index, "year": 12}[self.kind]

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        m = self.last_month
        return date(self.year, m, calendar.monthrange(self.year, m)[1])

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def parse_period(text: str, expected_kind: str | None = None) -> Period:
    """Parse a period string; raises ``InvalidArgument`` with a Chinese message."""
    s = (text or "").strip()
    period: Period | None = None
    if m := _MONTH.match(s):
        month = int(m.group(2))
        if 1 <= month <= 12:
            period = Period("month", int(m.group(1)), month)
    elif m := _QUARTER.match(s):
        q = int(m.group(2))
        if 1 <= q <= 4:
            period = Period("quarter", int(m.group(1)), q)
    elif m := _YEAR.match(s):
        period = Period("year", int(m.group(1)))
    if period is None or not 2000 <= period.year <= 2100:
        raise InvalidArgument(
            f"报告期“{text}”格式不正确：月度写作 2026-10，季度写作 2026Q3（1–4 季度），年度写作 2026。"
        )
    if expected_kind and period.kind != expected_kind:
        raise InvalidArgument(
            f"报告期“{text}”是{PERIOD_KIND_CN[period.kind]}期间，"
            f"而该报告按{PERIOD_KIND_CN[expected_kind]}报送。"
        )
    return period


def ensure_not_future(period: Period, today: date) -> None:
    if period.start > today:
        raise InvalidArgument(f"报告期“{period.code}”尚未开始，不能填报未来期间的报告。")


def periods_around(kind: str, today: date) -> list[Period]:
    """The current and previous period of ``kind`` (the ones whose deadlines may be near)."""
    if kind == "month":
        last = date(today.year, today.month, 1) - timedelta(days=1)
        return [Period("month", last.year, last.month), Period("month", today.year, today.month)]
    if kind == "quarter":
        q = (today.month - 1) // 3 + 1
        prev = (
            Period("quarter", today.year - 1, 4) if q == 1 else Period("quarter", today.year, q - 1)
        )
        return [prev, Period("quarter", today.year, q)]
    return [Period("year", today.year - 1), Period("year", today.year)]


# ---------------------------------------------------------------- working days and deadlines


def is_workday(day: date) -> bool:
    """China's official working days (statutory holidays and make-up days from chinese-calendar);
    beyond the package's data, Monday to Friday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def next_workday_on_or_after(day: date) -> date:
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def workdays_after(deadline: date, today: date) -> int:
    """How many working days have passed after ``deadline`` up to and including ``today``."""
    n, day = 0, deadline + timedelta(days=1)
    while day <= today:
        if is_workday(day):
            n += 1
        day += timedelta(days=1)
    return n


@dataclass(frozen=True)
class DueRule:
    """Deadline of one tenant kind: ``day`` of the month ``month_offset`` months after the
    period's last month (anchor ``end``) or first month (anchor ``start``)."""

    month_offset: int
    day: int
    anchor: Literal["start", "end"] = "end"

    def nominal(self, period: Period) -> date:
        base = period.last_month if self.anchor == "end" else period.first_month
        months = period.year * 12 + (base - 1) + self.month_offset
        year, month = divmod(months, 12)
        month += 1
        return date(year, month, min(self.day, calendar.monthrange(year, month)[1]))

    def deadline(self, period: Period) -> date:
        """The nominal date moved to the next working day when it is a holiday or weekend."""
        return next_workday_on_or_after(self.nominal(period))


def local_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def is_on_time(submitted_at: datetime, deadline: date) -> bool:
    """Timeliness is judged on the calendar of Asia/Shanghai: any time on the deadline day counts."""
    return local_date(submitted_at) <= deadline


# ---------------------------------------------------------------- report types and values


FieldKind = Literal["number", "text", "list"]


@dataclass(frozen=True)
class FieldDef:
    key: str
    label: str
    kind: FieldKind
    unit: str = ""
    required: bool = False
    # where a pre-filled value comes from: activities.count | activities.participants |
    # activities.training_count | activities.training_participants | resources.count (the
    # resources published in the library in the period) (and always the children)
    source: str = ""


ACTIVITY_SOURCES = (
    "activities.count",
    "activities.participants",
    "activities.training_count",
    "activities.training_participants",
    "resources.count",
)
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True)
class ReportType:  # 报告类型
    code: str
    name: str
    period_kind: PeriodKind
    fields: tuple[FieldDef, ...]
    due_rules: dict[str, DueRule]
    owner_path: str = ""  # "" for the built-in types every tenant uses
    owner_tenant_id: str = ""
    builtin: bool = False

    def field(self, key: str) -> FieldDef | None:
        return next((f for f in self.fields if f.key == key), None)

    @property
    def numeric_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.kind == "number"]

    def due_rule(self, tenant_kind: str) -> DueRule | None:
        return self.due_rules.get(tenant_kind)

    def deadline(self, tenant_kind: str, period: Period) -> date | None:
        rule = self.due_rule(tenant_kind)
        return rule.deadline(period) if rule else None

    def applies_to(self, tenant_path: str) -> bool:
        """A type defined by a tenant applies to its strict descendants (the built-ins to all)."""
        return not self.owner_path or tenant_path.startswith(self.owner_path + ".")


def _n(key: str, label: str, unit: str, source: str = "") -> FieldDef:
    return FieldDef(key, label, "number", unit, source=source)


_MONTHLY_DUE = {
    "township": DueRule(1, 3),
    "society": DueRule(1, 3),
    "county": DueRule(1, 4),
    "city": DueRule(1, 5),
}

BUILTIN_TYPES: tuple[ReportType, ...] = (
    ReportType(
        "monthly_brief",
        "工作简报",
        "month",
        (
            _n("training_sessions", "人才培训场次", "场", "activities.training_count"),
            _n("trainees", "人才培训人次", "人次", "activities.training_participants"),
            _n("activities", "活动开展次数", "次", "activities.count"),
            _n("participants", "活动参与人次", "人次", "activities.participants"),
            _n("resources", "资源开发数量", "项", "resources.count"),
            FieldDef("narrative", "工作情况", "text"),
        ),
        dict(_MONTHLY_DUE),
        builtin=True,
    ),
    ReportType(
        "quarterly_progress",
        "季度工作进展",
        "quarter",
        (
            _n("estations", "新建科普中国e站", "个"),
            _n("info_officers", "科普信息员", "人"),
            _n("activities", "活动开展次数", "次", "activities.count"),
            _n("participants", "活动参与人次", "人次", "activities.participants"),
            FieldDef("progress", "进展情况", "text"),
            FieldDef("problems", "存在问题", "text"),
            FieldDef("next_steps", "下一步工作", "list"),
        ),
        dict(_MONTHLY_DUE),
        builtin=True,
    ),
    ReportType(
        "annual_plan",
        "年度工作计划",
        "year",
        (
            _n("planned_talents", "计划培养科普人才", "人"),
            _n("planned_activities", "计划开展活动", "次"),
            _n("planned_resources", "计划开发资源", "项"),
            FieldDef("plan", "工作计划", "text"),
            FieldDef("tasks", "重点任务", "list"),
        ),
        {
            "township": DueRule(0, 31, "start"),
            "society": DueRule(0, 31, "start"),
            "county": DueRule(1, 10, "start"),
            "city": DueRule(1, 20, "start"),
        },
        builtin=True,
    ),
    ReportType(
        "annual_summary",
        "年度工作总结",
        "year",
        (
            _n("trainees", "人才培训人次", "人次", "activities.training_participants"),
            _n("activities", "活动开展次数", "次", "activities.count"),
            _n("participants", "活动参与人次", "人次", "activities.participants"),
            _n("resources", "资源开发数量", "项", "resources.count"),
            FieldDef("summary", "工作总结", "text"),
            FieldDef("achievements", "主要成效", "list"),
        ),
        {
            "township": DueRule(0, 15),
            "society": DueRule(0, 15),
            "county": DueRule(0, 20),
            "city": DueRule(0, 31),
        },
        builtin=True,
    ),
)
BUILTIN_BY_CODE = {t.code: t for t in BUILTIN_TYPES}


def define_type(
    *,
    code: str,
    name: str,
    period_kind: str,
    fields: list[dict[str, Any]],
    due_rules: dict[str, dict[str, Any]],
    owner_path: str,
    owner_tenant_id: str,
) -> ReportType:
    """Validate a report type an upper level defines for its subtree."""
    if not _CODE.match(code or ""):
        raise InvalidArgument(
            "报告类型代码只能由小写字母、数字和下划线组成，且以字母开头（2–40 位）。"
        )
    if code in BUILTIN_BY_CODE:
        raise InvalidArgument(f"报告类型代码“{code}”是系统内置类型，不能重复定义。")
    if not (name or "").strip():
        raise InvalidArgument("请填写报告类型名称。")
    if period_kind not in PERIOD_KIND_CN:
        raise InvalidArgument("报告周期只能是 month（月度）、quarter（季度）或 year（年度）。")
    defs: list[FieldDef] = []
    for f in fields:
        key, kind = str(f.get("key", "")), str(f.get("kind", ""))
        if not _KEY.match(key):
            raise InvalidArgument(f"字段代码“{key}”不正确：只能由小写字母、数字和下划线组成。")
        if kind not in ("number", "text", "list"):
            raise InvalidArgument(
                f"字段“{key}”的类型只能是 number（数字）、text（文字）或 list（列表）。"
            )
        if any(d.key == key for d in defs):
            raise InvalidArgument(f"字段代码“{key}”重复。")
        source = str(f.get("source") or "")
        if source and source not in ACTIVITY_SOURCES:
            raise InvalidArgument(f"字段“{key}”的预填来源“{source}”不受支持。")
        defs.append(
            FieldDef(
                key,
                str(f.get("label") or key),
                kind,  # type: ignore[arg-type]
                str(f.get("unit") or ""),
                bool(f.get("required")),
                source,
            )
        )
    if not defs:
        raise InvalidArgument("报告类型至少需要一个字段。")
    rules: dict[str, DueRule] = {}
    for kind_name, r in due_rules.items():
        if kind_name not in TENANT_KINDS or kind_name == "province":
            raise InvalidArgument(f"报送期限中的单位级别“{kind_name}”不正确。")
        try:
            rule = DueRule(
                int(r.get("month_offset", 1)),
                int(r.get("day", 0)),
                "start" if r.get("anchor") == "start" else "end",
            )
        except (TypeError, ValueError) as exc:
            raise InvalidArgument("报送期限必须写成整数的月份偏移和日期。") from exc
        if not 1 <= rule.day <= 31 or not -12 <= rule.month_offset <= 12:
            raise InvalidArgument("报送期限的日期应在 1–31 日之间，月份偏移应在 ±12 个月以内。")
        rules[kind_name] = rule
    if not rules:
        raise InvalidArgument("请至少为一个单位级别设置报送期限。")
    return ReportType(
        code,
        name.strip(),
        period_kind,  # type: ignore[arg-type]
        tuple(defs),
        rules,
        owner_path,
        owner_tenant_id,
    )


def _number(f: FieldDef, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(f"“{f.label}”必须填写数字，不能填写文字。", field=f"values.{f.key}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidArgument(f"“{f.label}”必须是有效的数字。", field=f"values.{f.key}")
    if value < 0:
        raise InvalidArgument(f"“{f.label}”不能为负数。", field=f"values.{f.key}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _no_nul(f: FieldDef, text: str) -> None:
    """PostgreSQL text cannot hold NUL: refused here, not a database error later."""
    if "\x00" in text:
        raise InvalidArgument(
            f"“{f.label}”含有空字符（NUL），请删除后重新填写。", field=f"values.{f.key}"
        )


def clean_values(rtype: ReportType, values: dict[str, Any]) -> dict[str, Any]:
    """Check values against the type's fields; returns normalised values or raises."""
    if not isinstance(values, dict):
        raise InvalidArgument("报告内容格式不正确。")
    out: dict[str, Any] = {}
    for key, value in values.items():
        f = rtype.field(key)
        if f is None:
            raise InvalidArgument(f"“{rtype.name}”没有名为“{key}”的栏目。", field=f"values.{key}")
        if value is None:
            continue
        if f.kind == "number":
            out[key] = _number(f, value)
        elif f.kind == "text":
            if not isinstance(value, str):
                raise InvalidArgument(f"“{f.label}”必须填写文字。", field=f"values.{f.key}")
            if len(value) > 20000:
                raise InvalidArgument(f"“{f.label}”不能超过 20000 字。", field=f"values.{f.key}")
            _no_nul(f, value)
            out[key] = value
        else:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidArgument(f"“{f.label}”必须是文字列表。", field=f"values.{f.key}")
            for v in value:
                _no_nul(f, v)
            out[key] = [v for v in value if v.strip()]
    return out


def check_complete(rtype: ReportType, values: dict[str, Any]) -> None:
    missing = [f for f in rtype.fields if f.required and values.get(f.key) in (None, "", [])]
    if missing:
        raise InvalidArgument(
            f"以下必填栏目尚未填写：{'、'.join(f.label for f in missing)}。",
            errors=[FieldViolation(f"values.{f.key}", f"请填写“{f.label}”。") for f in missing],
        )


def numeric_part(rtype: ReportType, values: dict[str, Any]) -> dict[str, int | float]:
    return {k: values[k] for k in rtype.numeric_keys if isinstance(values.get(k), int | float)}


def _tidy(v: float) -> int | float:
    return int(v) if float(v).is_integer() else round(v, 6)


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
        out[f.key] = _tidy(total)
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


def due_notices(deadline: date, today: date) -> list[str]:
    """Which notices a tenant that has not yet submitted should have received by ``today``:
    reminders three days and one day before, an overdue notice after the deadline, and an
    escalation to the level above after three working days."""
    if today > deadline:
        notices = ["overdue"]
        if workdays_after(deadline, today) >= 3:
            notices.append("escalation")
        return notices
    days_left = (deadline - today).days
    if days_left <= 1:
        return ["reminder_1d"]
    if days_left <= 3:
        return ["reminder_3d"]
    return []
