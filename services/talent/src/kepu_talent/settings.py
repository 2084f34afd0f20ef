"""Talent service configuration (environment variables, read once at start)."""

from __future__ import annotations

import base64
import hashlib

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .crypto import DEV_DATA_KEYS, DEV_HMAC_KEY


class TalentSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="postgresql://kepu_app@127.0.0.1:5432/talent",
        validation_alias="TALENT_DATABASE_URL",
    )
    migration_database_url: str | None = Field(
        default=None, validation_alias="TALENT_MIGRATION_DATABASE_URL"
    )
    grpc_port: int = Field(default=50052, validation_alias="TALENT_GRPC_PORT")
    grpc_host: str = Field(default="127.0.0.1", validation_alias="TALENT_GRPC_HOST")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    oidc_issuer: str = Field(
        default="http://127.0.0.1:8000/auth/realms/kepu", validation_alias="OIDC_ISSUER"
    )
    oidc_jwks_url: str | None = Field(default=None, validation_alias="OIDC_JWKS_URL")
    # "1:<base64 32 bytes>,2:<base64 32 bytes>": the highest version encrypts new values.
    # Without it, TALENT_SECRET_KEY (base64 of 32 bytes) is key version 1; without both,
    # a fixed development key is used (local runs and tests only).
    data_keys: str = Field(default="", validation_alias="TALENT_DATA_KEYS")
    hmac_key: str = Field(default="", validation_alias="TALENT_HMAC_KEY")
    secret_key: str = Field(default="", validation_alias="TALENT_SECRET_KEY")
    # Object store for archive attachments: "fs" (a directory) or "s3" (S3-compatible).
    object_store: str = Field(default="fs", validation_alias="TALENT_OBJECT_STORE")
    object_store_path: str = Field(
        default=".var/objects",
        validation_alias=AliasChoices("TALENT_OBJECT_STORE_PATH", "OBJECT_STORE_DIR"),
    )
    s3_endpoint: str = Field(default="", validation_alias="TALENT_S3_ENDPOINT")
    s3_bucket: str = Field(default="kepu-talent", validation_alias="TALENT_S3_BUCKET")
    s3_access_key: str = Field(default="", validation_alias="TALENT_S3_ACCESS_KEY")
    s3_secret_key: str = Field(default="", validation_alias="TALENT_S3_SECRET_KEY")
    s3_region: str = Field(default="us-east-1", validation_alias="TALENT_S3_REGION")
    attachment_max_bytes: int = Field(
        default=50 * 1024 * 1024, validation_alias="TALENT_ATTACHMENT_MAX_BYTES"
    )
    import_max_rows: int = Field(default=20000, validation_alias="TALENT_IMPORT_MAX_ROWS")
    import_max_bytes: int = Field(
        default=20 * 1024 * 1024, validation_alias="TALENT_IMPORT_MAX_BYTES"
    )
    quota_county: int = Field(default=100, validation_alias="TALENT_QUOTA_COUNTY")
    quota_city: int = Field(default=1000, validation_alias="TALENT_QUOTA_CITY")
    quota_province: int = Field(default=10000, validation_alias="TALENT_QUOTA_PROVINCE")

    @property
    def resolved_data_keys(self) -> str:
        if self.data_keys:
            return self.data_keys
        return f"1:{self.secret_key}" if self.secret_key else DEV_DATA_KEYS

    @property
    def resolved_hmac_key(self) -> str:
        if self.hmac_key:
            return self.hmac_key
        if self.secret_key:
            derived = hashlib.sha256(b"kepu-talent-hmac:" + base64.b64decode(self.secret_key))
            return base64.b64encode(derived.digest()).decode()
        return DEV_HMAC_KEY

    @property
    def quotas(self) -> dict[str, int]:
        return {
            "county": self.quota_county,
            "city": self.quota_city,
            "province": self.quota_province,
        }
