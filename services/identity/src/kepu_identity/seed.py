"""Seeding: the Henan tree, the realm clients, the demo province admin (idempotent).

Two uses. ``make run`` seeds everything, with the demo admin whose password is known
(``python -m kepu_identity seed``). An installation seeds only the tree and the clients
(``seed --no-demo``, a Helm pre-install hook) and then bootstraps its first province
admin from a one-time Secret (``bootstrap-admin``): an initial password that must be
changed at the first sign-in, never reset by a rerun.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kepu_common.db import Database, Scope
from sqlalchemy.orm import Session

from . import divisions, domain, passwords
from . import repository as repo
from .models import Tenant

log = logging.getLogger(__name__)
ADMIN_ROLES = ["admin", "reviewer"]  # a province admin, the demo one and the bootstrapped one


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
        repo.upsert_client(
            s,
            client_id="kepu-portal",
            name="科普云门户",
            public=True,
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=portal_redirects,
        )
        repo.upsert_client(
            s,
            client_id="kepu-cli",
            name="脚本客户端",
            public=True,
            grant_types=["password", "refresh_token"],
        )


def _insert_admin(
    s: Session, tenant: Tenant | BootstrapTenant, username: str, password: str, *, must_change: bool
) -> None:
    """The tenant's admin account (demo or bootstrap), named after the tenant."""
    repo.insert_user(
        s,
        tenant_id=tenant.id,
        tenant_path=tenant.path,
        username=username,
        password_hash=passwords.hash_password(password),
        roles=ADMIN_ROLES,
        must_change=must_change,
        is_tenant_admin=True,
        display_name=f"{tenant.name}科协管理员",
    )


def seed_admin(
    db: Database, username: str, password: str, *, tenant_code: str = domain.PROVINCE_CODE
) -> bool:
    """The demo province admin (already set up, so `make run` logs in at once). True if created."""
    domain.check_policy(password, username)
    with db.unit_of_work(Scope.system_scope()) as s:
        if repo.user_by_username(s, username) is not None:
            return False
        t = repo.get_tenant_by_code(s, tenant_code)
        assert t is not None, "seed the tree first"
        _insert_admin(s, t, username, password, must_change=False)
    return True


@dataclass(frozen=True)
class BootstrapTenant:
    """The tenant the first admin belongs to, as a Keycloak mirror needs it."""

    id: str
    path: str
    kind: str
    code: str
    name: str


BootstrapOutcome = Literal["created", "exists", "tenant_has_admin"]


def bootstrap_admin(
    db: Database,
    username: str,
    initial_password: str,
    *,
    tenant_code: str = domain.PROVINCE_CODE,
    external: Callable[[BootstrapTenant, str, str], None] | None = None,
) -> BootstrapOutcome:
    """The installation's first admin of ``tenant_code``; it must change the password first.

    An existing account is left exactly as it is (a password it changed stays changed).
    ``external(tenant, username, password)`` also creates it in Keycloak (IDP=keycloak) and
    must leave an existing Keycloak user's password alone too.
    """
    domain.check_policy(initial_password, username)
    with db.unit_of_work(Scope.system_scope()) as s:
        t = repo.get_tenant_by_code(s, tenant_code)
        if t is None:
            raise LookupError(f"tenant {tenant_code} is not seeded")
        existing = repo.user_by_username(s, username)
        if existing is None and t.has_admin:
            return "tenant_has_admin"  # one tenant admin per tenant (users_one_tenant_admin)
        tenant = BootstrapTenant(t.id, t.path, t.kind, t.code, t.name)
    if external is not None:
        external(tenant, username, initial_password)
    if existing is not None:
        return "exists"
    with db.unit_of_work(Scope.system_scope()) as s:
        _insert_admin(s, tenant, username, initial_password, must_change=True)
        repo.audit(
            s,
            tenant_id=tenant.id,
            tenant_path=tenant.path,
            action="credential_issued",
            username=username,
            actor="install",
            details={"issued_by": "bootstrap-admin"},
        )
    return "created"


def seed_partner(
    db: Database, client_id: str, secret: str, tenant_code: str = domain.PROVINCE_CODE
) -> None:
    with db.unit_of_work(Scope.system_scope()) as s:
        t = repo.get_tenant_by_code(s, tenant_code)
        assert t is not None
        repo.upsert_client(
            s,
            client_id=client_id,
            name=client_id,
            public=False,
            grant_types=["client_credentials"],
            secret_hash=passwords.hash_password(secret),
            tenant_id=t.id,
        )
