"""Seeding: the Henan tree, the realm clients and the demo province admin (idempotent)."""

from __future__ import annotations

import logging

from kepu_common.db import Database, Scope

from . import clients, divisions, passwords
from . import repository as repo

log = logging.getLogger(__name__)


def seed_tree(db: Database) -> int:
    """Insert the Henan divisions that are missing; returns how many were added."""
    added = 0
    with db.unit_of_work(Scope.system_scope()) as s:
        by_code: dict[str, tuple[str, str]] = {}
        for d in divisions.henan_tree():
            row = repo.get_tenant_by_code(s, d.code)
            if row is None:
                parent = by_code.get(d.parent_code) if d.parent_code else None
                path = f"{parent[1]}.{d.code}" if parent else d.code
                tid = repo.insert_tenant(
                    s,
                    code=d.code,
                    name=d.name,
                    kind=d.kind,
                    parent_id=parent[0] if parent else None,
                    path=path,
                    actor="system",
                )
                by_code[d.code] = (tid, path)
                added += 1
            else:
                by_code[d.code] = (row.id, row.path)
    return added


def seed_clients(db: Database, portal_redirects: list[str]) -> None:
    with db.unit_of_work(Scope.system_scope()) as s:
        clients.upsert_client(
            s,
            client_id="kepu-portal",
            name="科普云门户",
            public=True,
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=portal_redirects,
        )
        clients.upsert_client(
            s,
            client_id="kepu-cli",
            name="脚本客户端",
            public=True,
            grant_types=["password", "refresh_token"],
        )


def seed_admin(
    db: Database, username: str, password: str, *, tenant_code: str = divisions.PROVINCE_CODE
) -> bool:
    """The demo province admin (already set up, so `make run` logs in at once). True if created."""
    passwords.check_policy(password, username)
    with db.unit_of_work(Scope.system_scope()) as s:
        if repo.user_by_username(s, username) is not None:
            return False
        t = repo.get_tenant_by_code(s, tenant_code)
        assert t is not None, "seed the tree first"
        repo.insert_user(
            s,
            tenant_id=t.id,
            tenant_path=t.path,
            username=username,
            password_hash=passwords.hash_password(password),
            roles=["admin", "reviewer"],
            must_change=False,
            is_tenant_admin=True,
            display_name=f"{t.name}科协管理员",
        )
    return True


def seed_partner(
    db: Database, client_id: str, secret: str, tenant_code: str = divisions.PROVINCE_CODE
) -> None:
    with db.unit_of_work(Scope.system_scope()) as s:
        t = repo.get_tenant_by_code(s, tenant_code)
        assert t is not None
        clients.upsert_client(
            s,
            client_id=client_id,
            name=client_id,
            public=False,
            grant_types=["client_credentials"],
            secret=secret,
            tenant_id=t.id,
        )
