"""Configuration of the assessment processes, read once at start from the environment."""

from __future__ import annotations

from kepu_common.settings import CommonSettings


class AssessmentSettings(CommonSettings):
    assessment_database_url: str = "postgresql://kepu_app:kepu@127.0.0.1:5432/assessment"
    assessment_migration_database_url: str = (
        "postgresql://kepu_owner:kepu@127.0.0.1:5432/assessment"
    )
    assessment_grpc_port: int = 50056
    assessment_grpc_host: str = "127.0.0.1"
