"""Rules of assessment 考核评价, plain Python without I/O: indicator schemes, roles and states,
entries and target allocation (附表1). Scoring, ranking among siblings and the honours list
(先进典型) are ``scoring``."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kepu_common.errors import Conflict, InvalidArgument, PermissionDenied
from kepu_common.tenancy import is_descendant_or_self

OPEN, CLOSED, PUBLISHED = "open", "closed", "published"
STATUS_CN = {OPEN: "考核中", CLOSED: "已结束（结果冻结）", PUBLISHED: "已发布"}

AUTOMATIC, MANUAL, VALUE = "automatic", "manual", "value"
KINDS = {AUTOMATIC: "自动采集", MANUAL: "人工评分", VALUE: "填报数值"}
LINEAR, THRESHOLD, MANUAL_RULE = "linear", "threshold", "manual"
SUM, AT_LEAST = "sum", "at_least"


@dataclass(frozen=True)
class Metric:  # 自动采集的数据项 (read model counters)
    code: str
    label: str
    numerator: str
    denominator: str = ""  # a ratio (e.g. on-time share) when set
    cumulative: bool = False  # counts every year up to the scheme's (talent pool size)


METRICS = {
    m.code: m
    for m in (
        Metric("talents_certified", "认定科普人才数", "talents_certified", cumulative=True),
        Metric("activities", "开展科普活动次数", "activities"),
        Metric("participants", "活动参与人次", "participants"),
        Metric("reports_submitted", "报送报告份数", "reports_submitted"),
        # of the reports due (submitted, or unfiled past the deadline), not only of those filed
        Metric("report_timeliness", "报告按时报送率", "reports_on_time", "reports_due"),
        Metric("projects_approved", "重点项目立项数", "projects_approved"),
        Metric("projects_completed", "重点项目结项数", "projects_completed"),
        Metric("resources_published", "科普资源开发数", "resources_published"),  # 资源库
        Metric("workplan_score", "目标责任书得分", "workplan_score"),  # work plans, year end
        # e站 coverage (reporting's stations and denominators), in percent
        # e站 coverage: stations stay certified across years; the denominators are the year's
        Metric(
            "estation_community_coverage",
            "e站社区覆盖率",
            "estations_community",
            "communities",
            cumulative=True,
        ),
        Metric(
            "estation_school_coverage",
            "e站校园覆盖率",
            "estations_school",
            "schools",
            cumulative=True,
        ),
        Metric(
            "estation_village_coverage",
            "e站乡村覆盖率",
            "estations_village",
            "villages",
            cumulative=True,
        ),
    )
}
COUNTERS = sorted(
    {m.numerator for m in METRICS.values()}
    | {m.denominator for m in METRICS.values() if m.denominator}
    | {"reports_submitted"}
)

_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,19}$")
MAX_INDICATORS = 200
EPS = 1e-6


@dataclass(frozen=True)
class Indicator:  # 考核指标（可含子指标，如锦州表 5-1、5-2、5-3）
    code: str
    name: str
    weight: float
    kind: str = MANUAL
    rule: str = MANUAL_RULE
    target: float = 0.0
    metric: str = ""
    requirement: str = ""
    unit: str = ""
    combine: str = SUM
    min_passed: int = 0
    subs: tuple[Indicator, ...] = ()

    def leaves(self) -> Iterable[Indicator]:
        if not self.subs:
            yield self
        for sub in self.subs:
            yield from sub.leaves()

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "subs"}
        d["subs"] = [s.as_dict() for s in self.subs]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Indicator:
        subs = tuple(cls.from_dict(s) for s in d.get("subs") or ())
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k != "subs"}
        return cls(**kw, subs=subs)


def _num(value: Any, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{what}必须是数字。") from exc
    if not math.isfinite(x):
        raise InvalidArgument(f"{what}必须是有限的数字。")
    return x


def build_indicator(raw: Mapping[str, Any], *, depth: int = 0) -> Indicator:
    """Validate one indicator (and its sub-indicators) from user input."""
    code = str(raw.get("code") or "").strip()
    if not _CODE.match(code):
        raise InvalidArgument(f"指标编号“{code}”不正确：请用1-20位字母、数字、点或连字符。")
    label = f"指标“{code}”"
    name = str(raw.get("name") or "").strip()
    if not name or len(name) > 200:
        raise InvalidArgument(f"{label}的名称不能为空，且不超过200字。")
    weight = _num(raw.get("weight", 0), f"{label}的分值")
    if weight < 0 or weight > 100:
        raise InvalidArgument(f"{label}的分值须在0到100之间。")
    target = _num(raw.get("target", 0) or 0, f"{label}的目标值")
    if target < 0:
        raise InvalidArgument(f"{label}的目标值不能为负数。")
    subs_raw = list(raw.get("subs") or ())
    requirement = str(raw.get("requirement") or "")[:2000]
    unit = str(raw.get("unit") or "")[:20]
    if subs_raw:
        if depth >= 2:
            raise InvalidArgument(f"{label}的子指标层级过深（最多两级）。")
        subs = tuple(build_indicator(s, depth=depth + 1) for s in subs_raw)
        combine = str(raw.get("combine") or SUM)
        min_passed = int(_num(raw.get("min_passed", 0) or 0, f"{label}的达标项数"))
        if combine == SUM:
            total = sum(s.weight for s in subs)
            if abs(total - weight) > EPS:
                raise InvalidArgument(
                    f"{label}的子指标分值之和（{_fmt(total)}）应等于该指标分值（{_fmt(weight)}）。"
                )
        elif combine == AT_LEAST:
            if not 1 <= min_passed <= len(subs):
                raise InvalidArgument(f"{label}的达标项数须在1到{len(subs)}之间。")
        else:
            raise InvalidArgument(f"{label}的子指标计分方式只能是“合计”或“达到其中几项”。")
        return Indicator(
            code, name, weight, requirement=requirement, unit=unit, combine=combine,
            min_passed=min_passed, subs=subs, kind="", rule="",
        )  # fmt: skip
    kind = str(raw.get("kind") or MANUAL)
    if kind not in KINDS:
        raise InvalidArgument(f"{label}的类型只能是自动采集、人工评分或填报数值。")
    metric = str(raw.get("metric") or "")
    rule = str(raw.get("rule") or (MANUAL_RULE if kind == MANUAL else LINEAR))
    if kind == AUTOMATIC and metric not in METRICS:
        raise InvalidArgument(f"{label}引用了未知的自动采集数据项“{metric}”。")
    if kind != AUTOMATIC:
        metric = ""
    if kind == MANUAL and rule != MANUAL_RULE:
        raise InvalidArgument(f"{label}为人工评分，计分规则只能是“人工评分”。")
    if kind != MANUAL and rule not in (LINEAR, THRESHOLD):
        raise InvalidArgument(f"{label}的计分规则只能是“按目标线性折算”或“达标得分”。")
    return Indicator(code, name, weight, kind, rule, target, metric, requirement, unit)


def build_indicators(raw: Iterable[Mapping[str, Any]]) -> tuple[Indicator, ...]:
    """A scheme's indicator list: unique codes, top-level weights summing to 100."""
    items = tuple(build_indicator(r) for r in raw)
    if not items:
        raise InvalidArgument("考核方案至少要有一项考核指标。")
    codes = [i.code for top in items for i in _walk(top)]
    if len(codes) > MAX_INDICATORS:
        raise InvalidArgument(f"考核指标不能超过{MAX_INDICATORS}项。")
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise InvalidArgument(f"指标编号重复：{'、'.join(dup)}。")
    total = sum(i.weight for i in items)
    if abs(total - 100) > EPS:
        raise InvalidArgument(f"各项考核指标的分值之和应为100分，当前为{_fmt(total)}分。")
    return items


