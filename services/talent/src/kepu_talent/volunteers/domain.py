"""Rules of i科普 科技志愿服务 (seed 001 items 10-12), plain Python without I/O: who may be a
科技志愿者 and on what consent, the service kinds, what a service record may say (no more than
24 hours a day, never in the future), the confirmation by the tenant, and the certificate."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from kepu_common.errors import Conflict, FieldViolation, InvalidArgument, PermissionDenied
from kepu_common.tenancy import Principal

# 公益性科普服务 of seed 001 item 11
KINDS = {
    "training": "科技培训",
    "lecture": "科普报告",
    "agriculture": "农技服务",
    "clinic": "义诊咨询",
    "youth": "青少年科技教育",
}
_KIND_BY_LABEL = {v: k for k, v in KINDS.items()}

SUBMITTED, CONFIRMED, REJECTED = "submitted", "confirmed", "rejected"
STATUS_CN = {SUBMITTED: "待确认", CONFIRMED: "已确认", REJECTED: "已退回"}
DECISIONS = {"confirm": CONFIRMED, "reject": REJECTED}

# The talents of the pool who may register: not those refused, paused or revoked.
INELIGIBLE_TALENTS = {"rejected": "未通过审核", "suspended": "已暂停", "revoked": "已撤销"}

# 科技志愿者注册承诺: the text a person agrees to. A new wording gets a new version; the
# version and the text's hash are stored with each registration.
CONSENT_VERSION = "2026-1"
CONSENT_TEXT = (
    "本人自愿注册成为“i科普”科技志愿者，遵守科技志愿服务的有关规定，"
    "同意所在科协及志愿服务队记录本人的姓名、联系电话、工作单位和志愿服务记录，"
    "用于志愿服务的组织、时长确认与证明；联系电话加密保存，列表中只显示部分号码。"
)
CONSENTS = {CONSENT_VERSION: CONSENT_TEXT}

WRITE_ROLES = frozenset({"admin", "reporter"})  # 管理员、填报员 register and enter records
DECIDE_ROLES = frozenset({"admin", "reviewer"})  # 管理员、审核员 confirm records
MAX_DAY_HOURS = Decimal(24)


@dataclass
class Volunteer:  # 科技志愿者
    id: str
    seq: int
    talent_id: str
    tenant_id: str
    tenant_path: str
    name: str
    specialty: str
    phone_masked: str
    consent_version: str
    consented_at: Any
    consented_by_username: str
    status: str


@dataclass
class Org:  # 志愿服务队
    id: str
    tenant_id: str
    tenant_path: str
    name: str
    contact_name: str
    contact_phone_masked: str
    created_at: Any


@dataclass
class ServiceRecord:  # 志愿服务记录
    id: str
    org_id: str
    org_name: str
    volunteer_id: str
    volunteer_name: str
    tenant_path: str
    served_on: date
    place: str
    kind: str
    hours: Decimal
    beneficiaries: int
    description: str
    status: str
    reason: str
    entered_by: str
    entered_at: Any
    decided_at: Any


def require(p: Principal, roles: frozenset[str], what: str) -> None:
    if not p.roles & roles:
        raise PermissionDenied(what)


def check_consent(agreed: bool, version: str) -> str:
    """The hash of the consent text agreed to; registration needs the current text."""
    if not agreed:
        raise InvalidArgument("注册科技志愿者须本人同意《科技志愿者注册承诺》。", field="consent")
    if version not in CONSENTS:
        raise InvalidArgument("承诺书版本无效，请刷新页面后重新确认。", field="consent_version")
    if version != CONSENT_VERSION:
        raise InvalidArgument("承诺书已更新，请阅读并同意最新版本。", field="consent_version")
    return hashlib.sha256(CONSENTS[version].encode()).hexdigest()


def check_talent(status: str) -> None:
    if status in INELIGIBLE_TALENTS:
        raise InvalidArgument(
            f"该人才{INELIGIBLE_TALENTS[status]}，不能注册为科技志愿者。", field="talent_id"
        )


def clean_org(data: Mapping[str, Any]) -> dict[str, str]:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise InvalidArgument("服务队名称不能为空，且不超过100字。", field="name")
    return {
        "name": name,
        "contact_name": str(data.get("contact_name") or "").strip()[:50],
        "contact_phone": str(data.get("contact_phone") or "").strip(),
    }


def parse_kind(value: str) -> str:
    v = value.strip()
    if v in KINDS:
        return v
    if v in _KIND_BY_LABEL:
        return _KIND_BY_LABEL[v]
    raise InvalidArgument("服务类型只能是：" + "、".join(KINDS.values()) + "。", field="kind")


def clean_record(data: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Every violation at once (the form shows each on its field); nothing is written."""
    errors: list[FieldViolation] = []
    out: dict[str, Any] = {}
    try:
        out["served_on"] = date.fromisoformat(str(data.get("served_on") or ""))
        if out["served_on"] > today:
            errors.append(FieldViolation("served_on", "服务日期不能晚于今天。"))
    except ValueError:
        errors.append(FieldViolation("served_on", "服务日期格式不正确（应为 YYYY-MM-DD）。"))
    try:
        out["kind"] = parse_kind(str(data.get("kind") or ""))
    except InvalidArgument as exc:
        errors.append(FieldViolation("kind", exc.detail))
    try:
        hours = Decimal(str(data.get("hours") or 0))
        hours = hours.quantize(Decimal("0.1"), ROUND_HALF_UP) if hours.is_finite() else Decimal(-1)
    except InvalidOperation:  # not a number, or too large to be hours
        hours = Decimal(-1)
    if not Decimal(0) < hours <= MAX_DAY_HOURS:
        errors.append(FieldViolation("hours", "服务时长应大于0小时，且一天不超过24小时。"))
    out["hours"] = hours
    place = str(data.get("place") or "").strip()
    if not place or len(place) > 200:
        errors.append(FieldViolation("place", "服务地点不能为空，且不超过200字。"))
    out["place"] = place
    try:
        n = int(data.get("beneficiaries") or 0)
    except (TypeError, ValueError):
        n = -1
    if not 0 <= n <= 1_000_000:
        errors.append(FieldViolation("beneficiaries", "服务对象人数应在0到1000000之间。"))
    out["beneficiaries"] = n
    out["description"] = str(data.get("description") or "").strip()[:2000]
    if errors:
        raise InvalidArgument(
            "志愿服务记录填写有误：" + "；".join(e.message for e in errors), errors=errors
        )
    return out


