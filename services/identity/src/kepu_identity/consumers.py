"""Event handlers of the identity service (idempotent through ``kepu_common.consumer``), run by
the identity ``worker``; each consumer group, the topics it reads and its handler is a line of
``FEEDS``.

- ``identity.audit_feed`` (``handle_audited_event``): the audit log 审计日志 a 等保 auditor
  reads holds the other services' audited accesses too. The talent service's personal-data
  views, exports with ``reveal`` and partner accesses arrive on ``talent.events``, full views of
  a project's contact phone on ``projects.events``; each becomes an audit row with the event's
  time, actor, source address and object (identity's own entries are written with the change).
- ``identity.partner_webhooks`` (``handle_partner_notice``): each ``talent.partner_notice`` /
  ``projects.partner_notice`` a partner subscribed to becomes a pending row of
  ``webhook_deliveries`` with the exact JSON body that will be signed; the dispatcher loop
  (``webhooks.WebhookDispatcher``) delivers it outside any transaction.

Keycloak's sign-in events are not a topic: ``keycloak_events`` polls its admin API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from kepu.events.v1 import envelope_pb2
from kepu.projects.v1 import projects_pb2
from kepu.talent.v1 import talent_pb2
from sqlalchemy.orm import Session

from . import repository as repo
from . import webhooks

AUDIT_CONSUMER = "identity.audit_feed"
AUDIT_TOPICS = ["talent.events", "projects.events"]
WEBHOOKS_CONSUMER = "identity.partner_webhooks"
WEBHOOK_TOPICS = ["talent.events", "projects.events"]
TALENT_NOTICE = "talent.partner_notice"
PROJECT_NOTICE = "projects.partner_notice"

Handler = Callable[[Session, envelope_pb2.EventEnvelope], None]


def handle_audited_event(s: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """Write the audit row of a personal-data view, an export with reveal or a partner access."""
    at = envelope.occurred_at.ToDatetime(tzinfo=UTC) if envelope.HasField("occurred_at") else None
    if envelope.type == "talent.personal_data_revealed":
        seen = talent_pb2.PersonalDataRevealed()
        envelope.payload.Unpack(seen)
        export = bool(seen.export_root)
        repo.add_audit_row(
            s,
            tenant_path=envelope.tenant_path,
            action="personal_data_exported" if export else "personal_data_viewed",
            username=seen.actor_username,
            actor=seen.actor_username or seen.actor,
            client_ip=seen.client_ip,
            object=f"tenant:{seen.export_root}" if export else f"talent:{seen.talent_id}",
            details={
                "fields": ",".join(seen.fields),
                "count": str(seen.count or 1),
                "actor_tenant_path": seen.actor_tenant_path,
            },
            occurred_at=at,
        )
    elif envelope.type == "projects.personal_data_revealed":
        seen_project = envelope_pb2.AuditRecorded()
        envelope.payload.Unpack(seen_project)
        details = dict(seen_project.details)
        repo.add_audit_row(
            s,
            tenant_path=envelope.tenant_path,
            action=seen_project.action,
            username=seen_project.username,
            actor=seen_project.username or seen_project.subject_id,
            client_ip=seen_project.client_ip,
            object=details.pop("object", ""),
            details=details,
            occurred_at=at,
        )
    elif envelope.type == "talent.partner_accessed":
        access = talent_pb2.PartnerAccessed()
        envelope.payload.Unpack(access)
        name = repo.client_name(s, access.partner_client_id)
        repo.add_audit_row(
            s,
            tenant_path=envelope.tenant_path,
            action="partner_access",
            username=access.partner_client_id,
            actor=access.partner_client_id,
            client_ip=access.client_ip,
            object=",".join(f"talent:{t}" for t in access.talent_ids),
            details={
                "partner": name or access.partner_client_id,
                "access": access.action,
                "count": str(len(access.talent_ids)),
            },
            occurred_at=at,
        )


def handle_partner_notice(s: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """Record a pending delivery for a partner notice the partner subscribed to."""
    notice: talent_pb2.PartnerNotice | projects_pb2.PartnerNotice
    if envelope.type == TALENT_NOTICE:
        notice = talent_pb2.PartnerNotice()
    elif envelope.type == PROJECT_NOTICE:
        notice = projects_pb2.PartnerNotice()
    else:
        return
    if not envelope.payload.Unpack(notice):
        return
    data = notice.talent if isinstance(notice, talent_pb2.PartnerNotice) else notice.project
    target = repo.webhook_target(s, notice.partner_client_id)
    if target is None or not target.webhook_url or notice.event not in target.events:
        return
    repo.insert_delivery(
        s,
        event_id=envelope.event_id,
        target=target,
        event_type=notice.event,
        body=webhooks.delivery_body(envelope, notice, data),
    )


# (consumer group, topics it reads, handler): the identity worker's idempotent consumers.
FEEDS: tuple[tuple[str, list[str], Handler], ...] = (
    (AUDIT_CONSUMER, AUDIT_TOPICS, handle_audited_event),
    (WEBHOOKS_CONSUMER, WEBHOOK_TOPICS, handle_partner_notice),
)
