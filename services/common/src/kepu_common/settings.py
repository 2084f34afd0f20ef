"""Configuration read once, at start, from environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    oidc_issuer: str = "http://127.0.0.1:8000/auth/realms/kepu"
    oidc_jwks_url: str | None = None
    oidc_audience: str = "kepu-api"
    kepu_app_role: str = "kepu_app"
    log_level: str = "INFO"
