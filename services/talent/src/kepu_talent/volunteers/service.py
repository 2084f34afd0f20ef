"""Use cases of i科普 科技志愿服务. Each takes the unit of work's session first, applies the
domain rules and writes the outbox; the gRPC edge owns the transaction.

A county (or any level) registers people of its talent pool as 科技志愿者 on their consent,
keeps its 志愿服务队, whose records it (or a level above) confirms or rejects; confirmed hours
roll up per volunteer, team and tenant, and a certificate states a volunteer's year."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kepu.talent.v1 import volunteers_pb2 as pb
from kepu_common.errors import AlreadyExists, InvalidArgument, NotFound
from kepu_common.masking import mask_phone
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal
from kepu_common.times import SHANGHAI
from sqlalchemy.orm import Session

from ..crypto import KeyRing
from ..fields import FieldError, clean_phone
from ..notices import TOPIC
from . import docx, domain
from . import repository as repo
from .domain import Org, ServiceRecord, Volunteer

NO_VOLUNTEER = "未找到该科技志愿者，或不在您的管辖范围内。"
NO_ORG = "未找到该志愿服务队，或不在您的管辖范围内。"
NO_RECORD = "未找到该服务记录，或不在您的管辖范围内。"
NO_TENANT = "单位不存在，或不在您的管辖范围内。"


def today() -> date:
    return datetime.now(SHANGHAI).date()


def _phone(value: str, field: str, required: bool) -> str:
    if not value.strip() and not required:
        return ""
    try:
        return clean_phone(value)
    except FieldError as exc:
        raise InvalidArgument(exc.message + "。", field=field) from exc


def _tenant(s: Session, p: Principal, tenant_id: str) -> Any:
    tid = domain.parse_uuid(tenant_id or p.tenant_id, "单位", "tenant_id")
    row = repo.tenant(s, p.tenant_path, tid)
    if row is None:
        raise NotFound(NO_TENANT)
    return row


# ---------------------------------------------------------------- volunteers


def register(s: Session, p: Principal, keys: KeyRing, data: dict[str, Any]) -> Volunteer:
    """科技志愿者注册: a talent of the caller's subtree, on the current consent text."""
    domain.require(p, domain.WRITE_ROLES, "只有本单位管理员或填报员可以注册科技志愿者。")
    talent_id = domain.parse_uuid(str(data.get("talent_id") or ""), "科普人才", "talent_id")
    found = repo.talent(s, p.tenant_path, talent_id)
    if found is None:
        raise NotFound("未找到该人才，或不在您的管辖范围内。")
    domain.check_talent(found[3])
    digest = domain.check_consent(bool(data.get("consent")), str(data.get("consent_version") or ""))
    phone = _phone(str(data.get("phone") or ""), "phone", required=True)
    if repo.volunteer_of_talent(s, talent_id):
        raise AlreadyExists(f"{found[4]}已注册为科技志愿者。")
    vid = str(uuid.uuid4())
    repo.insert_volunteer(
        s,
        {
            "id": vid, "talent_id": talent_id, "tenant_id": found[1], "tenant_path": found[2],
            "phone_enc": keys.seal(phone, f"volunteers:{vid}:phone"),
            "phone_masked": mask_phone(phone), "key_version": keys.current,
            "consent_version": domain.CONSENT_VERSION, "consent_sha256": digest,
            "by": p.subject, "by_username": p.username,
        },
    )  # fmt: skip
    v = repo.get_volunteer(s, p.tenant_path, vid)
    assert v is not None
    record_event(
        s, topic=TOPIC, event_type="talent.volunteer.registered", tenant_id=v.tenant_id,
        tenant_path=v.tenant_path, actor=p.subject,
        payload=pb.VolunteerRegistered(
            volunteer_id=v.id, talent_id=v.talent_id, tenant_id=v.tenant_id,
            tenant_path=v.tenant_path, consent_version=v.consent_version,
        ),
    )  # fmt: skip
    return v


def load_volunteer(s: Session, p: Principal, volunteer_id: str) -> Volunteer:
    v = repo.get_volunteer(s, p.tenant_path, domain.parse_uuid(volunteer_id, "志愿者", ""))
    if v is None:
        raise NotFound(NO_VOLUNTEER)
    return v


