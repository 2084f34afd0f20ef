"""``python -m kepu_assessment migrate | serve | relay | worker``."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from kepu.assessment.v1 import assessment_pb2_grpc, showcase_pb2_grpc, workplans_pb2_grpc
from kepu_common import directory, process
from kepu_common.auth import TokenVerifier
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database
from kepu_common.grpcio import make_server

from . import consumers
from .grpc_api import AssessmentServicer
from .service import TOPIC
from .settings import AssessmentSettings
from .showcase.grpc_api import ShowcaseServicer
from .workplans.grpc_api import WorkPlanServicer

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str]) -> int:
    cfg = AssessmentSettings()

    def serve() -> tuple[grpc.Server, int]:
        verifier = TokenVerifier(
            cfg.oidc_issuer, jwks_url=cfg.oidc_jwks_url, audience=cfg.oidc_audience
        )
        db = Database(cfg.assessment_database_url, pool_size=10)
        server, port = make_server(cfg.assessment_grpc_port, host=cfg.assessment_grpc_host)
        assessment_pb2_grpc.add_AssessmentServiceServicer_to_server(
            AssessmentServicer(verifier, db), server
        )
        workplans_pb2_grpc.add_WorkPlanServiceServicer_to_server(
            WorkPlanServicer(verifier, db, cfg.object_store(), cfg.assessment_evidence_max_bytes),
            server,
        )
        showcase_pb2_grpc.add_ShowcaseServiceServicer_to_server(
            ShowcaseServicer(verifier, db, cfg.object_store()), server
        )
        return server, port

    def tenants_and_metrics(db: Database) -> list[IdempotentConsumer]:
        """The tenants read model and the metric counters automatic indicators are scored from."""
        return [
            directory.tenants_consumer(
                db, cfg.kafka_bootstrap_servers, name=consumers.TENANTS_CONSUMER
            ),
            IdempotentConsumer(
                db,
                cfg.kafka_bootstrap_servers,
                name=consumers.METRICS_CONSUMER,
                topics=consumers.METRIC_TOPICS,
                handler=consumers.handle_metric_event,
            ),
        ]

    return process.run(
        "assessment",
        argv,
        migrations=MIGRATIONS,
        migration_url=cfg.assessment_migration_database_url,
        app_role=cfg.kepu_app_role,
        database_url=cfg.assessment_database_url,
        kafka_bootstrap=cfg.kafka_bootstrap_servers,
        serve=serve,
        relay_topics=[TOPIC],
        read_model=(consumers.TENANTS_CONSUMER, directory.IDENTITY_TOPIC),
        consumers=tenants_and_metrics,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
