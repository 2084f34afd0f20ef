"""``python -m kepu_identity migrate | serve | relay | worker | seed | bootstrap-admin | wait-ready | distribute``.

The install of the Helm chart runs, in this order: ``migrate`` and ``seed --no-demo``
(pre-install hooks), then ``wait-ready`` + ``bootstrap-admin`` and ``wait-ready`` +
``distribute`` (post-install hooks). ``make run`` runs ``migrate`` and ``seed``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kepu_common import metrics, telemetry

if TYPE_CHECKING:
    from .app import Identity
    from .seed import BootstrapTenant
    from .settings import IdentitySettings

MIGRATIONS = Path(__file__).parent / "migrations"
_LONG_RUNNING = ("serve", "relay", "worker")
log = logging.getLogger("kepu_identity")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kepu_identity")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate")
    sub.add_parser("serve")
    sub.add_parser("relay")
    sub.add_parser("worker")
    seed = sub.add_parser("seed", help="the tenant tree, the realm clients and the demo admin")
    seed.add_argument(
        "--no-demo",
        action="store_true",
        help="only the tenant tree and the clients: no demo admin, no demo partner (installs)",
    )
    boot = sub.add_parser(
        "bootstrap-admin",
        help="the first admin of a tenant from BOOTSTRAP_ADMIN_USER/_PASSWORD (must change it)",
    )
    boot.add_argument("--tenant-code", default="410000")
    wait = sub.add_parser(
        "wait-ready",
        help="wait for the identity service (and the Keycloak realm with IDP=keycloak)",
    )
    wait.add_argument("--timeout", type=float, default=600, help="seconds")
    dist = sub.add_parser(
        "distribute", help="issue credentials for a tenant's descendants (Helm post-install)"
    )
    dist.add_argument("--tenant-code", required=True)
    dist.add_argument("--scope", default="subtree", choices=["children", "subtree"])
    dist.add_argument("--out", help="write the xlsx sheet here")
    dist.add_argument(
        "--secret-name", help="store the sheet in this Kubernetes Secret (in-cluster)"
    )
    dist.add_argument(
        "--output-dir",
        help="write the Secret into this folder (<dir>/<secret-name>/) instead of the API server",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.cmd == "distribute" and args.output_dir and not args.secret_name:
        parser.error("--output-dir needs --secret-name")
    telemetry.setup("identity", role=args.cmd, serve_metrics=args.cmd in _LONG_RUNNING)

    if args.cmd == "migrate":
        from kepu_common.migrations import upgrade

        url = (
            os.environ.get("IDENTITY_MIGRATION_DATABASE_URL") or os.environ["IDENTITY_DATABASE_URL"]
        )
        upgrade(MIGRATIONS, url, os.environ.get("KEPU_APP_ROLE", "kepu_app"))
        return 0
    if args.cmd == "wait-ready":
        return _wait_ready(args.timeout)
    from .settings import IdentitySettings

    settings = IdentitySettings()
    if args.cmd == "seed":
        return _seed(settings, demo=not args.no_demo)
    if args.cmd == "bootstrap-admin":
        return _bootstrap_admin(settings, args.tenant_code)

    from .app import build

    ident = build(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
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


def _seed(settings: IdentitySettings, *, demo: bool) -> int:
    from kepu_common.db import Database

    from . import seed
    from .app import keycloak_provisioner, mirror_account
    from .realm import portal_redirect_uris

    db = Database(settings.database_url)
    base = settings.oidc_issuer.split("/auth/")[0]
    redirects = [u for u in settings.portal_redirect_uris.split(",") if u] or portal_redirect_uris(
        base
    )
    added = seed.seed_tree(db)
    seed.seed_clients(db, redirects)
    if not demo:
        log.info(f"seeded {added} tenants and the realm clients; no demo account")
        return 0
    user = os.environ.get("DEMO_ADMIN_USER", "henan_admin")
    password = os.environ.get("DEMO_ADMIN_PASSWORD", "Kepu@Henan2026")
    created = seed.seed_admin(db, user, password)
    realm = keycloak_provisioner(settings)
    if realm is not None:  # IDP=keycloak: the demo admin signs in at Keycloak
        mirror_account(db, realm, user, password, temporary=False)
    if os.environ.get("DEMO_PARTNER_SECRET"):
        seed.seed_partner(db, "kepu-demo-bank", os.environ["DEMO_PARTNER_SECRET"])
    log.info(f"seeded {added} tenants; demo admin {'created' if created else 'exists'}: {user}")
    return 0


def _bootstrap_admin(settings: IdentitySettings, tenant_code: str) -> int:
    """The installation's first admin, from the one-time bootstrap Secret (Helm post-install)."""
    from kepu_common.db import Database

    from . import seed

    user = os.environ.get("BOOTSTRAP_ADMIN_USER", "")
    password = os.environ.get("BOOTSTRAP_ADMIN_PASSWORD", "")
    if not user or not password:
        log.error(
            "缺少 BOOTSTRAP_ADMIN_USER / BOOTSTRAP_ADMIN_PASSWORD（初始管理员 Secret）",
        )
        return 2
    external = _keycloak_bootstrap(settings) if settings.idp == "keycloak" else None
    try:
        outcome = seed.bootstrap_admin(
            Database(settings.database_url),
            user,
            password,
            tenant_code=tenant_code,
            external=external,
        )
    except LookupError:
        log.error(f"未找到单位代码 {tenant_code}：请先运行 seed --no-demo 初始化单位树")
        return 2
    messages = {
        "created": f"已创建初始管理员 {user}（单位 {tenant_code}），首次登录须修改初始密码",
        "exists": f"初始管理员 {user} 已存在，未做任何修改（不会重置其密码）",
        "tenant_has_admin": f"单位 {tenant_code} 已有管理员账号，未创建 {user}",
    }
    log.info(messages[outcome])
    return 0


