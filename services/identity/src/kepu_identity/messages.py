"""Rows <-> proto of the identity service (``kepu.identity.v1``)."""

from __future__ import annotations

import json

from kepu.identity.v1 import identity_pb2 as pb
from kepu_common.times import shanghai_iso

from . import audit
from .models import AuditEntry, Partner, Tenant, User
from .service import Issued


def tenant_msg(r: Tenant) -> pb.Tenant:
    return pb.Tenant(
        id=r.id,
        code=r.code,
        name=r.name,
        kind=r.kind,
        parent_id=r.parent_id,
        path=r.path,
        status=r.status,
        has_admin=bool(r.has_admin),
        child_count=int(r.child_count),
    )


def user_msg(row: User) -> pb.User:
    return pb.User(
        id=row.id,
        tenant_id=row.tenant_id,
        username=row.username,
        roles=list(row.roles),
        must_change_password=row.must_change_password,
        locked=bool(row.locked),
        display_name=row.display_name,
    )


def audit_entry_msg(r: AuditEntry) -> pb.AuditEntry:
    """An entry with its 说明 (``audit.describe``), times in Beijing time."""
    return pb.AuditEntry(
        id=r.id,
        occurred_at=shanghai_iso(r.occurred_at),
        action=r.action,
        username=r.username,
        tenant_path=r.tenant_path,
        details_json=r.details,
        actor=r.actor or r.username,
        client_ip=r.client_ip,
        object=r.object,
        summary=audit.describe(r.action, r.username, json.loads(r.details or "{}")),
    )


def partner_msg(r: Partner) -> pb.Partner:
    return pb.Partner(
        client_id=r.client_id,
        name=r.name,
        tenant_id=r.tenant_id,
        tenant_path=r.tenant_path,
        tenant_name=r.tenant_name,
        scopes=list(r.scopes),
        webhook_url=r.webhook_url,
        events=list(r.events),
        enabled=bool(r.enabled),
        created_at=shanghai_iso(r.created_at),
        secret_rotated_at=shanghai_iso(r.secret_rotated_at),
    )


def credentials_msg(issued: Issued) -> pb.PartnerCredentials:
    return pb.PartnerCredentials(
        partner=partner_msg(issued.partner),
        client_secret=issued.client_secret,
        webhook_secret=issued.webhook_secret,
    )
