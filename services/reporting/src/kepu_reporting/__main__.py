"""``python -m kepu_reporting migrate | serve | relay | worker``."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from kepu.reporting.v1 import reporting_pb2_grpc
from kepu_common import telemetry
from kepu_common.auth import TokenVerifier
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database
from kepu_common.grpcio import make_server
from kepu_common.migrations import upgrade
from kepu_common.outbox import OutboxRelay

from . import clock as clocks
from . import consumers, reminders
from .grpc_api import ReportingServicer
from .settings import ReportingSettings

log = logging.getLogger("kepu_reporting")
MIGRATIONS = Path(__file__).parent / "migrations"


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _clock(cfg: ReportingSettings) -> clocks.Clock:
    return (
        clocks.FileClock(cfg.reporting_clock_file)
        if cfg.reporting_clock_file
        else clocks.SystemClock()
    )


def serve(cfg: ReportingSettings) -> None:
    verifier = TokenVerifier(
        cfg.oidc_issuer, jwks_url=cfg.oidc_jwks_url, audience=cfg.oidc_audience
    )
    db = Database(cfg.reporting_database_url, pool_size=10)
    server, port = make_server(cfg.reporting_grpc_port, host=cfg.reporting_grpc_host)
    reporting_pb2_grpc.add_ReportingServiceServicer_to_server(
        ReportingServicer(verifier, db, _clock(cfg)), server
    )
    server.start()
    log.info("reporting gRPC serving on port %s", port)
    _stop_event().wait()
    server.stop(grace=3).wait()
    db.dispose()


def relay(cfg: ReportingSettings) -> None:
    db = Database(cfg.reporting_database_url)
    OutboxRelay(db, cfg.kafka_bootstrap_servers, name="reporting", topics=["reporting.events"]).run(
        _stop_event()
    )


def worker(cfg: ReportingSettings) -> None:
    """The tenants read-model consumer and the reminder scheduler."""
    db = Database(cfg.reporting_database_url)
    stop = _stop_event()
    consumer = IdempotentConsumer(
        db,
        cfg.kafka_bootstrap_servers,
        name=consumers.TENANTS_CONSUMER,
        topics=["identity.events"],
        handler=consumers.handle_identity_event,
    )
    thread = threading.Thread(target=consumer.run, args=(stop,), name="tenants", daemon=True)
    thread.start()
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
        stop.wait(cfg.reporting_reminder_interval)
    thread.join(timeout=10)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    cfg = ReportingSettings()
    telemetry.setup("reporting")
    if command == "migrate":
        upgrade(MIGRATIONS, cfg.reporting_migration_database_url, cfg.kepu_app_role)
    elif command == "serve":
        serve(cfg)
    elif command == "relay":
        relay(cfg)
    elif command == "worker":
        worker(cfg)
    else:
        print("usage: python -m kepu_reporting migrate|serve|relay|worker", file=sys.stderr)  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
