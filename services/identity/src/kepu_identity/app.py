"""Wiring of the identity service: one object graph shared by the gRPC and HTTP servers."""

from __future__ import annotations

from dataclasses import dataclass

from kepu_common.auth import TokenVerifier
from kepu_common.db import Database

from .accounts import Accounts
from .credentials import CredentialDistributor
from .crypto import Sealer
from .keys import KeyRing
from .settings import IdentitySettings
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


def build(settings: IdentitySettings) -> Identity:
    db = Database(settings.database_url, pool_size=10)
    sealer = Sealer(settings.secret_key)
    keys = KeyRing(db, sealer, settings.key_rotation_hours)
    accounts = Accounts(db, sealer, mfa_required=settings.mfa_required)
    issuer = TokenIssuer(db, keys, issuer=settings.oidc_issuer, audience=settings.oidc_audience,
                         access_seconds=settings.access_token_seconds, idle_seconds=settings.session_idle_seconds)
    external = None
    if settings.idp == "keycloak":
        from .keycloak_provisioner import KeycloakProvisioner  # type: ignore[import-not-found]

        prov = KeycloakProvisioner.from_settings(settings)

        def external(row, tenant_id, tenant_path, reset):  # type: ignore[no-untyped-def]
            if reset:
                prov.reset_password(row.username, row.password)
            else:
                prov.ensure_user(row.username, row.password, tenant_id=tenant_id, tenant_path=tenant_path,
                                 tenant_kind=row.tenant_kind, tenant_code=row.tenant_code,
                                 tenant_name=row.tenant_name, roles=["admin"])

    login_url = settings.oidc_issuer.split("/auth/")[0] + "/"
    distributor = CredentialDistributor(db, sealer, login_url=login_url, external=external)
    if settings.idp == "keycloak":
        verifier = TokenVerifier(settings.oidc_issuer, jwks_url=settings.oidc_jwks_url,
                                 audience=settings.oidc_audience)
    else:
        verifier = TokenVerifier(settings.oidc_issuer, key_source=keys.jwks, audience=settings.oidc_audience)
    return Identity(settings, db, sealer, keys, accounts, issuer, Tenants(db), distributor, verifier)
