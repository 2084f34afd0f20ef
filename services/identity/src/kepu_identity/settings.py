"""Identity service configuration (environment variables, read once, at start)."""

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
    kepu_app_role: str = Field(default="kepu_app", validation_alias="KEPU_APP_ROLE")
    # The worker's first retry of a failed webhook delivery (then 2x, 4x ...).
    webhook_backoff_seconds: float = Field(default=1.0, validation_alias="WEBHOOK_BACKOFF_SECONDS")
    # ``seed``: the demo admin (and partner) of ``make run``.
    demo_admin_user: str = Field(default="henan_admin", validation_alias="DEMO_ADMIN_USER")
    demo_admin_password: str = Field(
        default="Kepu@Henan2026", validation_alias="DEMO_ADMIN_PASSWORD"
    )
    demo_partner_secret: str = Field(default="", validation_alias="DEMO_PARTNER_SECRET")
    # ``bootstrap-admin``: the installation's first admin, from a one-time Secret.
    bootstrap_admin_user: str = Field(default="", validation_alias="BOOTSTRAP_ADMIN_USER")
    bootstrap_admin_password: str = Field(default="", validation_alias="BOOTSTRAP_ADMIN_PASSWORD")
    # ``distribute --secret-name``: the namespace of the Secret (else the pod's own).
    pod_namespace: str | None = Field(default=None, validation_alias="POD_NAMESPACE")

    @property
    def mfa_required(self) -> bool:
        return self.admin_mfa.lower() == "required"


class ReadinessSettings(BaseSettings):
    """What ``wait-ready`` (an init container with no database or key) reads."""

    model_config = SettingsConfigDict(extra="ignore")

    grpc_target: str = Field(default="", validation_alias="IDENTITY_GRPC_TARGET")
    grpc_port: int = Field(default=50051, validation_alias="IDENTITY_GRPC_PORT")
    idp: str = Field(default="embedded", validation_alias="IDP")
    keycloak_url: str = Field(default="", validation_alias="KEYCLOAK_URL")
    keycloak_realm: str = Field(default="kepu", validation_alias="KEYCLOAK_REALM")

    @property
    def target(self) -> str:
        return self.grpc_target or f"127.0.0.1:{self.grpc_port}"
