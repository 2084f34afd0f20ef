"""The talent review chain (seed 000: 县推荐 → 省辖市科协意见 → 省科协资格审核 → 建档).

Plain Python without I/O: who may act on a talent in which state, and what the
action changes. The service loads the talent and the tenant kinds, asks this
module, and writes the result together with its event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal

from kepu_common.errors import Conflict, DomainError, InvalidArgument, PermissionDenied
from kepu_common.tenancy import Principal
from kepu_common.times import SHANGHAI


class Status(StrEnum):  # 人才状态
    DRAFT = "draft"  # 草稿
    RECOMMENDED = "recommended"  # 已推荐（县级科协或学会）
    CITY_REVIEWED = "city_reviewed"  # 省辖市科协已出具意见
    CERTIFIED = "certified"  # 已认定、建档
    REJECTED = "rejected"  # 未通过
    SUSPENDED = "suspended"  # 暂停
    REVOKED = "revoked"  # 撤销


STATUS_LABELS = {
    Status.DRAFT: "草稿",
    Status.RECOMMENDED: "已推荐",
    Status.CITY_REVIEWED: "市级已审",
    Status.CERTIFIED: "已认定",
    Status.REJECTED: "未通过",
    Status.SUSPENDED: "已暂停",
    Status.REVOKED: "已撤销",
}

Decision = Literal["approve", "reject"]
REVIEW_ROLES = frozenset({"admin", "reviewer"})
WRITE_ROLES = frozenset({"admin", "reviewer", "reporter"})  # a viewer only reads
OWNER_KINDS = frozenset({"county", "society", "township"})
DEFAULT_QUOTAS = {"county": 100, "city": 1000, "province": 10000}


@dataclass(frozen=True)
class Chain:  # 审核链
    """The tenants that act on one talent, as ltree paths."""

    owner_path: str
    recommender_path: str  # 县（市、区）科协 or 学会; a township's county
    city_path: str | None  # 省辖市科协, when the talent lies under a city
    province_path: str


@dataclass(frozen=True)
class Transition:
    from_status: Status
    to_status: Status
    step: str  # recommend | city_opinion | province_review | suspend | reinstate | revoke
    opinion: str
    event_type: str


def build_chain(owner_path: str, owner_kind: str, kinds: dict[str, str]) -> Chain:
    """The chain for a talent owned by ``owner_path``; ``kinds`` maps known paths to kinds."""
    labels = owner_path.split(".")
    recommender = owner_path
    if owner_kind == "township" and len(labels) > 1:
        recommender = ".".join(labels[:-1])
    city: str | None = None
    if len(labels) >= 2:
        candidate = ".".join(labels[:2])
        kind = kinds.get(candidate)
        if kind == "city" or (kind is None and len(labels) >= 3):
            city = candidate
    return Chain(
        owner_path=owner_path, recommender_path=recommender, city_path=city, province_path=labels[0]
    )


def check_can_own(kind: str) -> None:
    """Talents belong to the recommending tenant (county, society) or a township under it."""
    if kind not in OWNER_KINDS:
        raise PermissionDenied(
            "科普人才应由县（市、区）科协、学会或乡镇街道科协录入，本级不能直接录入人才。"
        )


def _require_role(principal: Principal) -> None:
    if not principal.roles & REVIEW_ROLES:
        raise PermissionDenied("此操作需要管理员或审核员角色。")


def _require_opinion(opinion: str, what: str, field: str = "opinion") -> str:
    text = (opinion or "").strip()
    if not text:
        raise InvalidArgument(f"请填写{what}。", field=field)
    if len(text) > 2000:
        raise InvalidArgument(f"{what}过长（不超过2000字）。", field=field)
    return text


def check_can_edit(status: Status, chain: Chain, principal: Principal) -> None:
    if principal.tenant_path not in (chain.owner_path, chain.recommender_path):
        raise PermissionDenied("只有录入单位或推荐单位可以修改该人才信息。")
    if not principal.roles & WRITE_ROLES:
        raise PermissionDenied("您的角色只能查看，不能修改人才信息。")
    if status is not Status.DRAFT:
        raise Conflict(f"该人才当前状态为“{STATUS_LABELS[status]}”，只有草稿可以修改。")


def recommend(status: Status, chain: Chain, principal: Principal, opinion: str) -> Transition:
    """县（市、区）科协或学会推荐, with its 推荐意见."""
    if principal.tenant_path != chain.recommender_path:
        raise PermissionDenied("只有该人才所属的县（市、区）科协或学会可以推荐。")
    _require_role(principal)
    if status is not Status.DRAFT:
        raise Conflict(f"该人才当前状态为“{STATUS_LABELS[status]}”，只有草稿可以推荐。")
    text = _require_opinion(opinion, "推荐意见")
    return Transition(status, Status.RECOMMENDED, "recommend", text, "talent.recommended")


def pending_review_step(status: Status, chain: Chain) -> str:
    if status is Status.RECOMMENDED and chain.city_path:
        return "city_opinion"
    if status in (Status.RECOMMENDED, Status.CITY_REVIEWED):
        return "province_review"
    if status is Status.DRAFT:
        raise Conflict("该人才尚未推荐，不能审核；请先由县（市、区）科协或学会推荐。")
    raise Conflict(f"该人才当前状态为“{STATUS_LABELS[status]}”，审核流程已结束，不能再审核。")


def review(
    status: Status, chain: Chain, principal: Principal, decision: str, opinion: str
) -> Transition:
    """省辖市科协意见, or 省科协资格审核 (certify or reject), whichever is pending."""
    if decision not in ("approve", "reject"):
        raise InvalidArgument(
            "审核结论应为“通过”（approve）或“不通过”（reject）。", field="decision"
        )
    _require_role(principal)  # first: a viewer learns nothing of the talent's state
    step = pending_review_step(status, chain)
    caller = principal.tenant_path
    if step == "city_opinion":
        if caller == chain.province_path:
            raise Conflict("该人才尚待省辖市科协出具意见，省科协暂不能进行资格审核。")
        if caller != chain.city_path:
            raise PermissionDenied("只有该人才所在省辖市的科协可以出具市级意见。")
        _require_role(principal)
        if decision == "approve":
            text = _require_opinion(opinion, "省辖市科协意见")
            return Transition(status, Status.CITY_REVIEWED, step, text, "talent.city_reviewed")
        text = _require_opinion(opinion, "不同意推荐的理由")
        return Transition(status, Status.REJECTED, step, text, "talent.rejected")
    if caller == chain.city_path:
        raise Conflict("省辖市科协意见已出具，该人才正等待省科协资格审核。")
    if caller != chain.province_path:
        raise PermissionDenied("只有省科协可以进行资格审核。")
    _require_role(principal)
    if decision == "approve":
        text = (opinion or "").strip() or "资格审核通过，予以认定。"
        return Transition(status, Status.CERTIFIED, step, text, "talent.certified")
    text = _require_opinion(opinion, "不通过的理由")
    return Transition(status, Status.REJECTED, step, text, "talent.rejected")


_LIFECYCLE: dict[str, tuple[tuple[Status, ...], Status, str, str]] = {
    "suspend": ((Status.CERTIFIED,), Status.SUSPENDED, "暂停的理由", "talent.suspended"),
    "reinstate": ((Status.SUSPENDED,), Status.CERTIFIED, "恢复的说明", "talent.reinstated"),
    "revoke": (
        (Status.CERTIFIED, Status.SUSPENDED),
        Status.REVOKED,
        "撤销的理由",
        "talent.revoked",
    ),
}
_LIFECYCLE_LABELS = {"suspend": "暂停", "reinstate": "恢复", "revoke": "撤销"}


def change_lifecycle(
    action: str, status: Status, chain: Chain, principal: Principal, reason: str
) -> Transition:
    """省科协暂停、恢复或撤销一名已认定的人才."""
    allowed, target, what, event_type = _LIFECYCLE[action]
    if principal.tenant_path != chain.province_path:
        raise PermissionDenied(f"只有省科协可以{_LIFECYCLE_LABELS[action]}已认定的科普人才。")
    _require_role(principal)
    if status not in allowed:
        raise Conflict(
            f"该人才当前状态为“{STATUS_LABELS[status]}”，不能{_LIFECYCLE_LABELS[action]}。"
        )
    text = _require_opinion(reason, what, "reason")
    return Transition(status, target, action, text, event_type)


ACTIONS = ("edit", "recommend", "review", "suspend", "reinstate", "revoke")  # 可执行的操作


def allowed_actions(status: Status, chain: Chain, principal: Principal) -> list[str]:
    """What ``principal`` may do next with a talent (``ACTIONS`` order): each action is put to
    the very rule that would judge it, so the list cannot disagree with the chain. ``review``
    means the pending step (省辖市科协意见 or 省科协资格审核), approve or reject."""

    def probe(action: str) -> None:
        if action == "edit":
            check_can_edit(status, chain, principal)
        elif action == "recommend":
            recommend(status, chain, principal, "-")
        elif action == "review":
            review(status, chain, principal, "approve", "-")
        else:
            change_lifecycle(action, status, chain, principal, "-")

    allowed = []
    for action in ACTIONS:
        try:
            probe(action)
        except DomainError:
            continue
        allowed.append(action)
    return allowed


def certificate_number(province_code: str, year: int, sequence: int) -> str:
    """建档编号, e.g. KP410000-2026-000123."""
    return f"KP{province_code}-{year}-{sequence:06d}"


def quota_for(kind: str, override: int | None, defaults: dict[str, int] | None = None) -> int:
    """百千万: 100 per county, 1,000 per city, 10,000 for the province (overridable)."""
    if override is not None:
        return override
    return (defaults or DEFAULT_QUOTAS).get(kind, 0)


def can_reveal(principal: Principal) -> bool:
    """Full personal data only for administrators and reviewers."""
    return bool(principal.roles & REVIEW_ROLES)


# --- financing outcomes 融资结果 posted back by a partner (seed 000 银会合作) --------------

FINANCING_STATUSES = ("申请中", "已放款", "已拒绝")
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class Financing:  # 融资结果
    product: str
    amount: Decimal
    status: str
    decided_at: date


def idempotency_key(value: str) -> str | None:
    """The ``Idempotency-Key`` of a post: 1 to 200 visible ASCII characters, or none."""
    key = (value or "").strip()
    if not key:
        return None
    if not IDEMPOTENCY_KEY_RE.match(key):
        raise InvalidArgument("Idempotency-Key 应为1到200个可见的英文字母、数字或符号。")
    return key


def financing(product: str, amount_yuan: str, status: str, decided_at: str) -> Financing:
    name = (product or "").strip()
    if not name or len(name) > 100:
        raise InvalidArgument("请填写贷款产品名称（不超过100字）。", field="product")
    try:
        amount = Decimal(str(amount_yuan).strip())
    except InvalidOperation:
        raise InvalidArgument("金额应为数字，单位元。", field="amount_yuan") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidArgument("金额必须大于0元。", field="amount_yuan")
    if amount >= Decimal("1e12") or amount != amount.quantize(Decimal("0.01")):
        raise InvalidArgument("金额最多精确到分，且小于1万亿元。", field="amount_yuan")
    if status not in FINANCING_STATUSES:
        raise InvalidArgument("状态只能是“申请中”“已放款”“已拒绝”之一。", field="status")
    try:
        day = date.fromisoformat((decided_at or "").strip()[:10])
    except ValueError:
        raise InvalidArgument("决定日期格式不正确，应为 YYYY-MM-DD。", field="decided_at") from None
    if day > datetime.now(SHANGHAI).date():
        raise InvalidArgument("决定日期不能晚于今天。", field="decided_at")
    return Financing(name, amount.quantize(Decimal("0.01")), status, day)
