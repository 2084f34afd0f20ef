"""The tenants read model: a service's local ``tenants`` table fed by identity.

The identity service publishes ``identity.tenant.changed`` (payload
``kepu.events.v1.envelope_pb2.TenantChanged``) on ``identity.events`` for every tenant.
A service that needs the tree (names, kinds, children) creates a ``tenants`` table in its
first migration with at least::

    id uuid PRIMARY KEY, code text, name text, kind text, parent_id uuid,
    <path column> ltree, status text, updated_at timestamptz

and consumes the event with :func:`tenants_consumer` (or :func:`tenants_handler` in tests,
through ``kepu_common.consumer.handle_once``). Extra columns a service keeps on the table
(a quota, a contact e-mail) are left untouched by the upsert. The service's own reads of the
table stay in its ``repository.py``: which statuses count and what a row becomes are its rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from kepu.events.v1 import envelope_pb2
from sqlalchemy import text
from sqlalchemy.orm import Session

from .consumer import IdempotentConsumer
from .db import Database
from .tenancy import validate_path

log = logging.getLogger(__name__)

IDENTITY_TOPIC = "identity.events"
TENANT_CHANGED = "identity.tenant.changed"
PATH_COLUMNS = ("tenant_path", "path")

Handler = Callable[[Session, envelope_pb2.EventEnvelope], None]


@dataclass(frozen=True)
class TenantChange:
    """One tenant as identity last described it."""

    id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    status: str


def tenant_change(envelope: envelope_pb2.EventEnvelope) -> TenantChange | None:
    """The tenant an ``identity.tenant.changed`` envelope carries; None for any other event.

    Raises ValueError when the path is not a tenant path, so the consumer retries and then
    dead-letters the event instead of writing a broken tree.
    """
    if envelope.type != TENANT_CHANGED:
        return None
    msg = envelope_pb2.TenantChanged()
    if not envelope.payload.Unpack(msg):
        log.warning(
            "event %s: %s without a TenantChanged payload", envelope.event_id, TENANT_CHANGED
        )
        return None
    return TenantChange(
        id=msg.tenant_id,
        code=msg.code,
        name=msg.name,
        kind=msg.kind,
        parent_id=msg.parent_id or None,
        path=validate_path(msg.path),
        status=msg.status or "active",
    )


def upsert_tenant(s: Session, t: TenantChange, *, path_column: str = "tenant_path") -> None:
    """Insert or update the row of ``t`` in ``tenants`` (keyed by id)."""
    if path_column not in PATH_COLUMNS:  # never interpolate anything but a known name
        raise ValueError(f"unknown tenants path column {path_column!r}")
    s.execute(
        text(
            f"INSERT INTO tenants (id, code, name, kind, parent_id, {path_column}, status,"
            " updated_at) VALUES (:id, :code, :name, :kind, :parent, CAST(:path AS ltree),"
            " :status, now()) ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code,"
            " name = EXCLUDED.name, kind = EXCLUDED.kind, parent_id = EXCLUDED.parent_id,"
            f" {path_column} = EXCLUDED.{path_column}, status = EXCLUDED.status,"
            " updated_at = now()"
        ),
        {
            "id": t.id,
            "code": t.code,
            "name": t.name,
            "kind": t.kind,
            "parent": t.parent_id,
            "path": t.path,
            "status": t.status,
        },
    )


def tenants_handler(*, path_column: str = "tenant_path") -> Handler:
    """The event handler that keeps ``tenants`` in step with identity (other events ignored)."""

    def handle(session: Session, envelope: envelope_pb2.EventEnvelope) -> None:
        change = tenant_change(envelope)
        if change is not None:
            upsert_tenant(session, change, path_column=path_column)

    return handle


def tenants_consumer(
    db: Database, bootstrap: str, *, name: str, path_column: str = "tenant_path"
) -> IdempotentConsumer:
    """An idempotent consumer of ``identity.events`` named ``name`` feeding ``tenants``."""
    return IdempotentConsumer(
        db,
        bootstrap,
        name=name,
        topics=[IDENTITY_TOPIC],
        handler=tenants_handler(path_column=path_column),
    )