def _walk(ind: Indicator) -> Iterable[Indicator]:
    yield ind
    for s in ind.subs:
        yield from _walk(s)


def find(indicators: Iterable[Indicator], code: str) -> Indicator:
    for top in indicators:
        for ind in _walk(top):
            if ind.code == code:
                return ind
    raise InvalidArgument(f"考核方案中没有编号为“{code}”的指标。")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def check_year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise InvalidArgument("考核年度不正确，请填写如2026的四位年份。")
    return year


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidArgument("考核方案名称不能为空，且不超过200字。")
    return name


def check_honours(top_n: int, min_score: float) -> None:
    if top_n < 0:
        raise InvalidArgument("先进典型名额不能为负数。")
    if min_score < 0 or min_score > 100:
        raise InvalidArgument("先进典型分数线须在0到100之间。")


# ---------------------------------------------------------------- roles and states

WRITE_ROLES = {"admin"}


def check_admin(roles: Iterable[str]) -> None:
    if not WRITE_ROLES & set(roles):
        raise PermissionDenied("只有本单位管理员可以管理考核评价。")


def check_open(status: str) -> None:
    if status != OPEN:
        raise Conflict("考核已结束，结果已冻结，不能再修改评分或重新计算。")


# 可执行的操作 on a scheme, in the order its owner meets them
SCHEME_ACTIONS = (
    "view_results", "view_scores", "score", "allocate", "compute", "resolve_tie", "close",
    "publish",
)  # fmt: skip