def list_volunteers(s: Session, p: Principal, tenant_id: str) -> list[Volunteer]:
    scope = _tenant(s, p, tenant_id)[1] if tenant_id else p.tenant_path
    return repo.list_volunteers(s, scope)


def year_hours(s: Session, p: Principal, volunteers: list[Volunteer]) -> dict[str, Decimal]:
    return repo.year_hours(s, p.tenant_path, today().year, [v.id for v in volunteers])


# ---------------------------------------------------------------- teams


def create_org(s: Session, p: Principal, keys: KeyRing, data: dict[str, Any]) -> Org:
    domain.require(p, frozenset({"admin"}), "只有本单位管理员可以建立志愿服务队。")
    t = _tenant(s, p, str(data.get("tenant_id") or ""))
    clean = domain.clean_org(data)
    phone = _phone(clean["contact_phone"], "contact_phone", required=False)
    if repo.org_named(s, t[0], clean["name"]):
        raise AlreadyExists(f"{t[2]}已有名为“{clean['name']}”的志愿服务队。")
    oid = str(uuid.uuid4())
    repo.insert_org(
        s,
        {
            "id": oid, "tenant_id": t[0], "tenant_path": t[1], "name": clean["name"],
            "contact_name": clean["contact_name"],
            "phone_enc": keys.seal(phone, f"volunteer_orgs:{oid}:contact_phone"),
            "phone_masked": mask_phone(phone), "key_version": keys.current, "by": p.subject,
        },
    )  # fmt: skip
    return load_org(s, p, oid)


def load_org(s: Session, p: Principal, org_id: str) -> Org:
    o = repo.get_org(s, p.tenant_path, domain.parse_uuid(org_id, "服务队", "org_id"))
    if o is None:
        raise NotFound(NO_ORG)
    return o


def list_orgs(s: Session, p: Principal) -> list[Org]:
    return repo.list_orgs(s, p.tenant_path)


# ---------------------------------------------------------------- service records


def add_record(s: Session, p: Principal, data: dict[str, Any]) -> ServiceRecord:
    """A team enters a volunteer's service; it counts once the tenant confirms it."""
    domain.require(p, domain.WRITE_ROLES, "只有本单位管理员或填报员可以登记志愿服务记录。")
    org = load_org(s, p, str(data.get("org_id") or ""))
    v = repo.get_volunteer(
        s,
        p.tenant_path,
        domain.parse_uuid(str(data.get("volunteer_id") or ""), "志愿者", "volunteer_id"),
    )
    if v is None:
        raise InvalidArgument(NO_VOLUNTEER, field="volunteer_id")
    clean = domain.clean_record(data, today())
    domain.check_in_team_area(v.tenant_path, org.tenant_path)
    repo.lock_volunteer(s, v.id)
    domain.check_day_total(repo.hours_on(s, v.id, clean["served_on"]), clean["hours"])
    rid = str(uuid.uuid4())
    repo.insert_record(
        s,
        {"id": rid, "org_id": org.id, "volunteer_id": v.id, "tenant_path": org.tenant_path,
         "by": p.subject, **clean},
    )  # fmt: skip
    repo.add_day_hours(s, v, clean["served_on"], clean["hours"])
    return load_record(s, p, rid)


def load_record(s: Session, p: Principal, record_id: str, *, lock: bool = False) -> ServiceRecord:
    r = repo.get_record(s, p.tenant_path, domain.parse_uuid(record_id, "服务记录", ""), lock=lock)
    if r is None:
        raise NotFound(NO_RECORD)
    return r


def list_records(
    s: Session, p: Principal, org_id: str, volunteer_id: str, status: str, year: int
) -> list[ServiceRecord]:
    if status and status not in domain.STATUS_CN:
        raise InvalidArgument("状态只能是待确认、已确认或已退回。", field="status")
    if year:
        domain.check_year(year)
    oid = domain.parse_uuid(org_id, "服务队", "org_id") if org_id else ""
    vid = domain.parse_uuid(volunteer_id, "志愿者", "volunteer_id") if volunteer_id else ""
    return repo.list_records(s, p.tenant_path, oid, vid, status, year)


