"""Credential batches 账号分配批次 and their items (one account of one tenant each)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import CredentialItem


def items_of_running_batches(s: Session, tenant_id: str) -> int:
    """How many accounts the tenant's unfinished batch still has to issue or deliver."""
    return int(
        s.execute(
            text(
                "SELECT count(*) FROM credential_items i JOIN credential_batches b"
                " ON b.id = i.batch_id WHERE b.tenant_id = CAST(:t AS uuid)"
                " AND b.status = 'running'"
            ),
            {"t": tenant_id},
        ).scalar()
        or 0
    )


def lock_running_batch(s: Session, tenant_id: str) -> str | None:
    """The tenant's unfinished batch, locked for this transaction, or None."""
    running = s.execute(
        text(
            "SELECT id::text FROM credential_batches WHERE tenant_id = CAST(:t AS uuid)"
            " AND status = 'running' FOR UPDATE"
        ),
        {"t": tenant_id},
    ).scalar()
    return str(running) if running else None


def insert_batch(s: Session, *, tenant_id: str, tenant_path: str, scope: str, by: str) -> str:
    batch_id = str(uuid.uuid4())
    s.execute(
        text(
            "INSERT INTO credential_batches (id, tenant_id, tenant_path, scope, created_by)"
            " VALUES (CAST(:id AS uuid), CAST(:t AS uuid), CAST(:p AS ltree), :s, :by)"
        ),
        {"id": batch_id, "t": tenant_id, "p": tenant_path, "s": scope, "by": by},
    )
    return batch_id


def insert_item(s: Session, batch_id: str, tenant_id: str, tenant_path: str, username: str) -> None:
    s.execute(
        text(
            "INSERT INTO credential_items (batch_id, tenant_id, tenant_path, username)"
            " VALUES (CAST(:b AS uuid), CAST(:t AS uuid), CAST(:p AS ltree), :u) ON CONFLICT DO NOTHING"
        ),
        {"b": batch_id, "t": tenant_id, "p": tenant_path, "u": username},
    )


def claim_pending_items(s: Session, batch_id: str, n: int) -> list[CredentialItem]:
    """Up to ``n`` items still to issue, locked (others running the batch skip them)."""
    rows = s.execute(
        text(
            "SELECT i.tenant_id::text AS tenant_id, i.tenant_path::text AS path, i.username,"
            " t.code, t.name, t.kind FROM credential_items i JOIN tenants t ON t.id = i.tenant_id"
            " WHERE i.batch_id = CAST(:b AS uuid) AND i.status = 'pending'"
            " ORDER BY i.tenant_path LIMIT :n FOR UPDATE OF i SKIP LOCKED"
        ),
        {"b": batch_id, "n": n},
    ).mappings()
    return [CredentialItem(**r) for r in rows]


def mark_issued(s: Session, batch_id: str, tenant_id: str, sealed_password: bytes) -> None:
    s.execute(
        text(
            "UPDATE credential_items SET status = 'issued', sealed_password = :sp"
            " WHERE batch_id = CAST(:b AS uuid) AND tenant_id = CAST(:t AS uuid)"
        ),
        {"sp": sealed_password, "b": batch_id, "t": tenant_id},
    )


def issued_items(s: Session, batch_id: str) -> list[CredentialItem]:
    rows = s.execute(
        text(
            "SELECT i.tenant_id::text AS tenant_id, i.tenant_path::text AS path, i.username,"
            " i.sealed_password, t.code, t.name, t.kind"
            " FROM credential_items i JOIN tenants t ON t.id = i.tenant_id"
            " WHERE i.batch_id = CAST(:b AS uuid) AND i.status = 'issued' ORDER BY i.tenant_path"
        ),
        {"b": batch_id},
    ).mappings()
    return [CredentialItem(**r) for r in rows]


def mark_delivered(s: Session, batch_id: str) -> None:
    """The sheet has left: the sealed passwords are wiped and the batch is done."""
    s.execute(
        text(
            "UPDATE credential_items SET sealed_password = NULL, status = 'delivered'"
            " WHERE batch_id = CAST(:b AS uuid)"
        ),
        {"b": batch_id},
    )
    s.execute(
        text(
            "UPDATE credential_batches SET status = 'delivered', finished_at = now()"
            " WHERE id = CAST(:b AS uuid)"
        ),
        {"b": batch_id},
    )
