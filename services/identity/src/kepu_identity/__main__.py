"""``python -m kepu_identity migrate | serve | relay | worker`` (``kepu_common.process``), and
the install steps ``seed | bootstrap-admin | wait-ready | distribute`` (``install``).

``serve`` answers gRPC and, beside it, the embedded OpenID Connect provider over HTTP; the
``worker`` runs the audit feed and the partner webhooks (consumers and dispatcher) and, with
Keycloak, the feed of its sign-in events.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import grpc
import uvicorn
from kepu.identity.v1 import identity_pb2_grpc as pbg
from kepu_common import process
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database
from kepu_common.grpcio import bind_host, make_server

from . import consumers, install, webhooks
from .app import Identity, build, keycloak_provisioner
from .crypto import Sealer
from .egress import Egress
from .grpc_api import CredentialServicer, PartnerServicer, TenantServicer, UserServicer
from .keycloak_events import KeycloakEventFeed
from .settings import IdentitySettings

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("kepu_identity")


def _serve_oidc(ident: Identity, server: grpc.Server) -> None:
    """The provider's HTTP server in its own thread, stopped once the gRPC server has stopped
    (the thread is not a daemon: the process ends after uvicorn has closed its connections)."""
    config = uvicorn.Config(
        ident.oidc_app(),
        host=bind_host(),
        port=ident.settings.http_port,
        log_level="warning",
        access_log=False,
        log_config=None,  # uvicorn's lines go through kepu_common.logs (JSON) too
    )
    http = uvicorn.Server(config)

    def stop_with_grpc() -> None:
        server.wait_for_termination()
        http.should_exit = True

    threading.Thread(target=http.run, name="oidc-http").start()
    threading.Thread(target=stop_with_grpc, name="oidc-http-stop", daemon=True).start()
    log.info(f"identity: OIDC HTTP on {ident.settings.http_port}")


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] in install.COMMANDS:
        return install.main(argv[1:])
    if len(argv) < 2 or argv[1] not in process.COMMANDS:
        sys.stderr.write(
            f"usage: python -m kepu_identity {'|'.join(process.COMMANDS + install.COMMANDS)}\n"
        )
        return 2
    cfg = IdentitySettings()

    def serve() -> tuple[grpc.Server, int]:
        ident = build(cfg)
        server, port = make_server(cfg.grpc_port)
        pbg.add_TenantServiceServicer_to_server(TenantServicer(ident.verifier, ident.db), server)
        pbg.add_CredentialServiceServicer_to_server(
            CredentialServicer(ident.verifier, ident.distributor), server
        )
        pbg.add_UserServiceServicer_to_server(
            UserServicer(ident.verifier, ident.db, realm=ident.realm), server
        )
        pbg.add_PartnerServiceServicer_to_server(
            PartnerServicer(ident.verifier, ident.partners), server
        )
        ident.keys.current()  # create the first signing key before serving
        _serve_oidc(ident, server)
        return server, port

    def feeds(db: Database) -> list[IdempotentConsumer]:
        """Other services' audited events become audit rows; partner notices, deliveries."""
        return [
            IdempotentConsumer(
                db, cfg.kafka_bootstrap_servers, name=name, topics=topics, handler=handler
            )
            for name, topics, handler in consumers.FEEDS
        ]

    sign_ins: list[threading.Thread] = []

    def deliver_webhooks(db: Database, stop: threading.Event) -> None:
        """The webhook dispatcher and, with Keycloak, the feed of its sign-in events (started
        once, however often the dispatcher is restarted)."""
        realm = keycloak_provisioner(cfg)
        if realm is not None and not sign_ins:
            feed = KeycloakEventFeed(db, realm)
            sign_ins.append(
                threading.Thread(target=feed.run, args=(stop,), name="keycloak-events", daemon=True)
            )
            sign_ins[0].start()
        webhooks.WebhookDispatcher(
            db,
            Sealer(cfg.secret_key),
            backoff_seconds=cfg.webhook_backoff_seconds,
            egress=Egress.parse(cfg.webhook_allowed_networks),
        ).run(stop)

    return process.run(
        "identity",
        argv,
        migrations=MIGRATIONS,
        migration_url=cfg.migration_database_url or cfg.database_url,
        app_role=cfg.kepu_app_role,
        database_url=cfg.database_url,
        kafka_bootstrap=cfg.kafka_bootstrap_servers,
        serve=serve,
        relay_topics=["identity.events"],
        consumers=feeds,
        worker_loop=deliver_webhooks,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
