"""``python -m kepu_talent migrate | serve | relay | worker``."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from kepu.talent.v1 import talent_pb2_grpc
from kepu_common import grpcio, telemetry
from kepu_common.auth import TokenVerifier
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database
from kepu_common.migrations import upgrade
from kepu_common.outbox import OutboxRelay
from kepu_common.rls import app_role_from_env

from . import consumers
from .app import build
from .service import TOPIC
from .settings import TalentSettings

log = logging.getLogger("kepu_talent")
MIGRATIONS = Path(__file__).parent / "migrations"


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "serve"
    telemetry.setup(f"talent-{command}")
    settings = TalentSettings()
    if command == "migrate":
        upgrade(
            MIGRATIONS,
            settings.migration_database_url or settings.database_url,
            app_role_from_env(),
        )
        return 0
    stop = _stop_event()
    if command == "serve":
        app = build(settings)
        verifier = TokenVerifier(settings.oidc_issuer, jwks_url=settings.oidc_jwks_url)
        server, port = grpcio.make_server(settings.grpc_port, host=settings.grpc_host)
        talent_pb2_grpc.add_TalentServiceServicer_to_server(app.servicer(verifier), server)
        with grpcio.serving(server):
            log.info("talent gRPC serving on %s:%d", settings.grpc_host, port)
            stop.wait()
        return 0
    db = Database(settings.database_url)
    if command == "relay":
        OutboxRelay(db, settings.kafka_bootstrap_servers, name="talent", topics=[TOPIC]).run(stop)
        return 0
    if command == "worker":
        IdempotentConsumer(
            db,
            settings.kafka_bootstrap_servers,
            name=consumers.CONSUMER,
            topics=consumers.TOPICS,
            handler=consumers.on_identity_event,
        ).run(stop)
        return 0
    sys.stderr.write("usage: python -m kepu_talent migrate|serve|relay|worker\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