def check_day_total(already: Decimal, hours: Decimal) -> None:
    """A volunteer serves at most 24 hours a day, over all teams (rejected records aside)."""
    if already + hours > MAX_DAY_HOURS:
        raise InvalidArgument(
            f"该志愿者当天已登记{already}小时，再登记{hours}小时将超过一天24小时。",
            field="hours",
        )


def check_in_team_area(volunteer_path: str, org_path: str) -> None:
    """A team records the volunteers of its own tenant's subtree, so whoever may read the
    record may read its volunteer too."""
    if not (volunteer_path == org_path or volunteer_path.startswith(org_path + ".")):
        raise InvalidArgument(
            "该志愿者不属于服务队所在单位及其下级单位，不能由该服务队登记。", field="volunteer_id"
        )


def check_decision(r: ServiceRecord, action: str, reason: str, p: Principal) -> str:
    """The new status of a record the tenant confirms or rejects (with a reason)."""
    if action not in DECISIONS:
        raise InvalidArgument("操作只能是确认或退回。", field="action")
    if r.status != SUBMITTED:
        raise Conflict(f"该服务记录当前状态为“{STATUS_CN[r.status]}”，不能再确认或退回。")
    if r.entered_by == p.subject:
        raise PermissionDenied("不能确认或退回本人填报的服务记录，请由本单位其他审核人员处理。")
    if action == "reject" and not reason.strip():
        raise InvalidArgument("退回服务记录须填写退回原因。", field="reason")
    return DECISIONS[action]


def allowed_actions(r: ServiceRecord, p: Principal) -> Sequence[str]:
    if r.status != SUBMITTED or not p.roles & DECIDE_ROLES or r.entered_by == p.subject:
        return []
    return ["confirm", "reject"]


def volunteer_no(seq: int) -> str:
    """志愿者编号: a running number of the platform."""
    return f"ZY{seq:07d}"


def certificate_no(v: Volunteer, year: int) -> str:
    """志愿服务证明编号: the volunteer's number and the year, so a certificate can be checked."""
    return f"{volunteer_no(v.seq)}-{year}"


def check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidArgument("年度应在2000至2100之间。", field="year")


def parse_uuid(value: str, what: str, at: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument(f"{what}编号格式不正确。", field=at) from exc
