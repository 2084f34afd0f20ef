"""``python -m kepu_assessment migrate | serve | relay | worker``."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from kepu.assessment.v1 import assessment_pb2_grpc
from kepu_common import telemetry
from kepu_common.auth import TokenVerifier
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database
from kepu_common.grpcio import make_server
from kepu_common.migrations import upgrade
from kepu_common.outbox import OutboxRelay

from . import consumers
from .grpc_api import AssessmentServicer
from .service import TOPIC
from .settings import AssessmentSettings

log = logging.getLogger("kepu_assessment")
MIGRATIONS = Path(__file__).parent / "migrations"


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def serve(cfg: AssessmentSettings) -> None:
    verifier = TokenVerifier(
        cfg.oidc_issuer, jwks_url=cfg.oidc_jwks_url, audience=cfg.oidc_audience
    )
    db = Database(cfg.assessment_database_url, pool_size=10)
    server, port = make_server(cfg.assessment_grpc_port, host=cfg.assessment_grpc_host)
    assessment_pb2_grpc.add_AssessmentServiceServicer_to_server(
        AssessmentServicer(verifier, db), server
    )
    server.start()
    log.info("assessment gRPC serving on port %s", port)
    _stop_event().wait()
    server.stop(grace=3).wait()
    db.dispose()


def relay(cfg: AssessmentSettings) -> None:
    db = Database(cfg.assessment_database_url)
    OutboxRelay(db, cfg.kafka_bootstrap_servers, name="assessment", topics=[TOPIC]).run(
        _stop_event()
    )


def worker(cfg: AssessmentSettings) -> None:
    """The tenants read model and the metric counters automatic indicators are scored from."""
    db = Database(cfg.assessment_database_url)
    stop = _stop_event()
    runners = [
        IdempotentConsumer(
            db,
            cfg.kafka_bootstrap_servers,
            name=consumers.TENANTS_CONSUMER,
            topics=["identity.events"],
            handler=consumers.handle_identity_event,
        ),
        IdempotentConsumer(
            db,
            cfg.kafka_bootstrap_servers,
            name=consumers.METRICS_CONSUMER,
            topics=consumers.METRIC_TOPICS,
            handler=consumers.handle_metric_event,
        ),
    ]
    threads = [
        threading.Thread(target=c.run, args=(stop,), name=c.name, daemon=True) for c in runners
    ]
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join(timeout=10)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    cfg = AssessmentSettings()
    telemetry.setup("assessment")
    if command == "migrate":
        upgrade(MIGRATIONS, cfg.assessment_migration_database_url, cfg.kepu_app_role)
    elif command == "serve":
        serve(cfg)
    elif command == "relay":
        relay(cfg)
    elif command == "worker":
        worker(cfg)
    else:
        print("usage: python -m kepu_assessment migrate|serve|relay|worker", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
