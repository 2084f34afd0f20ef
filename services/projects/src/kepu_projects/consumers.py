"""Event handlers (idempotent through ``kepu_common.consumer``): the tenants read model, and the
talents read model a resource's authors are checked against (talent.events)."""

from __future__ import annotations

from kepu.events.v1 import envelope_pb2
from kepu.talent.v1 import talent_pb2
from kepu_common import directory
from sqlalchemy.orm import Session

from .resources import repository as resources_repo

TENANTS_CONSUMER = "projects.tenants"
TALENTS_CONSUMER = "projects.talents"
TALENT_TOPICS = ["talent.events"]
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
        resources_repo.upsert_talent(session, msg.talent_id, path, msg.to_status)
