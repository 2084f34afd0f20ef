"""Event handlers (idempotent through ``kepu_common.consumer``): the tenants read model."""

from __future__ import annotations

from kepu.events.v1 import envelope_pb2
from sqlalchemy.orm import Session

from . import repository as repo
from .models import Tenant

TENANTS_CONSUMER = "projects.tenants"
TENANT_CHANGED = "identity.tenant.changed"


def handle_identity_event(session: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """Keep the tenants table (names, kinds, tree) in step with the identity service."""
    if envelope.type != TENANT_CHANGED:
        return
    msg = envelope_pb2.TenantChanged()
    envelope.payload.Unpack(msg)
    repo.upsert_tenant(
        session,
        Tenant(
            msg.tenant_id,
            msg.code,
            msg.name,
            msg.kind,
            msg.parent_id or None,
            msg.path,
            msg.status or "active",
        ),
    )
