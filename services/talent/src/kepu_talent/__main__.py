"""``python -m kepu_talent migrate | serve | relay | worker`` (``serve`` when omitted)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import grpc
from kepu.talent.v1 import talent_pb2_grpc, volunteers_pb2_grpc
from kepu_common import directory, grpcio, process
from kepu_common.auth import TokenVerifier
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database, Scope
from kepu_common.rls import app_role_from_env

from . import consumers, repository
from .app import build
from .crypto import KeyRing
from .service import TOPIC
from .settings import TalentSettings
from .volunteers.grpc_api import VolunteerServicer

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str]) -> int:
    settings = TalentSettings()

    def serve() -> tuple[grpc.Server, int]:
        app = build(settings)
        verifier = TokenVerifier(settings.oidc_issuer, jwks_url=settings.oidc_jwks_url)
        server, port = grpcio.make_server(settings.grpc_port, host=settings.grpc_host)
        talent_pb2_grpc.add_TalentServiceServicer_to_server(app.servicer(verifier), server)
        keys = KeyRing.from_config(settings.resolved_data_keys, settings.resolved_hmac_key)
        volunteers_pb2_grpc.add_VolunteerServiceServicer_to_server(
            VolunteerServicer(verifier, app.db, keys), server
        )
        return server, port

    def tenants_consumer(db: Database) -> list[IdempotentConsumer]:
        """The tenants read model, and the talent quotas that assessment allocations set."""
        return [
            directory.tenants_consumer(
                db,
                settings.kafka_bootstrap_servers,
                name=consumers.CONSUMER,
                path_column=consumers.PATH_COLUMN,
            ),
            IdempotentConsumer(
                db,
                settings.kafka_bootstrap_servers,
                name=consumers.QUOTAS_CONSUMER,
                topics=consumers.QUOTA_TOPICS,
                handler=consumers.on_assessment_event,
            ),
        ]

    def sweep_stale_imports(db: Database, stop: threading.Event) -> None:
        while not stop.wait(60):
            with db.unit_of_work(Scope.system_scope()) as s:
                repository.fail_stale_imports(s)

    return process.run(
        "talent",
        argv,
        migrations=MIGRATIONS,
        migration_url=settings.migration_database_url or settings.database_url,
        app_role=app_role_from_env(),
        database_url=settings.database_url,
        kafka_bootstrap=settings.kafka_bootstrap_servers,
        serve=serve,
        relay_topics=[TOPIC],
        read_model=(consumers.CONSUMER, directory.IDENTITY_TOPIC),
        consumers=tenants_consumer,
        worker_loop=sweep_stale_imports,
        default_command="serve",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
