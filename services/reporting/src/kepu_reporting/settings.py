"""Configuration of the reporting processes, read once at start from the environment."""

from __future__ import annotations

from kepu_common.objects import EVIDENCE_MAX_BYTES, ObjectStore, open_store
from kepu_common.settings import CommonSettings
from pydantic import AliasChoices, Field


class ReportingSettings(CommonSettings):
    reporting_database_url: str = "postgresql://kepu_app:kepu@127.0.0.1:5432/reporting"
    reporting_migration_database_url: str = "postgresql://kepu_owner:kepu@127.0.0.1:5432/reporting"
    reporting_grpc_port: int = 50054
    reporting_grpc_host: str = "127.0.0.1"
    reporting_reminder_interval: float = 300.0  # seconds between scheduler runs
    reporting_mail_from: str = "kepu-cloud@localhost"
    reporting_clock_file: str | None = None  # end-to-end tests only: file holding "now"
    smtp_host: str | None = None  # no e-mail (in-app notices only) when unset
    smtp_port: int = 25
    # Object store for e站 evidence files: "fs" (a directory) or "s3" (S3-compatible).
    reporting_object_store: str = "fs"
    reporting_object_store_path: str = Field(
        default=".var/objects",
        validation_alias=AliasChoices("REPORTING_OBJECT_STORE_PATH", "OBJECT_STORE_DIR"),
    )
    reporting_s3_endpoint: str = ""
    reporting_s3_bucket: str = "kepu-reporting"
    reporting_s3_access_key: str = ""
    reporting_s3_secret_key: str = ""
    reporting_s3_region: str = "us-east-1"
    reporting_evidence_max_bytes: int = EVIDENCE_MAX_BYTES

    def object_store(self) -> ObjectStore:
        return open_store(
            self.reporting_object_store,
            self.reporting_object_store_path,
            endpoint=self.reporting_s3_endpoint,
            bucket=self.reporting_s3_bucket,
            access_key=self.reporting_s3_access_key,
            secret_key=self.reporting_s3_secret_key,
            region=self.reporting_s3_region,
        )
