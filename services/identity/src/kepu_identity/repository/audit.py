"""The audit log 审计日志: identity's own entries (with their events) and those merged in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kepu.events.v1 import envelope_pb2
from kepu_common import metrics
from kepu_common.outbox import record_event
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import AuditEntry
from .tenants import TOPIC

LOGIN_FAILURES = frozenset({"login_failure", "login_blocked"})


def audit(
    s: Session,
    *,
    tenant_id: str,
    tenant_path: str,
    action: str,
    username: str = "",
    actor: str = "",
    client_ip: str = "",
    details: dict[str, str] | None = None,
) -> None:
    """An audit row and its event, in the caller's transaction."""
    details = details or {}
    add_audit_row(
        s,
        tenant_path=tenant_path,
        action=action,
        username=username,
        actor=actor or username,
        client_ip=client_ip,
        details=details,
    )
    record_event(
        s,
        topic=TOPIC,
        event_type=f"identity.audit.{action}",
        tenant_id=tenant_id,
        tenant_path=tenant_path,
        actor=actor or username or "system",
        payload=envelope_pb2.AuditRecorded(
            action=action, username=username, client_ip=client_ip, details=details
        ),
    )


def add_audit_row(
    s: Session,
    *,
    tenant_path: str,
    action: str,
    username: str = "",
    actor: str = "",
    client_ip: str = "",
    object: str = "",
    details: dict[str, str] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """One audit row (no event): identity's own entries and those merged from other services."""
    if action in LOGIN_FAILURES:  # the alert on password guessing counts these
        metrics.login_failures.add(1, {"action": action})
    s.execute(
        text(
            "INSERT INTO audit_log"
            " (occurred_at, tenant_path, action, username, actor, client_ip, object, details)"
            " VALUES (COALESCE(:at, now()), CAST(:p AS ltree), :a, :u, :actor, :ip, :o,"
            " CAST(:d AS jsonb))"
        ),
        {
            "at": occurred_at,
            "p": tenant_path,
            "a": action,
            "u": username,
            "actor": actor,
            "ip": client_ip,
            "o": object,
            "d": json.dumps(details or {}, ensure_ascii=False),
        },
    )


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor asks for: filters combine, newest first, ``limit`` from ``offset``."""

    action: str = ""
    username: str = ""  # the account concerned or the actor
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


def audit_entries(s: Session, path: str, f: AuditFilter) -> tuple[list[AuditEntry], int]:
    """A page of a subtree's entries, newest first (by time, then insertion), and the total.

    The sort names the table's columns: a bare ``id`` would sort the ``id::text`` output
    column, which puts 9 before 61."""
    where = "a.tenant_path <@ CAST(:p AS ltree)"
    params: dict[str, Any] = {"p": path, "n": f.limit, "o": f.offset}
    if f.action:
        where += " AND a.action = :action"
        params["action"] = f.action
    if f.username:
        where += " AND (a.username = :user OR a.actor = :user)"
        params["user"] = f.username
    if f.since is not None:
        where += " AND a.occurred_at >= :since"
        params["since"] = f.since
    if f.until is not None:
        where += " AND a.occurred_at < :until"
        params["until"] = f.until
    total = s.execute(text(f"SELECT count(*) FROM audit_log a WHERE {where}"), params).scalar_one()
    rows = s.execute(
        text(
            "SELECT a.id::text AS id, a.occurred_at, a.action, a.username, a.actor,"
            " a.client_ip, a.object, a.tenant_path::text AS tenant_path,"
            f" a.details::text AS details FROM audit_log a WHERE {where}"
            " ORDER BY a.occurred_at DESC, a.id DESC LIMIT :n OFFSET :o"
        ),
        params,
    ).mappings()
    return [AuditEntry(**r) for r in rows], int(total)
