"""Partners 合作机构 (banks, seed 000 "银会合作") and the talent pool.

- Consent 个人信息授权 (PIPL art. 23): the talent's tenant (or an ancestor admin) records that
  the talent agreed to share minimal data with one partner, for a purpose, until a date.
- The partner view: certified talents with a live consent for the calling partner, minimal
  fields, every returned record audit-logged (``partner_access_log`` + an outbox event).
- Financing outcomes 融资结果 posted back by the partner for consented talents.
- Notices: a consented talent certified or revoked gives a ``talent.partner_notice`` per
  partner; the identity worker turns it into a signed webhook.

Partners are identified by the verified token only: ``azp`` (client id), the ``partner`` role,
the granted ``scope`` and the registering tenant's path.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kepu.talent.v1 import talent_pb2
from kepu_common import outbox
from kepu_common.consent import consent_expiry, require_partner, require_staff
from kepu_common.db import Database, Scope
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.tenancy import Principal, is_descendant_or_self
from kepu_common.times import SHANGHAI
from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from .notices import PARTNER_TALENT_COLS, partner_talent_msg, write_partner_notices
from .service import TOPIC, TalentService, iso, parse_id

log = logging.getLogger(__name__)

FINANCING_STATUSES = ("申请中", "已放款", "已拒绝")
READ_SCOPE = "partner:talents:read"
FINANCING_SCOPE = "partner:financing:write"
CONSENT_ROLES = frozenset({"admin"})
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


# --- rules (no I/O) -------------------------------------------------------------------


def consent_purpose(value: str) -> str:
    purpose = (value or "").strip()
    if not purpose:
        raise InvalidArgument("请填写授权用途，例如“银会合作融资服务”。", field="purpose")
    if len(purpose) > 500:
        raise InvalidArgument("授权用途过长（不超过500字）。", field="purpose")
    return purpose


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


# --- SQL ------------------------------------------------------------------------------

OUTCOME_COLS = (
    "id::text AS id, talent_id::text AS talent_id, partner_client_id, product, amount_yuan,"
    " status, decided_at, created_at"
)
CONSENT_COLS = (
    "c.id::text AS id, c.talent_id::text AS talent_id, ltree2text(c.tenant_path) AS tenant_path,"
    " c.partner_client_id, c.purpose, c.expires_at, c.created_at, c.created_by_username,"
    " c.revoked_at, c.revoked_by, (c.revoked_at IS NULL AND c.expires_at > now()) AS live"
)
LIVE_FOR_PARTNER = (
    "FROM talent_consents c JOIN talents t ON t.id = c.talent_id"
    " LEFT JOIN tenants tn ON tn.id = t.tenant_id"
    " WHERE c.partner_client_id = :cid AND c.revoked_at IS NULL AND c.expires_at > now()"
    " AND c.partner_tenant_path = text2ltree(:pp) AND t.tenant_path <@ text2ltree(:pp)"
)


def consents_of(s: Session, scope: str, talent_id: str) -> list[Row[Any]]:
    return list(
        s.execute(
            text(
                f"SELECT {CONSENT_COLS} FROM talent_consents c WHERE c.talent_id = CAST(:t AS uuid)"
                " AND c.tenant_path <@ text2ltree(:scope) ORDER BY c.created_at DESC"
            ),
            {"t": talent_id, "scope": scope},
        )
    )


def consent_by_id(s: Session, scope: str, talent_id: str, consent_id: str) -> Row[Any] | None:
    return s.execute(
        text(
            f"SELECT {CONSENT_COLS} FROM talent_consents c WHERE c.id = CAST(:c AS uuid)"
            " AND c.talent_id = CAST(:t AS uuid) AND c.tenant_path <@ text2ltree(:scope)"
            " FOR UPDATE"
        ),
        {"c": consent_id, "t": talent_id, "scope": scope},
    ).first()


def consent_msg(r: Any) -> talent_pb2.Consent:
    return talent_pb2.Consent(
        id=r.id,
        talent_id=r.talent_id,
        partner_client_id=r.partner_client_id,
        purpose=r.purpose,
        expires_at=iso(r.expires_at),
        created_at=iso(r.created_at),
        created_by=r.created_by_username,
        revoked_at=iso(r.revoked_at),
        revoked_by=r.revoked_by,
        live=bool(r.live),
    )


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


# --- use cases ------------------------------------------------------------------------


class TalentPartners:
    def __init__(self, talents: TalentService) -> None:
        self.talents = talents
        self.db: Database = talents.db

    # consent (the talent's tenant or an ancestor admin)

    def create_consent(
        self,
        p: Principal,
        talent_id: str,
        partner_client_id: str,
        partner_tenant_path: str,
        purpose: str,
        expires_at: str,
    ) -> talent_pb2.Consent:
        require_staff(p)
        if not p.roles & CONSENT_ROLES:
            raise PermissionDenied("只有管理员可以登记个人信息授权。")
        text_purpose = consent_purpose(purpose)
        expires = consent_expiry(expires_at, datetime.now(UTC))
        if not partner_client_id or not partner_tenant_path:
            raise InvalidArgument("请指定合作机构。", field="partner_client_id")
        with self.talents.uow(p) as s:
            row = self.talents.load(s, p, talent_id, lock=True)
            if not is_descendant_or_self(row.tenant_path, partner_tenant_path):
                raise PermissionDenied("该合作机构不是本人才所属科协或其上级科协登记的，不能授权。")
            # A new consent for the same partner replaces the open one (new purpose or term).
            s.execute(
                text(
                    "UPDATE talent_consents SET revoked_at = now(), revoked_by = :by"
                    " WHERE talent_id = CAST(:t AS uuid) AND partner_client_id = :c"
                    " AND revoked_at IS NULL"
                ),
                {"t": str(row.id), "c": partner_client_id, "by": f"{p.username}（新授权替代）"},
            )
            consent_id = str(uuid.uuid4())
            s.execute(
                text(
                    "INSERT INTO talent_consents (id, talent_id, tenant_path, partner_client_id,"
                    " partner_tenant_path, purpose, expires_at, created_by, created_by_username,"
                    " notified_status) VALUES (CAST(:id AS uuid), CAST(:t AS uuid), text2ltree(:p),"
                    " :c, text2ltree(:pp), :purpose, :exp, :by, :username, :status)"
                ),
                {
                    "id": consent_id,
                    "t": str(row.id),
                    "p": row.tenant_path,
                    "c": partner_client_id,
                    "pp": partner_tenant_path,
                    "purpose": text_purpose,
                    "exp": expires,
                    "by": p.subject,
                    "username": p.username,
                    "status": row.status,
                },
            )
            created = consent_by_id(s, p.tenant_path, str(row.id), consent_id)
            assert created is not None
            msg = consent_msg(created)
            self.talents.record(s, p, row, "talent.consent_granted", msg)
            return msg

    def list_consents(self, p: Principal, talent_id: str) -> list[talent_pb2.Consent]:
        require_staff(p)
        with self.talents.uow(p) as s:
            row = self.talents.load(s, p, talent_id)
            return [consent_msg(r) for r in consents_of(s, p.tenant_path, str(row.id))]

    def revoke_consent(self, p: Principal, talent_id: str, consent_id: str) -> talent_pb2.Consent:
        require_staff(p)
        if not p.roles & CONSENT_ROLES:
            raise PermissionDenied("只有管理员可以撤回个人信息授权。")
        with self.talents.uow(p) as s:
            row = self.talents.load(s, p, talent_id)
            c = consent_by_id(s, p.tenant_path, str(row.id), parse_id(consent_id, "授权记录"))
            if c is None:
                raise NotFound("授权记录不存在或不在您的管辖范围内。")
            if c.revoked_at is not None:
                raise Conflict("该授权已经撤回。")
            s.execute(
                text(
                    "UPDATE talent_consents SET revoked_at = now(), revoked_by = :by"
                    " WHERE id = CAST(:id AS uuid)"
                ),
                {"id": c.id, "by": p.username},
            )
            c = consent_by_id(s, p.tenant_path, str(row.id), c.id)
            msg = consent_msg(c)
            self.talents.record(s, p, row, "talent.consent_revoked", msg)
            return msg

    # the partner view

    def list_for_partner(
        self, p: Principal, page: int, page_size: int
    ) -> talent_pb2.ListPartnerTalentsResponse:
        require_partner(p, READ_SCOPE)
        page = max(page or 1, 1)
        page_size = min(max(page_size or 20, 1), 100)
        params = {"cid": p.client_id, "pp": p.tenant_path}
        with self.db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            where = f"{LIVE_FOR_PARTNER} AND t.status = 'certified'"
            total = s.execute(text(f"SELECT count(*) {where}"), params).scalar_one()
            rows = list(
                s.execute(
                    text(
                        f"SELECT {PARTNER_TALENT_COLS} {where}"
                        " ORDER BY t.certified_at DESC NULLS LAST, t.id LIMIT :n OFFSET :o"
                    ),
                    {**params, "n": page_size, "o": (page - 1) * page_size},
                )
            )
            self.log_access(s, p, rows, "list")
        return talent_pb2.ListPartnerTalentsResponse(
            talents=[partner_talent_msg(r) for r in rows],
            total=int(total),
            page=page,
            page_size=page_size,
        )

    def log_access(self, s: Session, p: Principal, rows: list[Any], action: str) -> None:
        """Every record a partner received: one audit row each, one event per batch."""
        if not rows:
            return
        s.execute(
            text(
                "INSERT INTO partner_access_log (talent_id, tenant_path, partner_client_id, action)"
                " VALUES (CAST(:t AS uuid), text2ltree(:p), :c, :a)"
            ),
            [{"t": r.id, "p": r.tenant_path, "c": p.client_id, "a": action} for r in rows],
        )
        outbox.record_event(
            s,
            topic=TOPIC,
            event_type="talent.partner_accessed",
            tenant_id=p.tenant_id,
            tenant_path=p.tenant_path,
            actor=p.subject,
            payload=talent_pb2.PartnerAccessed(
                partner_client_id=p.client_id,
                talent_ids=[r.id for r in rows],
                action=action,
                client_ip=p.client_ip,
            ),
        )

    # financing outcomes

    def record_financing(
        self,
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
        f = financing(product, amount_yuan, status, decided_at)
        ikey = idempotency_key(key)
        tid = parse_id(talent_id)
        params = {"cid": p.client_id, "pp": p.tenant_path, "t": tid}
        with self.db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            # The consent row's lock serialises this partner's posts for this talent.
            row = s.execute(
                text(
                    f"SELECT {PARTNER_TALENT_COLS}, c.id::text AS consent_id {LIVE_FOR_PARTNER}"
                    " AND t.id = CAST(:t AS uuid) FOR UPDATE OF c"
                ),
                params,
            ).first()
            if row is None:
                raise NotFound("人才不存在，或未授权贵机构使用其信息。")
            first = recorded_outcome(s, p.client_id, row.id, f, ikey)
            if first is not None:
                return outcome_msg(first)
            saved = s.execute(
                text(
                    "INSERT INTO financing_outcomes (id, talent_id, tenant_path, partner_client_id,"
                    " consent_id, product, amount_yuan, status, decided_at, idempotency_key)"
                    " VALUES (CAST(:id AS uuid), CAST(:t AS uuid), text2ltree(:p), :c,"
                    " CAST(:cons AS uuid), :product, :amount, :status, :day, :key)"
                    f" RETURNING {OUTCOME_COLS}"
                ),
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
            ).one()
            msg = outcome_msg(saved)
            self.log_access(s, p, [row], "financing")
            outbox.record_event(
                s,
                topic=TOPIC,
                event_type="talent.financing_recorded",
                tenant_id=row.tenant_id,
                tenant_path=row.tenant_path,
                actor=p.subject,
                payload=msg,
            )
            return msg

    def list_financing(self, p: Principal, talent_id: str) -> list[talent_pb2.FinancingOutcome]:
        require_staff(p)
        with self.talents.uow(p) as s:
            row = self.talents.load(s, p, talent_id)
            rows = s.execute(
                text(
                    f"SELECT {OUTCOME_COLS} FROM financing_outcomes"
                    " WHERE talent_id = CAST(:t AS uuid) AND tenant_path <@ text2ltree(:scope)"
                    " ORDER BY created_at DESC"
                ),
                {"t": str(row.id), "scope": p.tenant_path},
            )
            return [outcome_msg(r) for r in rows]

    # notices (certified / revoked) for partners with a live consent

    def notify_partners(self, p: Principal) -> int:
        """Reconcile partner notices in the caller's subtree in a transaction of its own."""
        with self.db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            return write_partner_notices(s, p)

    def notify_quietly(self, p: Principal) -> None:
        """After a review: the review already committed, so a failure here must not fail it."""
        try:
            self.notify_partners(p)
        except Exception:  # recovered by the next reconciliation in this subtree
            log.exception("partner notices failed; they go out with the next review")


