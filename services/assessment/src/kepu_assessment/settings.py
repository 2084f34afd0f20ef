"""Configuration of the assessment processes, read once at start from the environment."""

from __future__ import annotations

from kepu_common.objects import ObjectStore, open_store
from kepu_common.settings import CommonSettings
from pydantic import AliasChoices, Field


class AssessmentSettings(CommonSettings):
    assessment_database_url: str = "postgresql://kepu_app:kepu@127.0.0.1:5432/assessment"
    assessment_migration_database_url: str = (
        "postgresql://kepu_owner:kepu@127.0.0.1:5432/assessment"
    )
    assessment_grpc_port: int = 50056
    assessment_grpc_host: str = "127.0.0.1"
    # Object store for work-plan evidence files: "fs" (a directory) or "s3" (S3-compatible).
    assessment_object_store: str = "fs"
    assessment_object_store_path: str = Field(
        default=".var/objects",
        validation_alias=AliasChoices("ASSESSMENT_OBJECT_STORE_PATH", "OBJECT_STORE_DIR"),
    )
    assessment_s3_endpoint: str = ""
    assessment_s3_bucket: str = "kepu-assessment"
    assessment_s3_access_key: str = ""
    assessment_s3_secret_key: str = ""
    assessment_s3_region: str = "us-east-1"
    assessment_evidence_max_bytes: int = 20 * 1024 * 1024

    def object_store(self) -> ObjectStore:
        return open_store(
            self.assessment_object_store,
            self.assessment_object_store_path,
            endpoint=self.assessment_s3_endpoint,
            bucket=self.assessment_s3_bucket,
            access_key=self.assessment_s3_access_key,
            secret_key=self.assessment_s3_secret_key,
            region=self.assessment_s3_region,
        )
