"""Rules of the 科普中国 e站 network, plain Python without I/O: kinds, the 五有 checklist, the
review chain (application -> county review -> city 复核 and 认定), the monthly standard (an
activity of at least 50 people) and the coverage ratios (targets 60 / 90 / 30 %)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kepu_common.errors import Conflict, InvalidArgument, PermissionDenied

KINDS = {"community": "社区e站", "school": "校园e站", "village": "乡村e站"}
DENOMINATOR = {"community": "communities", "school": "schools", "village": "villages"}
TARGETS = {"community": 60.0, "school": 90.0, "village": 30.0}  # 锦州: ≥60% / ≥90% / ≥30%
CONDITIONS = {  # 五有
    "network": "有网络",
    "staff": "有人员",
    "place": "有场所",
    "activities": "有活动",
    "terminal": "有终端",
}
APPLIED, COUNTY_REVIEWED, CERTIFIED = "applied", "county_reviewed", "certified"
DRAFT, RETURNED, SUSPENDED, WITHDRAWN = "draft", "returned", "suspended", "withdrawn"
STATUS_CN = {
    DRAFT: "待申报",
    APPLIED: "已申报（待县级审核）",
    COUNTY_REVIEWED: "县级已审核（待市级复核）",
    CERTIFIED: "已认定",
    RETURNED: "已退回",
    SUSPENDED: "已暂停",
    WITHDRAWN: "已撤销",
}
MIN_PARTICIPANTS = 50  # a month counts as 达标 with one activity of this many people
ACTIONS = {
    # action: (level of the actor, statuses it applies to, new status)
    "county_approve": ("county", {APPLIED}, COUNTY_REVIEWED),
    "city_certify": ("city", {COUNTY_REVIEWED}, CERTIFIED),
    "return": ("review", {APPLIED, COUNTY_REVIEWED}, RETURNED),
    "suspend": ("city", {CERTIFIED}, SUSPENDED),
    "reinstate": ("city", {SUSPENDED}, CERTIFIED),
    "withdraw": ("city", {CERTIFIED, SUSPENDED}, WITHDRAWN),
}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass
class Station:  # 科普中国e站
    id: str
    tenant_id: str
    tenant_path: str
    kind: str
    name: str
    address: str
    host: str
    conditions: dict[str, dict[str, Any]]
    status: str = DRAFT
    plaque_no: str | None = None
    informant_ids: list[str] = field(default_factory=list)
    opinion: str = ""


def build_station(data: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(data.get("kind") or "")
    if kind not in KINDS:
        raise InvalidArgument("e站类型只能是社区e站、校园e站或乡村e站。", field="kind")
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise InvalidArgument("e站名称不能为空，且不超过100字。", field="name")
    conditions: dict[str, dict[str, Any]] = {c: {"met": False, "evidence": ""} for c in CONDITIONS}
    for c in data.get("conditions") or ():
        code = str(c.get("code") or "")
        if code not in CONDITIONS:
            raise InvalidArgument(f"“五有”条件“{code}”无效。", field="conditions")
        conditions[code] = {
            "met": bool(c.get("met")),
            "evidence": str(c.get("evidence") or "")[:2000],
        }
    return {
        "kind": kind, "name": name, "address": str(data.get("address") or "").strip()[:200],
        "host": str(data.get("host") or "").strip()[:100], "conditions": conditions,
    }  # fmt: skip


def missing_conditions(st: Station) -> list[str]:
    return [CONDITIONS[c] for c in CONDITIONS if not st.conditions.get(c, {}).get("met")]


def check_submit(st: Station) -> None:
    if st.status not in (DRAFT, RETURNED):
        raise Conflict(f"该e站当前状态为“{STATUS_CN[st.status]}”，不能申报。")
    missing = missing_conditions(st)
    if missing:
        raise InvalidArgument(f"“五有”条件未齐备：{'、'.join(missing)}。", field="conditions")


def check_action(st: Station, action: str, actor_level: str) -> str:
    """The new status of ``action`` by a tenant of ``actor_level`` (county | city)."""
    if action not in ACTIONS:
        raise InvalidArgument("操作无效。", field="action")
    level, sources, target = ACTIONS[action]
    if level == "review":
        level = "county" if st.status == APPLIED else "city"
    if level != actor_level:
        who = "县级科协" if level == "county" else "市级科协"
        raise PermissionDenied(f"该操作应由{who}进行。")
    if st.status not in sources:
        raise Conflict(f"该e站当前状态为“{STATUS_CN[st.status]}”，不能进行此操作。")
    if target == CERTIFIED and not st.informant_ids:
        raise InvalidArgument("认定e站前须至少登记一名科普信息员。", field="informant_ids")
    return target


def check_month(month: str) -> tuple[int, int]:
    m = _MONTH.match(month.strip())
    if not m:
        raise InvalidArgument("月份格式不正确（应为 YYYY-MM）。", field="month")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class MonthStatus:
    month: str
    scheduled: bool
    activities: int
    best: int

    @property
    def met(self) -> bool:  # otherwise 未达标
        return self.best >= MIN_PARTICIPANTS


def months(
    year: int, schedules: set[str], activity: Mapping[str, tuple[int, int]]
) -> list[MonthStatus]:
    """Each month of ``year``: schedule filed, number of activities and the best attendance."""
    out = []
    for mo in range(1, 13):
        key = f"{year}-{mo:02d}"
        n, best = activity.get(key, (0, 0))
        out.append(MonthStatus(key, key in schedules, n, best))
    return out


def ratio(stations: int, total: int) -> float:
    return round(100.0 * stations / total, 2) if total else 0.0


def check_denominators(values: Mapping[str, int], certified: Mapping[str, int]) -> None:
    """A denominator cannot be smaller than the stations of that kind already certified."""
    for kind, col in DENOMINATOR.items():
        v = values[col]
        if v < 0:
            raise InvalidArgument("数量不能为负数。", field=col)
        if v < certified.get(kind, 0):
            raise InvalidArgument(
                f"{KINDS[kind][:2]}数量（{v}）少于已认定的{KINDS[kind]}数（{certified[kind]}）。",
                field=col,
            )


def plaque_no(city_code: str, year: int, seq: int) -> str:
    """牌匾编号: the city's code, the year of 认定 and a running number."""
    return f"{city_code}-E{year}-{seq:04d}"


def allowed_actions(st: Station, level: str, own: bool) -> Sequence[str]:
    out = ["submit"] if own and st.status in (DRAFT, RETURNED) else []
    for name, (lvl, sources, _target) in ACTIONS.items():
        lvl = ("county" if st.status == APPLIED else "city") if lvl == "review" else lvl
        if lvl == level and st.status in sources:
            out.append(name)
    return out