def decide(s: Session, p: Principal, record_id: str, action: str, reason: str) -> ServiceRecord:
    """The tenant of the team (or a level above) confirms a record, or returns it with a
    reason; a confirmed record and its event commit together."""
    domain.require(p, domain.DECIDE_ROLES, "只有本单位管理员或审核员可以确认志愿服务记录。")
    r = load_record(s, p, record_id, lock=True)
    r.status = domain.check_decision(r, action, reason, p)
    r.reason = reason.strip()[:500] if r.status == domain.REJECTED else ""
    repo.decide(s, r, p.subject)
    if r.status == domain.REJECTED:  # its hours no longer count against the day
        repo.lock_volunteer(s, r.volunteer_id)
        repo.remove_day_hours(s, r.volunteer_id, r.served_on, r.hours)
    else:
        tenant = repo.tenant_at(s, r.tenant_path)
        record_event(
            s, topic=TOPIC, event_type="talent.volunteer_record.confirmed",
            tenant_id=tenant[0] if tenant else "", tenant_path=r.tenant_path, actor=p.subject,
            payload=pb.ServiceRecordConfirmed(
                record_id=r.id, volunteer_id=r.volunteer_id, org_id=r.org_id,
                tenant_id=tenant[0] if tenant else "", served_on=r.served_on.isoformat(),
                kind=r.kind, hours=float(r.hours), beneficiaries=r.beneficiaries,
            ),
        )  # fmt: skip
    return load_record(s, p, r.id)


# ---------------------------------------------------------------- hours and certificate


@dataclass(frozen=True)
class HoursRow:
    id: str
    name: str
    hours: Decimal = Decimal(0)
    records: int = 0
    beneficiaries: int = 0


@dataclass(frozen=True)
class Hours:
    year: int
    total: HoursRow
    children: list[HoursRow]
    orgs: list[HoursRow]
    volunteers: list[HoursRow]


def hours(s: Session, p: Principal, tenant_id: str, year: int) -> Hours:
    """Confirmed hours of the year: the tenant's subtree, each direct child's subtree, each
    team and each volunteer."""
    domain.check_year(year)
    root = _tenant(s, p, tenant_id)
    by_path = repo.hours_by_path(s, root[1], year)
    kids = []
    for c in repo.children(s, root[1]):
        mine = [x for x in by_path if x[0] == c[1] or x[0].startswith(c[1] + ".")]
        kids.append(_sum(c[0], c[2], mine))
    return Hours(
        year,
        _sum(root[0], root[2], by_path),
        kids,
        [HoursRow(*o) for o in repo.hours_by_org(s, root[1], year)],
        [HoursRow(*v) for v in repo.hours_by_volunteer(s, root[1], year)],
    )


def _sum(tid: str, name: str, rows: list[tuple[str, Decimal, int, int]]) -> HoursRow:
    return HoursRow(
        tid,
        name,
        sum((r[1] for r in rows), Decimal(0)),
        sum(r[2] for r in rows),
        sum(r[3] for r in rows),
    )


def certificate(
    s: Session, p: Principal, volunteer_id: str, year: int
) -> tuple[str, Decimal, bytes]:
    """志愿服务证明 (.docx): the volunteer's confirmed hours of the year by service kind, issued
    by the caller's tenant; (number, hours, bytes)."""
    domain.check_year(year)
    v = load_volunteer(s, p, volunteer_id)
    by_kind = repo.hours_by_kind(s, p.tenant_path, year, v.id)
    rows = repo.hours_by_volunteer(s, p.tenant_path, year, v.id)
    total, count, served = (rows[0][2], rows[0][3], rows[0][4]) if rows else (Decimal(0), 0, 0)
    issuer = repo.tenant_at(s, p.tenant_path)
    number = domain.certificate_no(v, year)
    content = docx.render_certificate(
        docx.Certificate(
            number=number, name=v.name, volunteer_no=domain.volunteer_no(v.seq),
            tenant=repo.tenant_names(s, [v.tenant_id]).get(v.tenant_id, ""), year=year,
            hours=total, records=count, beneficiaries=served,
            by_kind=[(domain.KINDS[k], by_kind[k]) for k in domain.KINDS if k in by_kind],
            issuer=issuer[2] if issuer else "", issued_on=today(),
        )
    )  # fmt: skip
    return number, total, content
