"""Identity service configuration (environment variables, read once)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Token lifetimes of the embedded provider and of the Keycloak realm (``realm.py``).
ACCESS_TOKEN_SECONDS = 300  # 5-minute access tokens
SESSION_IDLE_SECONDS = 1800  # 30-minute idle SSO session


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(validation_alias="IDENTITY_DATABASE_URL")
    migration_database_url: str | None = Field(
        default=None, validation_alias="IDENTITY_MIGRATION_DATABASE_URL"
    )
    grpc_port: int = Field(default=50051, validation_alias="IDENTITY_GRPC_PORT")
    http_port: int = Field(default=8081, validation_alias="IDENTITY_HTTP_PORT")
    # Base64 of 32 random bytes: seals TOTP secrets, signing keys and pending initial passwords.
    secret_key: str = Field(validation_alias="IDENTITY_SECRET_KEY")
    # The public issuer, as browsers and scripts see it (through the gateway).
    oidc_issuer: str = Field(
        default="http://127.0.0.1:8000/auth/realms/kepu", validation_alias="OIDC_ISSUER"
    )
    oidc_jwks_url: str | None = Field(default=None, validation_alias="OIDC_JWKS_URL")
    oidc_audience: str = Field(default="kepu-api", validation_alias="OIDC_AUDIENCE")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    idp: str = Field(default="embedded", validation_alias="IDP")  # embedded | keycloak
    admin_mfa: str = Field(default="required", validation_alias="ADMIN_MFA")  # required | optional
    access_token_seconds: int = Field(
        default=ACCESS_TOKEN_SECONDS, validation_alias="ACCESS_TOKEN_SECONDS"
    )
    session_idle_seconds: int = Field(
        default=SESSION_IDLE_SECONDS, validation_alias="SESSION_IDLE_SECONDS"
    )
    key_rotation_hours: float = Field(default=24.0, validation_alias="KEY_ROTATION_HOURS")
    portal_redirect_uris: str = Field(default="", validation_alias="PORTAL_REDIRECT_URIS")
    # Private networks webhooks may reach (CIDRs, comma-separated), e.g. an on-premise bank;
    # empty: public addresses only (no loopback, private, link-local or metadata addresses).
    webhook_allowed_networks: str = Field(default="", validation_alias="WEBHOOK_ALLOWED_NETWORKS")
    keycloak_url: str = Field(default="", validation_alias="KEYCLOAK_URL")
    keycloak_realm: str = Field(default="kepu", validation_alias="KEYCLOAK_REALM")
    keycloak_admin_user: str = Field(default="admin", validation_alias="KEYCLOAK_ADMIN_USER")
    keycloak_admin_password: str = Field(default="", validation_alias="KEYCLOAK_ADMIN_PASSWORD")

    @property
    def mfa_required(self) -> bool:
        return self.admin_mfa.lower() == "required"