def _keycloak_bootstrap(settings: IdentitySettings) -> Callable[[BootstrapTenant, str, str], None]:
    """The first admin in the Keycloak realm: temporary password, an existing user untouched."""
    from . import seed
    from .app import keycloak_provisioner

    provisioner = keycloak_provisioner(settings)
    assert provisioner is not None

    def external(tenant: BootstrapTenant, username: str, password: str) -> None:
        provisioner.ensure_account(username, password, tenant, seed.ADMIN_ROLES)

    return external


def _wait_ready(timeout: float) -> int:
    from . import readiness

    target = os.environ.get("IDENTITY_GRPC_TARGET") or (
        f"127.0.0.1:{os.environ.get('IDENTITY_GRPC_PORT', '50051')}"
    )
    dependencies = [readiness.identity_serving(target)]
    if os.environ.get("IDP", "embedded") == "keycloak":
        dependencies.append(
            readiness.realm_answers(
                os.environ["KEYCLOAK_URL"], os.environ.get("KEYCLOAK_REALM", "kepu")
            )
        )
    ready = readiness.wait_until_ready(dependencies, timeout, log=log.info)
    return 0 if ready else 1


def _serve(ident: Identity, stop: threading.Event) -> int:
    import uvicorn
    from kepu.identity.v1 import identity_pb2_grpc as pbg
    from kepu_common.grpcio import bind_host, make_server
    from kepu_common.health import HealthWatch

    from .grpc_api import CredentialServicer, PartnerServicer, TenantServicer, UserServicer
    from .oidc import create_oidc_app

    s = ident.settings
    server, port = make_server(s.grpc_port)
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
    HealthWatch().start(stop)  # NOT_SERVING while identity's database is unreachable
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
        app,
        host=bind_host(),
        port=s.http_port,
        log_level="warning",
        access_log=False,
        log_config=None,  # uvicorn's lines go through kepu_common.logs (JSON) too
    )
    http = uvicorn.Server(config)
    t = threading.Thread(target=http.run, daemon=True)
    t.start()
    log.info(f"identity: gRPC on {port}, OIDC HTTP on {s.http_port}")
    stop.wait()
    http.should_exit = True
    server.stop(grace=3).wait()
    t.join(5)
    return 0


