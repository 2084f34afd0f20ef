"""Configuration of the projects processes, read once at start from the environment."""

from __future__ import annotations

from kepu_common.objects import ObjectStore, open_store
from kepu_common.settings import CommonSettings
from pydantic import AliasChoices, Field

from .resources.domain import RESOURCE_MAX_BYTES


class ProjectsSettings(CommonSettings):
    projects_database_url: str = "postgresql://kepu_app:kepu@127.0.0.1:5432/projects"
    projects_migration_database_url: str = "postgresql://kepu_owner:kepu@127.0.0.1:5432/projects"
    projects_grpc_port: int = 50055
    projects_grpc_host: str = "127.0.0.1"
    # base64 of 32 bytes (key version 1); PROJECTS_DATA_KEYS="1:<b64>,2:<b64>" rotates keys
    # (the highest version encrypts). Without both, a fixed development key is used.
    projects_secret_key: str = ""
    projects_data_keys: str = ""
    # Object store for the resource library's files: "fs" (a directory) or "s3".
    projects_object_store: str = "fs"
    projects_object_store_path: str = Field(
        default=".var/objects",
        validation_alias=AliasChoices("PROJECTS_OBJECT_STORE_PATH", "OBJECT_STORE_DIR"),
    )
    projects_s3_endpoint: str = ""
    projects_s3_bucket: str = "kepu-projects"
    projects_s3_access_key: str = ""
    projects_s3_secret_key: str = ""
    projects_s3_region: str = "us-east-1"
    projects_resource_max_bytes: int = RESOURCE_MAX_BYTES

    def object_store(self) -> ObjectStore:
        return open_store(
            self.projects_object_store,
            self.projects_object_store_path,
            endpoint=self.projects_s3_endpoint,
            bucket=self.projects_s3_bucket,
            access_key=self.projects_s3_access_key,
            secret_key=self.projects_s3_secret_key,
            region=self.projects_s3_region,
        )
