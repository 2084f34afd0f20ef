"""The install steps of the Helm chart: ``seed | bootstrap-admin | wait-ready | distribute``.

The install runs, in this order: ``migrate`` and ``seed --no-demo`` (pre-install hooks), then
``wait-ready`` + ``bootstrap-admin`` and ``wait-ready`` + ``distribute`` (post-install hooks).
``make run`` runs ``migrate`` and ``seed``. Each step reads its settings once
(``IdentitySettings``; ``wait-ready``, an init container without database or key,
``ReadinessSettings``).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

from kepu_common import metrics, telemetry
from kepu_common.db import Database, Scope
from kepu_common.tenancy import Principal

from . import readiness, seed, sheet_store
from . import repository as repo
from .app import Identity, build, keycloak_provisioner, mirror_account
from .credentials import DistributionResult
from .realm import portal_redirect_uris
from .seed import BootstrapTenant
from .settings import IdentitySettings, ReadinessSettings

COMMANDS = ("seed", "bootstrap-admin", "wait-ready", "distribute")
log = logging.getLogger("kepu_identity")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kepu_identity")
    sub = parser.add_subparsers(dest="cmd", required=True)
    seed_ = sub.add_parser("seed", help="the tenant tree, the realm clients and the demo admin")
    seed_.add_argument(
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


def main(args_: list[str]) -> int:
    """Run one install step; ``args_`` is the command line without the program name."""
    parser = _parser()
    args = parser.parse_args(args_)
    if args.cmd == "distribute" and args.output_dir and not args.secret_name:
        parser.error("--output-dir needs --secret-name")
    telemetry.setup("identity", role=args.cmd, serve_metrics=False)
    if args.cmd == "wait-ready":
        return _wait_ready(ReadinessSettings(), args.timeout)
    settings = IdentitySettings()
    if args.cmd == "seed":
        return _seed(settings, demo=not args.no_demo)
    if args.cmd == "bootstrap-admin":
        return _bootstrap_admin(settings, args.tenant_code)
    return _distribute(build(settings), args)


def _seed(settings: IdentitySettings, *, demo: bool) -> int:
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
    user, password = settings.demo_admin_user, settings.demo_admin_password
    created = seed.seed_admin(db, user, password)
    realm = keycloak_provisioner(settings)
    if realm is not None:  # IDP=keycloak: the demo admin signs in at Keycloak
        mirror_account(db, realm, user, password, temporary=False)
    if settings.demo_partner_secret:
        seed.seed_partner(db, "kepu-demo-bank", settings.demo_partner_secret)
    log.info(f"seeded {added} tenants; demo admin {'created' if created else 'exists'}: {user}")
    return 0


def _bootstrap_admin(settings: IdentitySettings, tenant_code: str) -> int:
    """The installation's first admin, from the one-time bootstrap Secret (Helm post-install)."""
    user, password = settings.bootstrap_admin_user, settings.bootstrap_admin_password
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
    provisioner = keycloak_provisioner(settings)
    assert provisioner is not None

    def external(tenant: BootstrapTenant, username: str, password: str) -> None:
        provisioner.ensure_account(username, password, tenant, seed.ADMIN_ROLES)

    return external


def _wait_ready(settings: ReadinessSettings, timeout: float) -> int:
    dependencies = [readiness.identity_serving(settings.target)]
    if settings.idp == "keycloak":
        if not settings.keycloak_url:
            log.error("IDP=keycloak 需要设置 KEYCLOAK_URL（Keycloak 的地址）。")
            return 2
        dependencies.append(readiness.realm_answers(settings.keycloak_url, settings.keycloak_realm))
    ready = readiness.wait_until_ready(dependencies, timeout, log=log.info)
    return 0 if ready else 1


def _distribute(ident: Identity, args: argparse.Namespace) -> int:
    """Distribution run by the platform (Helm post-install Job), acting as the tenant's platform admin.

    Safe to rerun: with no account to issue or deliver it changes nothing; a sheet goes
    to the Secret before its passwords are wiped, so a failed store is delivered again.
    """
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
            else sheet_store.KubernetesSecretStore.in_cluster(ident.settings.pod_namespace)
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
