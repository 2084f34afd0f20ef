"""Rules of certified bases (seed 001 items 5, 21, 23), plain Python without I/O: a call may
end in certification instead of funding; each project selected in such a call becomes a base
of the call's kind with a number and a validity period; the certifier reviews it once a year
(复核) and a failed review takes the title away; the registry counts bases against targets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kepu_common.errors import Conflict, InvalidArgument, PermissionDenied

FUNDING, CERTIFICATION = "funding", "certification"
OUTCOMES = {FUNDING: "立项资助", CERTIFICATION: "认定命名"}
# kind -> the letters of its number (省级科普教育基地 JD, 科普示范社区 SQ, …)
KINDS = {
    "科普教育基地": "JD",
    "科普示范社区": "SQ",
    "农村中学科技馆": "KJG",
    "现代农业科普园": "NY",
}
# The province's plan for the year (seed 001: 20 农村中学科技馆, 21 现代农业科普园, 46 科普示范社区)
PROVINCE_TARGETS = {"科普示范社区": 46, "农村中学科技馆": 20, "现代农业科普园": 21}
CERTIFIED, EXPIRED, REVOKED = "certified", "expired", "revoked"
STATUS_CN = {CERTIFIED: "已认定", EXPIRED: "已过有效期", REVOKED: "已撤销命名"}
PASSED, FAILED = "passed", "failed"
OUTCOME_CN = {PASSED: "复核通过", FAILED: "复核未通过"}
REVIEW_ROLES = frozenset({"admin", "reviewer"})


@dataclass(frozen=True)
class CallOutcome:
    outcome: str
    base_kind: str
    validity_years: int


def clean_outcome(data: Mapping[str, Any], criteria_given: bool) -> CallOutcome:
    """The outcome of a call; a certification call names its kind and its own criteria
    (认定标准), the default scoring criteria of a funding call are not a certification's."""
    outcome = str(data.get("outcome") or FUNDING)
    if outcome not in OUTCOMES:
        raise InvalidArgument("申报批次的结果只能是立项资助或认定命名。", field="outcome")
    if outcome == FUNDING:
        return CallOutcome(FUNDING, "", 3)
    kind = str(data.get("base_kind") or "")
    if kind not in KINDS:
        raise InvalidArgument(f"认定类型只能是：{'、'.join(KINDS)}。", field="base_kind")
    if not criteria_given:
        raise InvalidArgument(
            "认定命名的申报批次须设置认定标准（评审指标及权重）。", field="criteria"
        )
    years = int(data.get("validity_years") or 3)
    if not 1 <= years <= 10:
        raise InvalidArgument("认定有效期应在1到10年之间。", field="validity_years")
    return CallOutcome(CERTIFICATION, kind, years)


@dataclass
class Base:  # 认定的基地（科普教育基地、科普示范社区、农村中学科技馆、现代农业科普园）
    id: str
    tenant_id: str
    tenant_path: str
    tenant_name: str
    kind: str
    name: str
    project_id: str
    call_id: str
    certifier_path: str
    number: str
    certified_on: date
    valid_until: date
    status: str = CERTIFIED
    revoked_on: date | None = None
    reviews: list[Any] = field(default_factory=list)


def number(certifier_code: str, kind: str, year: int, seq: int) -> str:
    """认定编号: the certifier's code, the kind's letters, the year and a running number."""
    return f"{certifier_code}-{KINDS[kind]}{year}-{seq:03d}"


def valid_until(certified_on: date, years: int) -> date:
    """The last day of the title: the day before the anniversary ``years`` later."""
    try:
        end = certified_on.replace(year=certified_on.year + years)
    except ValueError:  # 29 February
        end = certified_on.replace(year=certified_on.year + years, day=28)
    return end - timedelta(days=1)


def status_on(b: Base, today: date) -> str:
    if b.status == CERTIFIED and today > b.valid_until:
        return EXPIRED
    return b.status


def check_review(
    b: Base, reviewer_path: str, year: int, outcome: str, opinion: str, today: date,
    reviewed_years: Iterable[int],
) -> str:  # fmt: skip
    """The yearly 复核 by the certifier; returns the base's new status."""
    if reviewer_path != b.certifier_path:
        raise PermissionDenied("基地的年度复核应由认定单位进行。")
    if outcome not in OUTCOME_CN:
        raise InvalidArgument("复核结果只能是通过或未通过。", field="outcome")
    if not b.certified_on.year <= year <= today.year:
        raise InvalidArgument(
            f"复核年度应在认定当年（{b.certified_on.year}年）至今年之间。", field="year"
        )
    if status_on(b, today) != CERTIFIED:
        raise Conflict(f"该基地当前状态为“{STATUS_CN[status_on(b, today)]}”，不能复核。")
    if year in set(reviewed_years):
        raise Conflict(f"该基地{year}年度已复核。")
    if outcome == FAILED and not opinion.strip():
        raise InvalidArgument("复核未通过须填写意见。", field="opinion")
    return REVOKED if outcome == FAILED else CERTIFIED


def allowed_actions(b: Base, caller_path: str, roles: Iterable[str], today: date) -> Sequence[str]:
    ok = b.certifier_path == caller_path and REVIEW_ROLES & set(roles)
    return ["review"] if ok and status_on(b, today) == CERTIFIED else []


def clean_targets(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        kind = str(item.get("kind") or "")
        if kind not in KINDS:
            raise InvalidArgument(f"基地类型只能是：{'、'.join(KINDS)}。", field="targets")
        n = int(item.get("target") or 0)
        if not 0 <= n <= 100000:
            raise InvalidArgument("目标数应在0到100000之间。", field="targets")
        out[kind] = n
    return out
