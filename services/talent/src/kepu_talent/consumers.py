"""Event handlers of the talent service (idempotent through ``kepu_common.consumer``)."""

from __future__ import annotations

from kepu.events.v1 import envelope_pb2
from kepu_common.tenancy import validate_path
from sqlalchemy.orm import Session

from . import repository

CONSUMER = "talent.tenants"
TOPICS = ["identity.events"]


def on_identity_event(s: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """Keep the tenants read model (names, kinds, paths) in step with identity."""
    if envelope.type != "identity.tenant.changed":
        return
    tenant = envelope_pb2.TenantChanged()
    if not envelope.payload.Unpack(tenant):
        return
    repository.upsert_tenant(
        s,
        {
            "id": tenant.tenant_id,
            "code": tenant.code,
            "name": tenant.name,
            "kind": tenant.kind,
            "parent_id": tenant.parent_id or None,
            "path": validate_path(tenant.path),
            "status": tenant.status or "active",
        },
    )
