"""Wiring of the identity service: one object graph shared by the gRPC and HTTP servers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope

from . import repository as repo
from .credentials import CredentialDistributor
from .crypto import Sealer
from .egress import Egress
from .keycloak_provisioner import KeycloakProvisioner, KeycloakSettings
from .oidc import create_oidc_app
from .oidc.accounts import Accounts, KeycloakAccounts
from .oidc.keys import KeyRing
from .oidc.tokens import TokenIssuer
from .partners import Partners, StaffTokenVerifier
from .settings import IdentitySettings
from .sheets import IssuedRow

log = logging.getLogger(__name__)


@dataclass
class Identity:
    settings: IdentitySettings
    db: Database
    sealer: Sealer
    keys: KeyRing
    accounts: Accounts
    issuer: TokenIssuer
    distributor: CredentialDistributor
    verifier: TokenVerifier
    partners: Partners
    realm: KeycloakProvisioner | None = None  # IDP=keycloak: where the credentials live

    def oidc_app(self) -> FastAPI:
        """The embedded OpenID Connect provider's HTTP application over this graph."""
        return create_oidc_app(
            db=self.db,
            accounts=self.accounts,
            keys=self.keys,
            issuer_=self.issuer,
            sealer=self.sealer,
            issuer=self.settings.oidc_issuer,
        )


def keycloak_external(prov: KeycloakProvisioner) -> Callable[[IssuedRow, str, str, bool], None]:
    """Credential issuing through Keycloak (IDP=keycloak): the account lives in the realm."""

    def external(row: IssuedRow, tenant_id: str, tenant_path: str, reset: bool) -> None:
        prov.ensure_user(
            row.username,
            row.password,
            tenant_id=tenant_id,
            tenant_path=tenant_path,
            tenant_kind=row.tenant_kind,
            tenant_code=row.tenant_code,
            tenant_name=row.tenant_name,
            roles=["admin"],
            # An interrupted run may have created the user with a password no sheet shows.
            reset_existing=True,
        )

    return external


def build(settings: IdentitySettings) -> Identity:
    db = Database(settings.database_url, pool_size=10)
    sealer = Sealer(settings.secret_key)
    keys = KeyRing(db, sealer, settings.key_rotation_hours)
    realm = keycloak_provisioner(settings)
    accounts = (
        Accounts(db, sealer, mfa_required=settings.mfa_required)
        if realm is None
        else KeycloakAccounts(db, sealer, mfa_required=settings.mfa_required, realm=realm)
    )
    issuer = TokenIssuer(
        db,
        keys,
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        access_seconds=settings.access_token_seconds,
        idle_seconds=settings.session_idle_seconds,
    )
    external = None if realm is None else keycloak_external(realm)

    login_url = settings.oidc_issuer.split("/auth/")[0] + "/"
    distributor = CredentialDistributor(db, sealer, login_url=login_url, external=external)
    if settings.idp == "keycloak":
        verifier: TokenVerifier = StaffTokenVerifier(
            settings.oidc_issuer, jwks_url=settings.oidc_jwks_url, audience=settings.oidc_audience
        )
    else:
        verifier = StaffTokenVerifier(
            settings.oidc_issuer, key_source=keys.jwks, audience=settings.oidc_audience
        )
    return Identity(
        settings,
        db,
        sealer,
        keys,
        accounts,
        issuer,
        distributor,
        verifier,
        Partners(db, sealer, realm=realm, egress=Egress.parse(settings.webhook_allowed_networks)),
        realm,
    )


def keycloak_provisioner(settings: IdentitySettings) -> KeycloakProvisioner | None:
    """The realm's admin client in Keycloak mode (``IDP=keycloak``); None when embedded."""
    if settings.idp != "keycloak":
        return None
    if not settings.keycloak_url:
        raise SystemExit(
            "IDP=keycloak 需要设置 KEYCLOAK_URL（Keycloak 的地址，例如 http://keycloak:8080/）。"
        )
    realm = KeycloakProvisioner(KeycloakSettings.from_identity_settings(settings))
    problem = realm.unreachable()
    if problem:  # not fatal: Keycloak may come up after us; every call retries
        log.warning(
            "Keycloak 暂时无法访问（KEYCLOAK_URL=%s, KEYCLOAK_REALM=%s）：%s",
            settings.keycloak_url,
            settings.keycloak_realm,
            problem,
        )
    return realm


def mirror_account(
    db: Database, realm: KeycloakProvisioner, username: str, password: str, *, temporary: bool
) -> None:
    """Put a seeded account (the local demo admin) into Keycloak with its tenant and roles.

    An account that exists there keeps its password (it may have been changed already).
    """
    with db.unit_of_work(Scope.system_scope()) as s:
        user = repo.user_by_username(s, username)
        tenant = repo.get_tenant(s, user.tenant_id) if user is not None else None
    if user is None or tenant is None:
        raise SystemExit(f"account {username!r} is not seeded; cannot mirror it into Keycloak")
    realm.ensure_account(username, password, tenant, list(user.roles), temporary=temporary)