def scheme_actions(
    status: str, owner_path: str, caller_path: str, roles: Iterable[str]
) -> list[str]:
    """What the caller may do with a scheme (``SCHEME_ACTIONS`` order), by the checks the
    use cases make: the owner and its ancestors read the results and scores at any time, the
    assessed units the results once published; only the owner's admin changes the scheme,
    scores, allocates and computes while it is open, and settles a tie or publishes until
    it is published."""
    assessor = is_descendant_or_self(owner_path, caller_path)
    owner = caller_path == owner_path and bool(WRITE_ROLES & set(roles))
    allowed = {
        "view_results": assessor or status == PUBLISHED,
        "view_scores": assessor,
        "score": owner and status == OPEN,
        "allocate": owner and status == OPEN,
        "compute": owner and status == OPEN,
        "resolve_tie": owner and status != PUBLISHED,
        "close": owner and status == OPEN,
        "publish": owner and status != PUBLISHED,
    }
    return [a for a in SCHEME_ACTIONS if allowed[a]]


# ---------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:  # 人工评分或填报数值
    score: float | None = None
    value: float | None = None
    evidence: str = ""


def check_entry(ind: Indicator, entry: Entry) -> Entry:
    label = f"指标“{ind.code}”"
    if ind.subs:
        raise InvalidArgument(f"{label}由子指标计分，请对子指标评分。")
    evidence = entry.evidence.strip()
    if len(evidence) > 2000:
        raise InvalidArgument(f"{label}的佐证说明不能超过2000字。")
    if ind.kind == AUTOMATIC:
        raise InvalidArgument(f"{label}由系统自动采集，不能人工评分。")
    if ind.kind == MANUAL:
        if entry.score is None or entry.value is not None:
            raise InvalidArgument(f"{label}为人工评分，请填写得分。")
        score = _num(entry.score, f"{label}的得分")
        if score < 0 or score > ind.weight + EPS:
            raise InvalidArgument(f"{label}的得分须在0到{_fmt(ind.weight)}分之间。")
        return Entry(score=score, evidence=evidence)
    if entry.value is None or entry.score is not None:
        raise InvalidArgument(f"{label}为填报数值，请填写数值。")
    value = _num(entry.value, f"{label}的数值")
    if value < 0:
        raise InvalidArgument(f"{label}的数值不能为负数。")
    return Entry(value=value, evidence=evidence)


# ---------------------------------------------------------------- allocation (附表1)


def check_allocation(
    ind: Indicator, parent_quota: float, quotas: Mapping[str, float], child_ids: set[str]
) -> float:
    """Children's quotas must each be ≥ 0 and sum to at least the parent's quota."""
    if ind.subs or ind.kind == MANUAL:
        raise InvalidArgument(f"指标“{ind.code}”不是数量指标，不能分配任务指标。")
    if parent_quota < 0:
        raise InvalidArgument("本级任务指标不能为负数。")
    if not quotas:
        raise InvalidArgument("请为下级单位填写任务指标。")
    for tid, q in quotas.items():
        if tid not in child_ids:
            raise InvalidArgument("任务指标只能分配给本单位的直属下级单位。")
        if q < 0 or not math.isfinite(q):
            raise InvalidArgument("分配给下级单位的任务指标不能为负数。")
    total = sum(quotas.values())
    if total + EPS < parent_quota:
        raise InvalidArgument(
            f"分配给各下级单位的任务指标之和（{_fmt(total)}）少于本级任务指标"
            f"（{_fmt(parent_quota)}），请调整后再保存。"
        )
    return total