def recorded_outcome(
    s: Session, client_id: str, talent_id: str, f: Financing, key: str | None
) -> Row[Any] | None:
    """The outcome a repeated post already recorded: by its Idempotency-Key (which must come
    with the same outcome), else by the outcome itself."""
    same = (
        "partner_client_id = :c AND talent_id = CAST(:t AS uuid) AND product = :product"
        " AND amount_yuan = :amount AND status = :status AND decided_at = :day"
    )
    params = {
        "c": client_id,
        "t": talent_id,
        "product": f.product,
        "amount": f.amount,
        "status": f.status,
        "day": f.decided_at,
        "key": key,
    }
    if key is not None:
        by_key = s.execute(
            text(
                f"SELECT {OUTCOME_COLS}, ({same}) AS same FROM financing_outcomes"
                " WHERE partner_client_id = :c AND idempotency_key = :key"
            ),
            params,
        ).first()
        if by_key is not None:
            if not by_key.same:
                raise InvalidArgument(
                    "该 Idempotency-Key 已用于另一笔融资结果；每笔新的结果请使用新的 Idempotency-Key。"
                )
            return by_key
    return s.execute(
        text(f"SELECT {OUTCOME_COLS} FROM financing_outcomes WHERE {same} ORDER BY created_at, id"),
        params,
    ).first()
