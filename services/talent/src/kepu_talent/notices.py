"""Partner notices (seed 000 银会合作): when a talent with a live consent reaches a status its
partner must hear of (certified, revoked), a ``talent.partner_notice`` goes into the outbox in
the same transaction as the review. Kept apart from ``partner.py`` so the review use cases in
``service.py`` can write notices without importing the partner API (no import cycle).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kepu.talent.v1 import talent_pb2
from kepu_common import outbox
from kepu_common.tenancy import Principal
from sqlalchemy import text
from sqlalchemy.orm import Session

TOPIC = "talent.events"  # talent's event stream, relayed from the outbox
NOTIFY_STATUSES = ("certified", "revoked")

PARTNER_TALENT_COLS = (
    "t.id::text AS id, t.tenant_id::text AS tenant_id, ltree2text(t.tenant_path) AS tenant_path,"
    " t.name, t.gender, t.specialty, t.categories, t.certificate_no, t.phone_masked, t.status,"
    " coalesce(tn.name, '') AS region_name,"
    " coalesce(tn.code, ltree2text(subpath(t.tenant_path, nlevel(t.tenant_path) - 1))) AS region_code"
)


def partner_talent_msg(r: Any) -> talent_pb2.PartnerTalent:
    return talent_pb2.PartnerTalent(
        id=r.id,
        name=r.name,
        gender=r.gender,
        region_name=r.region_name,
        region_code=r.region_code,
        specialty=r.specialty,
        categories=list(r.categories),
        certificate_no=r.certificate_no or "",
        phone_masked=r.phone_masked,
        status=r.status,
    )


def write_partner_notices(s: Session, p: Principal) -> int:
    """Write a ``talent.partner_notice`` for every live consent whose talent reached a
    status the partner has not been told about (certified, revoked), in the caller's
    subtree. Reconciling state (not the single call) makes a notice missed by a crash
    between the review's commit and this one go out with the next review."""
    sent = 0
    rows = list(
        s.execute(
            text(
                f"SELECT {PARTNER_TALENT_COLS}, c.id::text AS consent_id,"
                " c.partner_client_id FROM talent_consents c"
                " JOIN talents t ON t.id = c.talent_id"
                " LEFT JOIN tenants tn ON tn.id = t.tenant_id"
                " WHERE c.revoked_at IS NULL AND c.expires_at > now()"
                " AND t.status = ANY(:st) AND c.notified_status <> t.status"
                " AND c.tenant_path <@ text2ltree(:scope)"
                " FOR UPDATE OF c SKIP LOCKED"
            ),
            {"st": list(NOTIFY_STATUSES), "scope": p.tenant_path},
        )
    )
    now = datetime.now(UTC).isoformat()
    for r in rows:
        outbox.record_event(
            s,
            topic=TOPIC,
            event_type="talent.partner_notice",
            tenant_id=r.tenant_id,
            tenant_path=r.tenant_path,
            actor=p.subject,
            payload=talent_pb2.PartnerNotice(
                partner_client_id=r.partner_client_id,
                event=f"talent.{r.status}",
                consent_id=r.consent_id,
                talent=partner_talent_msg(r),
                occurred_at=now,
            ),
        )
        s.execute(
            text("UPDATE talent_consents SET notified_status = :st WHERE id = CAST(:id AS uuid)"),
            {"st": r.status, "id": r.consent_id},
        )
        sent += 1
    return sent
