from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kepu_common.db import Scope
from kepu_common.tenancy import Principal
from kepu_identity import repository as repo
from kepu_identity import seed
from kepu_identity.app import Identity, build
from kepu_identity.realm import portal_redirect_uris
from kepu_identity.settings import IdentitySettings

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_identity" / "migrations"
ISSUER = "http://kepu.test/auth/realms/kepu"
ADMIN = ("henan_admin", "Kepu@Henan2026")
SECRET_KEY = base64.b64encode(os.urandom(32)).decode()  # one service key per test session


def make_identity(app_url: str, **overrides: str) -> Identity:
    env = {
        "IDENTITY_DATABASE_URL": app_url,
        "IDENTITY_SECRET_KEY": SECRET_KEY,
        "OIDC_ISSUER": ISSUER,
        "ADMIN_MFA": "optional",
        **overrides,
    }
    return build(IdentitySettings(**env))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def identity_db(service_database) -> str:
    _owner, app_url = service_database("identity", MIGRATIONS)
    return app_url


@pytest.fixture(scope="session")
def ident(identity_db) -> Identity:
    # The tests' webhook receivers listen on loopback: allowed explicitly, as for an
    # on-premise bank (by default webhooks reach public addresses only).
    ident = make_identity(identity_db, WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8,::1")
    seed.seed_tree(ident.db)
    seed.seed_clients(ident.db, portal_redirect_uris("http://kepu.test"))
    seed.seed_admin(ident.db, *ADMIN)
    return ident


@pytest.fixture(scope="session")
def oidc(ident) -> TestClient:
    return TestClient(ident.oidc_app())


def principal_of(ident: Identity, code: str, roles: tuple[str, ...] = ("admin",)) -> Principal:
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        t = repo.get_tenant_by_code(s, code)
    assert t is not None
    return Principal(
        subject=f"user-{code}",
        username=f"user-{code}",
        tenant_id=t.id,
        tenant_path=t.path,
        tenant_kind=t.kind,
        roles=frozenset(roles),
    )
