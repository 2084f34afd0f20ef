"""Configuration of the projects processes, read once at start from the environment."""

from __future__ import annotations

from kepu_common.settings import CommonSettings


class ProjectsSettings(CommonSettings):
    projects_database_url: str = "postgresql://kepu_app:kepu@127.0.0.1:5432/projects"
    projects_migration_database_url: str = "postgresql://kepu_owner:kepu@127.0.0.1:5432/projects"
    projects_grpc_port: int = 50055
    projects_grpc_host: str = "127.0.0.1"
    # base64 of 32 bytes (key version 1); PROJECTS_DATA_KEYS="1:<b64>,2:<b64>" rotates keys
    # (the highest version encrypts). Without both, a fixed development key is used.
    projects_secret_key: str = ""
    projects_data_keys: str = ""
