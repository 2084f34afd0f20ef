"""Gateway configuration (environment variables, read once)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    port: int = Field(default=8000, validation_alias="GATEWAY_PORT")
    host: str = Field(default="127.0.0.1", validation_alias="GATEWAY_HOST")
    # Worker processes (uvicorn); no session lives in a worker (see __main__ for what does).
    workers: int = Field(default=2, ge=1, le=64, validation_alias="GATEWAY_WORKERS")
    oidc_issuer: str = Field(
        default="http://127.0.0.1:8000/auth/realms/kepu", validation_alias="OIDC_ISSUER"
    )
    oidc_jwks_url: str | None = Field(default=None, validation_alias="OIDC_JWKS_URL")
    oidc_audience: str = Field(default="kepu-api", validation_alias="OIDC_AUDIENCE")
    # The identity service's HTTP endpoints: the embedded provider and the account password API.
    identity_http_url: str = Field(
        default="http://127.0.0.1:8081", validation_alias="IDENTITY_HTTP_URL"
    )
    # Where ``/auth/*`` is proxied: the embedded provider (default: identity) or Keycloak served
    # under ``/auth`` (``--http-relative-path=/auth``). The account password API always goes to
    # identity, which enforces the policy and sets the password in Keycloak.
    auth_upstream_url: str = Field(default="", validation_alias="AUTH_UPSTREAM_URL")

    @property
    def auth_url(self) -> str:
        return self.auth_upstream_url or self.identity_http_url

    max_body_bytes: int = Field(default=50 * 1024 * 1024, validation_alias="GATEWAY_MAX_BODY_BYTES")
    rate_limit_per_minute: int = Field(
        default=1200, validation_alias="GATEWAY_RATE_LIMIT_PER_MINUTE"
    )
    # The reverse proxies / load balancers in front of the gateway (CIDRs, comma-separated):
    # only their X-Forwarded-For is believed. Empty (the default): the TCP peer is the client.
    trusted_proxies: str = Field(default="", validation_alias="GATEWAY_TRUSTED_PROXIES")
