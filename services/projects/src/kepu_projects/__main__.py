"""``python -m kepu_projects migrate | serve | relay | worker``."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from kepu.projects.v1 import bases_pb2_grpc, projects_pb2_grpc, resources_pb2_grpc
from kepu_common import directory, process
from kepu_common.auth import TokenVerifier
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database, Scope
from kepu_common.grpcio import make_server

from . import consumers, service
from .bases.grpc_api import BaseServicer
from .crypto import KeyRing
from .grpc_api import ProjectsServicer
from .resources.grpc_api import ResourceServicer
from .service import TOPIC
from .settings import ProjectsSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str]) -> int:
    cfg = ProjectsSettings()

    def serve() -> tuple[grpc.Server, int]:
        verifier = TokenVerifier(
            cfg.oidc_issuer, jwks_url=cfg.oidc_jwks_url, audience=cfg.oidc_audience
        )
        ring = KeyRing.from_config(cfg.projects_data_keys, cfg.projects_secret_key)
        db = Database(cfg.projects_database_url, pool_size=10)
        with db.unit_of_work(Scope.system_scope()) as s:
            service.remask_phones(s, ring)
        server, port = make_server(cfg.projects_grpc_port, host=cfg.projects_grpc_host)
        projects_pb2_grpc.add_ProjectsServiceServicer_to_server(
            ProjectsServicer(verifier, db, ring), server
        )
        resources_pb2_grpc.add_ResourceServiceServicer_to_server(
            ResourceServicer(verifier, db, cfg.object_store(), cfg.projects_resource_max_bytes),
            server,
        )
        bases_pb2_grpc.add_BaseServiceServicer_to_server(BaseServicer(verifier, db), server)
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
        ]

    return process.run(
        "projects",
        argv,
        migrations=MIGRATIONS,
        migration_url=cfg.projects_migration_database_url,
        app_role=cfg.kepu_app_role,
        database_url=cfg.projects_database_url,
        kafka_bootstrap=cfg.kafka_bootstrap_servers,
        serve=serve,
        relay_topics=[TOPIC],
        read_model=(consumers.TENANTS_CONSUMER, directory.IDENTITY_TOPIC),
        consumers=tenants_consumer,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