def _worker(ident: Identity, stop: threading.Event) -> int:
    """Partner webhooks (the consumer records deliveries, the dispatcher sends them) and the
    audit feeds (other services' audited events and, with Keycloak, its sign-in events become
    audit rows)."""
    from kepu_common.consumer import IdempotentConsumer

    from . import audit, webhooks
    from .app import keycloak_provisioner
    from .keycloak_events import KeycloakEventFeed

    feed = IdempotentConsumer(
        ident.db,
        ident.settings.kafka_bootstrap_servers,
        name=audit.CONSUMER,
        topics=audit.TOPICS,
        handler=audit.on_service_event,
    )
    f = threading.Thread(target=feed.run, args=(stop,), name="audit-feed", daemon=True)
    f.start()
    realm = keycloak_provisioner(ident.settings)
    if realm is not None:  # Keycloak's sign-in events into the same audit log
        sign_ins = KeycloakEventFeed(ident.db, realm)
        threading.Thread(
            target=sign_ins.run, args=(stop,), name="keycloak-events", daemon=True
        ).start()

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
    webhooks.WebhookDispatcher(
        ident.db, ident.sealer, backoff_seconds=backoff, egress=ident.partners.egress
    ).run(stop)
    t.join(10)
    f.join(10)
    return 0


def _distribute(ident: Identity, args: argparse.Namespace) -> int:
    """Distribution run by the platform (Helm post-install Job), acting as the tenant's platform admin.

    Safe to rerun: with no account to issue or deliver it changes nothing; a sheet goes
    to the Secret before its passwords are wiped, so a failed store is delivered again.
    """
    from kepu_common.db import Scope
    from kepu_common.tenancy import Principal

    from . import repository as repo
    from . import sheet_store
    from .credentials import DistributionResult

    with ident.db.unit_of_work(Scope.system_scope()) as s:
        t = repo.get_tenant_by_code(s, args.tenant_code)
    if t is None:
        log.error(f"未找到单位代码 {args.tenant_code}：请先运行 seed --no-demo 初始化单位树")
        return 2
    caller = Principal(
        subject="platform",
        username="platform",
        tenant_id=t.id,
        tenant_path=t.path,
        tenant_kind=t.kind,
        roles=frozenset({"admin", "platform_admin"}),
    )
    if ident.distributor.outstanding(caller, t.id, args.scope) == 0:
        log.info(f"{t.name}的下级单位都已有管理员账号：本次未分配，凭据表保持不变")
        return 0
    store: sheet_store.SecretStore | None = None
    if args.secret_name:
        store = (
            sheet_store.DirectorySecretStore(Path(args.output_dir))
            if args.output_dir
            else sheet_store.KubernetesSecretStore.in_cluster(os.environ.get("POD_NAMESPACE"))
        )
    stored: list[str] = []

    def deliver(res: DistributionResult) -> None:
        if args.out:
            Path(args.out).write_bytes(res.sheet)
        if store is not None:
            files = {"credentials.xlsx": res.sheet, "slips.docx": res.slips}
            stored.append(sheet_store.store_sheet(store, args.secret_name, files, res.batch_id))

    with metrics.timed(metrics.distribution_duration, scope=args.scope):
        res = ident.distributor.distribute(caller, t.id, args.scope, deliver=deliver)
    where = f"；凭据表 Secret {args.secret_name}：{stored[0]}" if stored else ""
    log.info(f"已分配 {len(res.issued)} 个账号，已有管理员 {res.skipped} 个{where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
