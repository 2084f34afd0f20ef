"""All SQL of the identity service. Reads run inside a scoped unit of work (RLS)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kepu.events.v1 import envelope_pb2
from kepu_common import metrics
from kepu_common.outbox import record_event
from sqlalchemy import Row, text
from sqlalchemy.orm import Session

TOPIC = "identity.events"

TENANT_COLS = (
    "t.id::text AS id, t.code, t.name, t.kind, coalesce(t.parent_id::text, '') AS parent_id,"
    " t.tenant_path::text AS path, t.status,"
    " EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = t.id AND u.is_tenant_admin) AS has_admin,"
    " (SELECT count(*) FROM tenants c WHERE c.parent_id = t.id) AS child_count"
)


def get_tenant(s: Session, tenant_id: str) -> Row[Any] | None:
    return s.execute(
        text(f"SELECT {TENANT_COLS} FROM tenants t WHERE t.id = CAST(:id AS uuid)"),
        {"id": tenant_id},
    ).first()


def get_tenant_by_code(s: Session, code: str) -> Row[Any] | None:
    return s.execute(
        text(f"SELECT {TENANT_COLS} FROM tenants t WHERE t.code = :c"), {"c": code}
    ).first()


def children(s: Session, tenant_id: str) -> list[Row[Any]]:
    return list(
        s.execute(
            text(
                f"SELECT {TENANT_COLS} FROM tenants t WHERE t.parent_id = CAST(:id AS uuid) ORDER BY t.code"
            ),
            {"id": tenant_id},
        )
    )


def subtree(s: Session, path: str, max_depth: int | None = None) -> list[Row[Any]]:
    depth = "" if not max_depth else " AND nlevel(t.tenant_path) <= nlevel(CAST(:p AS ltree)) + :d"
    return list(
        s.execute(
            text(
                f"SELECT {TENANT_COLS} FROM tenants t WHERE t.tenant_path <@ CAST(:p AS ltree){depth}"
                " ORDER BY t.tenant_path"
            ),
            {"p": path, "d": max_depth or 0},
        )
    )


def descendants_without_admin(
    s: Session, path: str, direct_only: bool, *, include_self: bool = False
) -> list[Row[Any]]:
    """Tenants under ``path`` (and ``path`` itself with ``include_self``) with no admin yet."""
    depth = " AND nlevel(t.tenant_path) = nlevel(CAST(:p AS ltree)) + 1" if direct_only else ""
    below = "" if include_self else " AND t.tenant_path <> CAST(:p AS ltree)"
    return list(
        s.execute(
            text(
                "SELECT t.id::text AS id, t.code, t.name, t.kind, t.tenant_path::text AS path FROM tenants t"
                f" WHERE t.tenant_path <@ CAST(:p AS ltree){below}"
                f"{depth} AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = t.id AND u.is_tenant_admin)"
                " ORDER BY t.tenant_path"
            ),
            {"p": path},
        )
    )


def insert_tenant(
    s: Session,
    *,
    code: str,
    name: str,
    kind: str,
    parent_id: str | None,
    path: str,
    actor: str,
    tenant_id: str | None = None,
) -> str:
    tid = tenant_id or str(uuid.uuid4())
    s.execute(
        text(
            "INSERT INTO tenants (id, code, name, kind, parent_id, tenant_path)"
            " VALUES (CAST(:id AS uuid), :code, :name, :kind, CAST(:parent AS uuid), CAST(:path AS ltree))"
        ),
        {"id": tid, "code": code, "name": name, "kind": kind, "parent": parent_id, "path": path},
    )
    record_event(
        s,
        topic=TOPIC,
        event_type="identity.tenant.changed",
        tenant_id=tid,
        tenant_path=path,
        actor=actor,
        payload=envelope_pb2.TenantChanged(
            tenant_id=tid,
            code=code,
            name=name,
            kind=kind,
            parent_id=parent_id or "",
            path=path,
            status="active",
        ),
    )
    return tid


USER_COLS = (
    "u.id::text AS id, u.tenant_id::text AS tenant_id, u.tenant_path::text AS tenant_path, u.username,"
    " u.display_name, u.email, u.password_hash, u.must_change_password, u.roles, u.is_tenant_admin,"
    " u.failed_count, u.locked_until, u.locked_until > now() AS locked, u.totp_secret, u.totp_enabled,"
    " u.enabled, t.kind AS tenant_kind, t.name AS tenant_name, t.code AS tenant_code"
)


def user_by_username(s: Session, username: str) -> Row[Any] | None:
    return s.execute(
        text(
            f"SELECT {USER_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id"
            " WHERE lower(u.username) = lower(:u)"
        ),
        {"u": username},
    ).first()


def user_by_id(s: Session, user_id: str) -> Row[Any] | None:
    return s.execute(
        text(
            f"SELECT {USER_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id"
            " WHERE u.id = CAST(:id AS uuid)"
        ),
        {"id": user_id},
    ).first()


def users_of_tenant(s: Session, tenant_id: str) -> list[Row[Any]]:
    return list(
        s.execute(
            text(
                f"SELECT {USER_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id"
                " WHERE u.tenant_id = CAST(:id AS uuid) ORDER BY u.username"
            ),
            {"id": tenant_id},
        )
    )


def insert_user(
    s: Session,
    *,
    tenant_id: str,
    tenant_path: str,
    username: str,
    password_hash: str,
    roles: list[str],
    must_change: bool,
    is_tenant_admin: bool,
    display_name: str = "",
) -> str:
    uid = str(uuid.uuid4())
    s.execute(
        text(
            "INSERT INTO users (id, tenant_id, tenant_path, username, display_name, password_hash,"
            " must_change_password, roles, is_tenant_admin)"
            " VALUES (CAST(:id AS uuid), CAST(:t AS uuid), CAST(:p AS ltree), :u, :d, :h, :m, :r, :a)"
        ),
        {
            "id": uid,
            "t": tenant_id,
            "p": tenant_path,
            "u": username,
            "d": display_name,
            "h": password_hash,
            "m": must_change,
            "r": roles,
            "a": is_tenant_admin,
        },
    )
    add_history(s, uid, tenant_path, password_hash)
    return uid


def set_password(
    s: Session, user_id: str, tenant_path: str, password_hash: str, must_change: bool
) -> None:
    s.execute(
        text(
            "UPDATE users SET password_hash = :h, must_change_password = :m, failed_count = 0,"
            " locked_until = NULL, password_changed_at = now() WHERE id = CAST(:id AS uuid)"
        ),
        {"h": password_hash, "m": must_change, "id": user_id},
    )
    add_history(s, user_id, tenant_path, password_hash)


def mark_password_changed(s: Session, user_id: str) -> None:
    """The password was changed elsewhere (Keycloak holds it): no change is due any more."""
    s.execute(
        text(
            "UPDATE users SET must_change_password = false, failed_count = 0, locked_until = NULL,"
            " password_changed_at = now() WHERE id = CAST(:id AS uuid)"
        ),
        {"id": user_id},
    )


def add_history(s: Session, user_id: str, tenant_path: str, password_hash: str) -> None:
    s.execute(
        text(
            "INSERT INTO password_history (user_id, tenant_path, password_hash)"
            " VALUES (CAST(:u AS uuid), CAST(:p AS ltree), :h)"
        ),
        {"u": user_id, "p": tenant_path, "h": password_hash},
    )


def recent_password_hashes(s: Session, user_id: str, n: int) -> list[str]:
    return list(
        s.execute(
            text(
                "SELECT password_hash FROM password_history WHERE user_id = CAST(:u AS uuid)"
                " ORDER BY id DESC LIMIT :n"
            ),
            {"u": user_id, "n": n},
        ).scalars()
    )


def record_failure(s: Session, user_id: str, max_failures: int, lock_minutes: int) -> bool:
    """Count a failed sign-in; returns True when this failure locked the account."""
    row = s.execute(
        text(
            "UPDATE users SET failed_count = failed_count + 1,"
            " locked_until = CASE WHEN failed_count + 1 >= :m THEN now() + make_interval(mins => :l)"
            " ELSE locked_until END WHERE id = CAST(:id AS uuid) RETURNING failed_count"
        ),
        {"id": user_id, "m": max_failures, "l": lock_minutes},
    ).scalar_one()
    return int(row) == max_failures


def reset_failures(s: Session, user_id: str) -> None:
    s.execute(
        text("UPDATE users SET failed_count = 0, locked_until = NULL WHERE id = CAST(:id AS uuid)"),
        {"id": user_id},
    )


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


LOGIN_FAILURES = frozenset({"login_failure", "login_blocked"})


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


def client_name(s: Session, client_id: str) -> str:
    """The registered name of an OAuth2 client (a partner), or ''."""
    name = s.execute(
        text("SELECT name FROM clients WHERE client_id = :c"), {"c": client_id}
    ).scalar_one_or_none()
    return str(name or "")


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor asks for: filters combine, newest first, ``limit`` from ``offset``."""

    action: str = ""
    username: str = ""  # the account concerned or the actor
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


def audit_entries(s: Session, path: str, f: AuditFilter) -> tuple[list[Row[Any]], int]:
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
    rows = list(
        s.execute(
            text(
                "SELECT a.id::text AS id, a.occurred_at, a.action, a.username, a.actor,"
                " a.client_ip, a.object, a.tenant_path::text AS tenant_path,"
                f" a.details::text AS details FROM audit_log a WHERE {where}"
                " ORDER BY a.occurred_at DESC, a.id DESC LIMIT :n OFFSET :o"
            ),
            params,
        )
    )
    return rows, int(total)
