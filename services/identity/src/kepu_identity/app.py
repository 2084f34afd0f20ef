"""Wiring of the identity service: one object graph shared by the gRPC and HTTP servers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kepu_common.auth import TokenVerifier
from kepu_common.db import Database

from .accounts import Accounts
from .credentials import CredentialDistributor
from .crypto import Sealer
from .keys import KeyRing
from .partners import Partners, StaffTokenVerifier
from .settings import IdentitySettings
from .sheets import IssuedRow
from .tenants import Tenants
from .tokens import TokenIssuer


@dataclass
class Identity:
    settings: IdentitySettings
    db: Database
    sealer: Sealer
    keys: KeyRing
    accounts: Accounts
    issuer: TokenIssuer
    tenants: Tenants
    distributor: CredentialDistributor
    verifier: TokenVerifier
    partners: Partners


def keycloak_external(settings: IdentitySettings) -> Callable[[IssuedRow, str, str, bool], None]:
    """Credential issuing through Keycloak (IDP=keycloak): the account lives in the realm."""
    from .keycloak_provisioner import KeycloakProvisioner, KeycloakSettings

    prov = KeycloakProvisioner(KeycloakSettings.from_identity_settings(settings))

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
        )
        # Always set this run's password: an interrupted run may have created the user with a
        # password that no sheet will ever show.
        prov.reset_password(row.username, row.password)

    return external


def build(settings: IdentitySettings) -> Identity:
    db = Database(settings.database_url, pool_size=10)
    sealer = Sealer(settings.secret_key)
    keys = KeyRing(db, sealer, settings.key_rotation_hours)
    accounts = Accounts(db, sealer, mfa_required=settings.mfa_required)
    issuer = TokenIssuer(
        db,
        keys,
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        access_seconds=settings.access_token_seconds,
        idle_seconds=settings.session_idle_seconds,
    )
    external = None
    if settings.idp == "keycloak":
        external = keycloak_external(settings)

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
        Tenants(db),
        distributor,
        verifier,
        Partners(db, sealer),
    )
