"""Partners 合作机构 (banks, seed 000 "银会合作") and the talent pool: use cases, session first.

- Consent 个人信息授权 (PIPL art. 23): the talent's tenant (or an ancestor admin) records that
  the talent agreed to share minimal data with one partner, for a purpose, until a date
  (identity's policy, ``kepu_identity.consent``; the ledger is ``models.CONSENTS``).
- The partner view: certified talents with a live consent for the calling partner, minimal
  fields, every returned record audit-logged (``partner_access_log`` + an outbox event).
- Financing outcomes 融资结果 posted back by the partner for consented talents.
- Notices: ``notices.py``, written by the review in its transaction.

Partners are identified by the verified token only: ``azp`` (client id), the ``partner`` role,
the granted ``scope`` and the registering tenant's path.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from kepu.partner.v1 import consent_pb2
from kepu.talent.v1 import talent_pb2
from kepu_common.consent import require_partner, require_staff
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.tenancy import Principal, is_descendant_or_self
from kepu_identity.consent import consent_expiry, consent_purpose
from sqlalchemy import Row
from sqlalchemy.orm import Session

from . import domain, events, repository
from .models import CONSENTS
from .notices import partner_talent_msg
from .service import iso, load_talent, parse_id

READ_SCOPE = "partner:talents:read"
FINANCING_SCOPE = "partner:financing:write"
CONSENT_ROLES = frozenset({"admin"})


def outcome_msg(r: Any) -> talent_pb2.FinancingOutcome:
    return talent_pb2.FinancingOutcome(
        id=r.id,
        talent_id=r.talent_id,
        partner_client_id=r.partner_client_id,
        product=r.product,
        amount_yuan=f"{r.amount_yuan:.2f}",
        status=r.status,
        decided_at=r.decided_at.isoformat(),
        created_at=iso(r.created_at),
    )


# --- consent (the talent's tenant or an ancestor admin) -----------------------------------


def create_consent(
    s: Session,
    p: Principal,
    talent_id: str,
    partner_client_id: str,
    partner_tenant_path: str,
    purpose: str,
    expires_at: str,
) -> consent_pb2.Consent:
    require_staff(p)
    if not p.roles & CONSENT_ROLES:
        raise PermissionDenied("只有管理员可以登记个人信息授权。")
    now = datetime.now(UTC)
    text_purpose = consent_purpose(purpose)
    expires = consent_expiry(expires_at, now)
    if not partner_client_id or not partner_tenant_path:
        raise InvalidArgument("请指定合作机构。", field="partner_client_id")
    row = load_talent(s, p, talent_id, lock=True)
    if not is_descendant_or_self(row.tenant_path, partner_tenant_path):
        raise PermissionDenied("该合作机构不是本人才所属科协或其上级科协登记的，不能授权。")
    consent_id = str(uuid.uuid4())
    CONSENTS.grant(
        s,
        consent_id=consent_id,
        subject_id=str(row.id),
        tenant_path=row.tenant_path,
        partner_client_id=partner_client_id,
        partner_tenant_path=partner_tenant_path,
        purpose=text_purpose,
        expires_at=expires,
        by=p.subject,
        username=p.username,
        now=now,
        # the partner hears of the statuses the talent reaches from now on
        extra={"notified_status": row.status},
    )
    created = CONSENTS.get(s, p.tenant_path, str(row.id), consent_id, now)
    assert created is not None
    msg = CONSENTS.message(created)
    events.record_for(s, p, row, "talent.consent_granted", msg)
    return msg


def list_consents(s: Session, p: Principal, talent_id: str) -> list[consent_pb2.Consent]:
    require_staff(p)
    row = load_talent(s, p, talent_id)
    now = datetime.now(UTC)
    return [CONSENTS.message(r) for r in CONSENTS.of_subject(s, p.tenant_path, str(row.id), now)]


def tenant_consents(
    s: Session, p: Principal, limit: int, offset: int
) -> tuple[list[consent_pb2.Consent], int]:
    """A page of the consents recorded in the caller's subtree, each with its talent's name."""
    require_staff(p)
    if not 1 <= limit <= 200 or not 0 <= offset <= 1_000_000:
        raise InvalidArgument("分页参数不正确（每页1到200条）。", field="page_size")
    rows, total = CONSENTS.of_tenant(
        s, p.tenant_path, datetime.now(UTC), limit=limit, offset=offset
    )
    return [CONSENTS.message(r) for r in rows], total


def revoke_consent(
    s: Session, p: Principal, talent_id: str, consent_id: str
) -> consent_pb2.Consent:
    require_staff(p)
    if not p.roles & CONSENT_ROLES:
        raise PermissionDenied("只有管理员可以撤回个人信息授权。")
    now = datetime.now(UTC)
    row = load_talent(s, p, talent_id)
    c = CONSENTS.get(s, p.tenant_path, str(row.id), parse_id(consent_id, "授权记录"), now)
    if c is None:
        raise NotFound("授权记录不存在或不在您的管辖范围内。")
    if c.revoked_at is not None:
        raise Conflict("该授权已经撤回。")
    CONSENTS.revoke(s, c.id, p.username, now)
    revoked = CONSENTS.get(s, p.tenant_path, str(row.id), c.id, now)
    msg = CONSENTS.message(revoked)
    events.record_for(s, p, row, "talent.consent_revoked", msg)
    return msg


# --- the partner view ---------------------------------------------------------------------


def list_for_partner(
    s: Session, p: Principal, page: int, page_size: int
) -> talent_pb2.ListPartnerTalentsResponse:
    """Certified talents consented to the calling partner (the session is scoped to the
    partner's registering tenant, so RLS bounds it as well)."""
    require_partner(p, READ_SCOPE)
    page = max(page or 1, 1)
    page_size = min(max(page_size or 20, 1), 100)
    rows, total = repository.partner_talents(
        s, p.client_id, p.tenant_path, datetime.now(UTC), (page - 1) * page_size, page_size
    )
    log_access(s, p, rows, "list")
    return talent_pb2.ListPartnerTalentsResponse(
        talents=[partner_talent_msg(r) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


def log_access(s: Session, p: Principal, rows: list[Any], action: str) -> None:
    """Every record a partner received: one audit row each, one event per batch."""
    if not rows:
        return
    repository.log_partner_access(s, p.client_id, rows, action)
    events.record(
        s,
        p,
        p.tenant_id,
        p.tenant_path,
        "talent.partner_accessed",
        talent_pb2.PartnerAccessed(
            partner_client_id=p.client_id,
            talent_ids=[r.id for r in rows],
            action=action,
            client_ip=p.client_ip,
        ),
    )


# --- financing outcomes -------------------------------------------------------------------


def record_financing(
    s: Session,
    p: Principal,
    talent_id: str,
    product: str,
    amount_yuan: str,
    status: str,
    decided_at: str,
    key: str = "",
) -> talent_pb2.FinancingOutcome:
    """Record an outcome once: a post repeating an ``Idempotency-Key`` or an outcome already
    recorded (same talent, product, amount, status and day) answers the first record."""
    require_partner(p, FINANCING_SCOPE)
    f = domain.financing(product, amount_yuan, status, decided_at)
    ikey = domain.idempotency_key(key)
    tid = parse_id(talent_id)
    row = repository.partner_talent_for_update(
        s, p.client_id, p.tenant_path, tid, datetime.now(UTC)
    )
    if row is None:
        raise NotFound("人才不存在，或未授权贵机构使用其信息。")
    first = recorded_outcome(s, p.client_id, row.id, f, ikey)
    if first is not None:
        return outcome_msg(first)
    saved = repository.insert_outcome(
        s,
        {
            "id": str(uuid.uuid4()),
            "t": row.id,
            "p": row.tenant_path,
            "c": p.client_id,
            "cons": row.consent_id,
            "product": f.product,
            "amount": f.amount,
            "status": f.status,
            "day": f.decided_at,
            "key": ikey,
        },
    )
    msg = outcome_msg(saved)
    log_access(s, p, [row], "financing")
    events.record(s, p, row.tenant_id, row.tenant_path, "talent.financing_recorded", msg)
    return msg


def recorded_outcome(
    s: Session, client_id: str, talent_id: str, f: domain.Financing, key: str | None
) -> Row[Any] | None:
    """The outcome a repeated post already recorded: by its Idempotency-Key (which must come
    with the same outcome), else by the outcome itself."""
    if key is not None:
        by_key = repository.outcome_by_key(s, client_id, talent_id, f, key)
        if by_key is not None:
            if not by_key.same:
                raise InvalidArgument(
                    "该 Idempotency-Key 已用于另一笔融资结果；每笔新的结果请使用新的 Idempotency-Key。"
                )
            return by_key
    return repository.same_outcome(s, client_id, talent_id, f)


def list_financing(s: Session, p: Principal, talent_id: str) -> list[talent_pb2.FinancingOutcome]:
    require_staff(p)
    row = load_talent(s, p, talent_id)
    return [outcome_msg(r) for r in repository.financing_of(s, p.tenant_path, str(row.id))]
