"""``python -m kepu_reporting migrate | serve | relay | worker``."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import grpc
from kepu.reporting.v1 import reporting_pb2_grpc, stations_pb2_grpc
from kepu_common import directory, process
from kepu_common.auth import TokenVerifier
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database
from kepu_common.grpcio import make_server

from . import clock as clocks
from . import consumers, reminders
from .grpc_api import ReportingServicer
from .settings import ReportingSettings
from .stations.grpc_api import StationServicer

log = logging.getLogger("kepu_reporting")
MIGRATIONS = Path(__file__).parent / "migrations"


def _clock(cfg: ReportingSettings) -> clocks.Clock:
    return (
        clocks.FileClock(cfg.reporting_clock_file)
        if cfg.reporting_clock_file
        else clocks.SystemClock()
    )


def _remind(cfg: ReportingSettings, db: Database, stop: threading.Event) -> None:
    """The reminder scheduler: runs in the worker beside the tenants consumer."""
    mailer = (
        reminders.SmtpMailer(cfg.smtp_host, cfg.smtp_port, cfg.reporting_mail_from)
        if cfg.smtp_host
        else None
    )
    clock = _clock(cfg)
    while not stop.is_set():
        try:
            made, sent = reminders.run_once(db, clock.now(), mailer)
            if made or sent:
                log.info("reminders: %d recorded, %d e-mailed", made, sent)
        except Exception:
            log.exception("reminder scheduler failed; retrying")
        _wait_for_next_run(clock, cfg.reporting_reminder_interval, stop)


def _wait_for_next_run(clock: clocks.Clock, interval: float, stop: threading.Event) -> None:
    """Wait out the interval; a test that moves its file clock (or sets it to now) gets the
    notices due at the new instant within a second instead of at the next run."""
    if not isinstance(clock, clocks.FileClock):
        stop.wait(interval)
        return
    seen, end = clock.reading(), time.monotonic() + interval
    while not stop.wait(max(0.0, min(1.0, end - time.monotonic()))):
        if time.monotonic() >= end or clock.reading() != seen:
            return


def main(argv: list[str]) -> int:
    cfg = ReportingSettings()

    def serve() -> tuple[grpc.Server, int]:
        verifier = TokenVerifier(
            cfg.oidc_issuer, jwks_url=cfg.oidc_jwks_url, audience=cfg.oidc_audience
        )
        db = Database(cfg.reporting_database_url, pool_size=10)
        server, port = make_server(cfg.reporting_grpc_port, host=cfg.reporting_grpc_host)
        reporting_pb2_grpc.add_ReportingServiceServicer_to_server(
            ReportingServicer(verifier, db, _clock(cfg)), server
        )
        stations_pb2_grpc.add_StationServiceServicer_to_server(
            StationServicer(verifier, db), server
        )
        return server, port

    def tenants_consumer(db: Database) -> list[IdempotentConsumer]:
        return [
            directory.tenants_consumer(
                db, cfg.kafka_bootstrap_servers, name=consumers.TENANTS_CONSUMER
            ),
            IdempotentConsumer(
                db,
                cfg.kafka_bootstrap_servers,
                name=consumers.TALENTS_CONSUMER,
                topics=consumers.TALENT_TOPICS,
                handler=consumers.handle_talent_event,
            ),
            IdempotentConsumer(
                db,
                cfg.kafka_bootstrap_servers,
                name=consumers.RESOURCES_CONSUMER,
                topics=consumers.PROJECT_TOPICS,
                handler=consumers.handle_project_event,
            ),
        ]

    return process.run(
        "reporting",
        argv,
        migrations=MIGRATIONS,
        migration_url=cfg.reporting_migration_database_url,
        app_role=cfg.kepu_app_role,
        database_url=cfg.reporting_database_url,
        kafka_bootstrap=cfg.kafka_bootstrap_servers,
        serve=serve,
        relay_topics=["reporting.events"],
        read_model=(consumers.TENANTS_CONSUMER, directory.IDENTITY_TOPIC),
        consumers=tenants_consumer,
        worker_loop=lambda db, stop: _remind(cfg, db, stop),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
