"""Tenants 单位 and users 账号 (with their password history)."""

from __future__ import annotations

import uuid
from typing import Any

from kepu.events.v1 import envelope_pb2
from kepu_common.outbox import record_event
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import Tenant, User

TOPIC = "identity.events"

TENANT_COLS = (
    "t.id::text AS id, t.code, t.name, t.kind, coalesce(t.parent_id::text, '') AS parent_id,"
    " t.tenant_path::text AS path, t.status,"
    " EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = t.id AND u.is_tenant_admin) AS has_admin,"
    " (SELECT count(*) FROM tenants c WHERE c.parent_id = t.id) AS child_count"
)


def _tenants(s: Session, where: str, params: dict[str, Any], order: str = "") -> list[Tenant]:
    """THE read of tenants: what the session's scope (RLS) lets the caller see."""
    rows = s.execute(
        text(f"SELECT {TENANT_COLS} FROM tenants t WHERE {where}{order}"), params
    ).mappings()
    return [Tenant(**r) for r in rows]


def _one(found: list[Tenant]) -> Tenant | None:
    return found[0] if found else None


def get_tenant(s: Session, tenant_id: str) -> Tenant | None:
    return _one(_tenants(s, "t.id = CAST(:id AS uuid)", {"id": tenant_id}))


def get_tenant_by_code(s: Session, code: str) -> Tenant | None:
    return _one(_tenants(s, "t.code = :c", {"c": code}))


def children(s: Session, tenant_id: str) -> list[Tenant]:
    return _tenants(s, "t.parent_id = CAST(:id AS uuid)", {"id": tenant_id}, " ORDER BY t.code")


def subtree(s: Session, path: str, max_depth: int | None = None) -> list[Tenant]:
    depth = "" if not max_depth else " AND nlevel(t.tenant_path) <= nlevel(CAST(:p AS ltree)) + :d"
    return _tenants(
        s,
        f"t.tenant_path <@ CAST(:p AS ltree){depth}",
        {"p": path, "d": max_depth or 0},
        " ORDER BY t.tenant_path",
    )


def descendants_without_admin(
    s: Session, path: str, direct_only: bool, *, include_self: bool = False
) -> list[Tenant]:
    """Tenants under ``path`` (and ``path`` itself with ``include_self``) with no admin yet."""
    depth = " AND nlevel(t.tenant_path) = nlevel(CAST(:p AS ltree)) + 1" if direct_only else ""
    below = "" if include_self else " AND t.tenant_path <> CAST(:p AS ltree)"
    return _tenants(
        s,
        f"t.tenant_path <@ CAST(:p AS ltree){below}{depth} AND NOT EXISTS"
        " (SELECT 1 FROM users u WHERE u.tenant_id = t.id AND u.is_tenant_admin)",
        {"p": path},
        " ORDER BY t.tenant_path",
    )


def count_with_admin_below(s: Session, path: str) -> int:
    """How many tenants strictly below ``path`` have an admin already."""
    return int(
        s.execute(
            text(
                "SELECT count(*) FROM tenants t WHERE t.tenant_path <@ CAST(:p AS ltree)"
                " AND t.tenant_path <> CAST(:p AS ltree) AND EXISTS (SELECT 1 FROM users u"
                " WHERE u.tenant_id = t.id AND u.is_tenant_admin)"
            ),
            {"p": path},
        ).scalar()
        or 0
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
    """A new tenant and its ``identity.tenant.changed`` event (the other services' read model)."""
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
    " u.failed_count, u.locked_until, coalesce(u.locked_until > now(), false) AS locked,"
    " u.totp_secret, u.totp_enabled, u.enabled, t.kind AS tenant_kind, t.name AS tenant_name,"
    " t.code AS tenant_code"
)


def _users(s: Session, where: str, params: dict[str, Any], order: str = "") -> list[User]:
    """THE read of users, with their tenant's kind, name and code (RLS: the session's scope)."""
    rows = s.execute(
        text(
            f"SELECT {USER_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE {where}{order}"
        ),
        params,
    ).mappings()
    return [
        User(
            **{
                **r,
                "roles": list(r["roles"]),
                "totp_secret": None if r["totp_secret"] is None else bytes(r["totp_secret"]),
            }
        )
        for r in rows
    ]


def user_by_username(s: Session, username: str) -> User | None:
    found = _users(s, "lower(u.username) = lower(:u)", {"u": username})
    return found[0] if found else None


def user_by_id(s: Session, user_id: str) -> User | None:
    found = _users(s, "u.id = CAST(:id AS uuid)", {"id": user_id})
    return found[0] if found else None


def users_of_tenant(s: Session, tenant_id: str) -> list[User]:
    return _users(s, "u.tenant_id = CAST(:id AS uuid)", {"id": tenant_id}, " ORDER BY u.username")


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


def set_roles(s: Session, user_id: str, roles: list[str]) -> None:
    s.execute(
        text("UPDATE users SET roles = :r WHERE id = CAST(:i AS uuid)"), {"r": roles, "i": user_id}
    )


def enable_totp(s: Session, user_id: str, sealed_secret: bytes) -> None:
    s.execute(
        text("UPDATE users SET totp_secret = :s, totp_enabled = true WHERE id = CAST(:id AS uuid)"),
        {"s": sealed_secret, "id": user_id},
    )
