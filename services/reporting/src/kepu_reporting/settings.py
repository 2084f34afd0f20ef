"""Configuration of the reporting processes, read once at start from the environment."""

from __future__ import annotations

from kepu_common.settings import CommonSettings


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
