"""``python -m kepu_projects migrate | serve | relay | worker``."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from kepu.projects.v1 import projects_pb2_grpc
from kepu_common import telemetry
from kepu_common.auth import TokenVerifier
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database
from kepu_common.grpcio import make_server
from kepu_common.migrations import upgrade
from kepu_common.outbox import OutboxRelay

from . import consumers
from .crypto import KeyRing
from .grpc_api import ProjectsServicer
from .service import TOPIC
from .settings import ProjectsSettings

log = logging.getLogger("kepu_projects")
MIGRATIONS = Path(__file__).parent / "migrations"


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def serve(cfg: ProjectsSettings) -> None:
    verifier = TokenVerifier(
        cfg.oidc_issuer, jwks_url=cfg.oidc_jwks_url, audience=cfg.oidc_audience
    )
    ring = KeyRing.from_config(cfg.projects_data_keys, cfg.projects_secret_key)
    db = Database(cfg.projects_database_url, pool_size=10)
    server, port = make_server(cfg.projects_grpc_port, host=cfg.projects_grpc_host)
    projects_pb2_grpc.add_ProjectsServiceServicer_to_server(
        ProjectsServicer(verifier, db, ring), server
    )
    server.start()
    log.info("projects gRPC serving on port %s", port)
    _stop_event().wait()
    server.stop(grace=3).wait()
    db.dispose()


def relay(cfg: ProjectsSettings) -> None:
    db = Database(cfg.projects_database_url)
    OutboxRelay(db, cfg.kafka_bootstrap_servers, name="projects", topics=[TOPIC]).run(_stop_event())


def worker(cfg: ProjectsSettings) -> None:
    """The tenants read-model consumer."""
    db = Database(cfg.projects_database_url)
    IdempotentConsumer(
        db,
        cfg.kafka_bootstrap_servers,
        name=consumers.TENANTS_CONSUMER,
        topics=["identity.events"],
        handler=consumers.handle_identity_event,
    ).run(_stop_event())


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    cfg = ProjectsSettings()
    telemetry.setup("projects")
    if command == "migrate":
        upgrade(MIGRATIONS, cfg.projects_migration_database_url, cfg.kepu_app_role)
    elif command == "serve":
        serve(cfg)
    elif command == "relay":
        relay(cfg)
    elif command == "worker":
        worker(cfg)
    else:
        print("usage: python -m kepu_projects migrate|serve|relay|worker", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
