"""Partner notices (seed 000 银会合作): when a talent with a live consent reaches a status its
partner must hear of (certified, revoked), a ``talent.partner_notice`` goes into the outbox in
the same transaction as the review; the identity worker turns it into a signed webhook. Kept
apart from ``partner.py`` so the review use cases in ``service.py`` write notices without
importing the partner use cases (which use the service's helpers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kepu.talent.v1 import talent_pb2
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import events, repository
from .events import TOPIC as TOPIC  # talent's stream (volunteers/ writes to it too)

NOTIFY_STATUSES = ("certified", "revoked")


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


def write_partner_notices(s: Session, p: Principal, talent_id: str) -> int:
    """A ``talent.partner_notice`` for every live consent of the talent whose partner has not
    been told of its status (certified, revoked), in the caller's transaction: the notice
    commits with the review or not at all, so none is missed and none is sent twice."""
    now = datetime.now(UTC)
    rows = repository.unnotified_consents(s, p.tenant_path, talent_id, NOTIFY_STATUSES, now)
    for r in rows:
        events.record(
            s,
            p,
            r.tenant_id,
            r.tenant_path,
            "talent.partner_notice",
            talent_pb2.PartnerNotice(
                partner_client_id=r.partner_client_id,
                event=f"talent.{r.status}",
                consent_id=r.consent_id,
                talent=partner_talent_msg(r),
                occurred_at=now.isoformat(),
            ),
        )
        repository.mark_notified(s, r.consent_id, r.status)
    return len(rows)
