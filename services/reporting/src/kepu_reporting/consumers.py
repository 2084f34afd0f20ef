"""Event handlers (idempotent through ``kepu_common.consumer``): the tenants read model, the
talents read model a station's 科普信息员 are checked against (talent.events), and the
resources published in the projects service's library, which pre-fill a brief's 资源开发."""

from __future__ import annotations

from datetime import UTC, date

from kepu.events.v1 import envelope_pb2
from kepu.projects.v1 import resources_pb2
from kepu.talent.v1 import talent_pb2
from kepu_common import directory
from kepu_common.times import SHANGHAI
from sqlalchemy.orm import Session

from . import repository as repo
from .stations import repository as stations_repo

TENANTS_CONSUMER = "reporting.tenants"
TALENTS_CONSUMER = "reporting.talents"
TALENT_TOPICS = ["talent.events"]
RESOURCES_CONSUMER = "reporting.resources"
PROJECT_TOPICS = ["projects.events"]
RESOURCE_PUBLISHED = "projects.resource.published"
TENANT_CHANGED = directory.TENANT_CHANGED

# Keeps the tenants table (names, kinds, tree) in step with the identity service.
handle_identity_event = directory.tenants_handler()


def handle_talent_event(session: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """A talent's status and place in the tree (no personal data is kept here)."""
    if not envelope.payload.Is(talent_pb2.TalentStatusChanged.DESCRIPTOR):
        return
    msg = talent_pb2.TalentStatusChanged()
    envelope.payload.Unpack(msg)
    path = msg.tenant_path or envelope.tenant_path
    if msg.talent_id and path and msg.to_status:
        stations_repo.upsert_talent(session, msg.talent_id, path, msg.to_status)


def handle_project_event(session: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """A resource published in the library counts in its owner's brief of that day's month."""
    if envelope.type != RESOURCE_PUBLISHED:
        return
    msg = resources_pb2.ResourcePublished()
    if not envelope.payload.Unpack(msg) or not msg.resource_id:
        return
    try:
        day = date.fromisoformat(msg.date)
    except ValueError:  # the instant the event was written, in Beijing time
        day = envelope.occurred_at.ToDatetime(tzinfo=UTC).astimezone(SHANGHAI).date()
    repo.record_resource(
        session, msg.resource_id, msg.tenant_id or envelope.tenant_id,
        msg.tenant_path or envelope.tenant_path, msg.kind, day,
    )  # fmt: skip
