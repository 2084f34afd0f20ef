"""Report types 报告类型 as plain Python: the fields a type asks (number, text, list; the sources
that pre-fill them from activities), the built-in types of seeds 000 and 002 with their
deadlines per tenant kind, a province's own types (``define_type``) and the checks of a
brief's values (``clean_values``, ``check_complete``). No I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from kepu_common.errors import FieldViolation, InvalidArgument

from .periods import PERIOD_KIND_CN, DueRule, Period, PeriodKind

TENANT_KINDS = ("province", "city", "county", "township", "society")

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


def tidy(v: float) -> int | float:
    return int(v) if float(v).is_integer() else round(v, 6)
