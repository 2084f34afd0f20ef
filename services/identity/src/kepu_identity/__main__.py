"""``python -m kepu_identity migrate | serve | relay | worker | seed | distribute``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from kepu_common import telemetry

if TYPE_CHECKING:
    from .app import Identity

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kepu_identity")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate")
    sub.add_parser("serve")
    sub.add_parser("relay")
    sub.add_parser("worker")
    sub.add_parser("seed")
    dist = sub.add_parser(
        "distribute", help="issue credentials for a tenant's descendants (Helm post-install)"
    )
    dist.add_argument("--tenant-code", required=True)
    dist.add_argument("--scope", default="subtree", choices=["children", "subtree"])
    dist.add_argument("--out", help="write the xlsx sheet here")
    dist.add_argument(
        "--secret-name", help="store the sheet in this Kubernetes Secret (in-cluster)"
    )
    args = parser.parse_args(argv)
    telemetry.setup("identity")

    if args.cmd == "migrate":
        from kepu_common.migrations import upgrade

        url = (
            os.environ.get("IDENTITY_MIGRATION_DATABASE_URL") or os.environ["IDENTITY_DATABASE_URL"]
        )
        upgrade(MIGRATIONS, url, os.environ.get("KEPU_APP_ROLE", "kepu_app"))
        return 0
    from .app import build
    from .settings import IdentitySettings

    settings = IdentitySettings()
    ident = build(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    if args.cmd == "seed":
        from . import seed

        base = settings.oidc_issuer.split("/auth/")[0]
        redirects = [u for u in settings.portal_redirect_uris.split(",") if u] or [f"{base}/*"]
        added = seed.seed_tree(ident.db)
        seed.seed_clients(ident.db, redirects)
        user = os.environ.get("DEMO_ADMIN_USER", "henan_admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "Kepu@Henan2026")
        created = seed.seed_admin(ident.db, user, password)
        if os.environ.get("DEMO_PARTNER_SECRET"):
            seed.seed_partner(ident.db, "kepu-demo-bank", os.environ["DEMO_PARTNER_SECRET"])
        print(
            f"seeded {added} tenants; demo admin {'created' if created else 'exists'}: {user}",
            file=sys.stderr,
        )
        return 0
    if args.cmd == "worker":
        return _worker(ident, stop)
    if args.cmd == "relay":
        from kepu_common.outbox import OutboxRelay

        OutboxRelay(
            ident.db, settings.kafka_bootstrap_servers, name="identity", topics=["identity.events"]
        ).run(stop)
        return 0
    if args.cmd == "distribute":
        return _distribute(ident, args)
    return _serve(ident, stop)


def _serve(ident: Identity, stop: threading.Event) -> int:
    import uvicorn
    from kepu.identity.v1 import identity_pb2_grpc as pbg
    from kepu_common.grpcio import bind_host, make_server

    from .grpc_api import CredentialServicer, TenantServicer, UserServicer
    from .oidc import create_oidc_app
    from .partners import PartnerServicer

    s = ident.settings
    server, port = make_server(s.grpc_port)
    pbg.add_TenantServiceServicer_to_server(TenantServicer(ident.verifier, ident.tenants), server)
    pbg.add_CredentialServiceServicer_to_server(
        CredentialServicer(ident.verifier, ident.distributor), server
    )
    pbg.add_UserServiceServicer_to_server(
        UserServicer(ident.verifier, ident.db, ident.tenants), server
    )
    pbg.add_PartnerServiceServicer_to_server(
        PartnerServicer(ident.verifier, ident.partners), server
    )
    server.start()
    ident.keys.current()  # create the first signing key before serving
    app = create_oidc_app(
        db=ident.db,
        accounts=ident.accounts,
        keys=ident.keys,
        issuer_=ident.issuer,
        sealer=ident.sealer,
        issuer=s.oidc_issuer,
    )
    config = uvicorn.Config(
        app, host=bind_host(), port=s.http_port, log_level="warning", access_log=False
    )
    http = uvicorn.Server(config)
    t = threading.Thread(target=http.run, daemon=True)
    t.start()
    print(f"identity: gRPC on {port}, OIDC HTTP on {s.http_port}", file=sys.stderr)
    stop.wait()
    http.should_exit = True
    server.stop(grace=3).wait()
    t.join(5)
    return 0


def _worker(ident: Identity, stop: threading.Event) -> int:
    """Partner webhooks: the consumer records deliveries, the dispatcher sends them."""
    from kepu_common.consumer import IdempotentConsumer

    from . import webhooks

    consumer = IdempotentConsumer(
        ident.db,
        ident.settings.kafka_bootstrap_servers,
        name=webhooks.CONSUMER,
        topics=webhooks.TOPICS,
        handler=webhooks.on_talent_event,
    )
    t = threading.Thread(target=consumer.run, args=(stop,), name="webhook-consumer", daemon=True)
    t.start()
    backoff = float(os.environ.get("WEBHOOK_BACKOFF_SECONDS", "1.0"))
    webhooks.WebhookDispatcher(ident.db, ident.sealer, backoff_seconds=backoff).run(stop)
    t.join(10)
    return 0


def _distribute(ident: Identity, args: argparse.Namespace) -> int:
    """Distribution run by the platform (Helm post-install Job), acting as the tenant's platform admin."""
    from kepu_common.db import Scope
    from kepu_common.tenancy import Principal

    from . import repository as repo

    with ident.db.unit_of_work(Scope.system_scope()) as s:
        t = repo.get_tenant_by_code(s, args.tenant_code)
    if t is None:
        print(f"unknown tenant code {args.tenant_code}", file=sys.stderr)
        return 2
    caller = Principal(
        subject="platform",
        username="platform",
        tenant_id=t.id,
        tenant_path=t.path,
        tenant_kind=t.kind,
        roles=frozenset({"admin", "platform_admin"}),
    )
    res = ident.distributor.distribute(caller, t.id, args.scope)
    if args.out:
        Path(args.out).write_bytes(res.sheet)
    if args.secret_name:
        _store_secret(args.secret_name, res.sheet, res.slips)
    print(f"issued {len(res.issued)} accounts, skipped {res.skipped}", file=sys.stderr)
    return 0


def _store_secret(name: str, sheet: bytes, slips: bytes) -> None:
    """Create a Secret through the in-cluster API (service account token), without extra libraries."""
    import base64
    import json

    import httpx

    sa = Path("/var/run/secrets/kubernetes.io/serviceaccount")
    ns = (sa / "namespace").read_text().strip()
    token = (sa / "token").read_text().strip()
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "data": {
            "credentials.xlsx": base64.b64encode(sheet).decode(),
            "slips.docx": base64.b64encode(slips).decode(),
        },
    }
    r = httpx.post(
        f"https://kubernetes.default.svc/api/v1/namespaces/{ns}/secrets",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        verify=str(sa / "ca.crt"),
    )
    r.raise_for_status()


if __name__ == "__main__":
    sys.exit(main())
