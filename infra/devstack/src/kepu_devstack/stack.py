"""The whole platform as local processes: used by `make run` and by the end-to-end tests.

Starts PostgreSQL and Tansu, provisions one database per service, migrates, seeds
the Henan tree and the demo admin, then runs every service's ``serve``,
``relay`` and ``worker`` processes and the gateway. Every real component can be
replaced by an external one through environment variables:
``<SVC>_DATABASE_URL`` / ``<SVC>_MIGRATION_DATABASE_URL``, ``KAFKA_BOOTSTRAP_SERVERS``,
``OIDC_ISSUER`` (+ ``OIDC_JWKS_URL``, ``IDP=keycloak``).
"""

from __future__ import annotations

import base64
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .broker import EmbeddedBroker
from .kafka import KafkaServer
from .keycloak import ADMIN_USER, KeycloakServer
from .ports import PortHold, die_with_parent, port_in_use, wait_port
from .postgres import EmbeddedPostgres, provision_database
from .supervise import Supervisor

SERVICES = ["identity", "talent", "reporting", "projects", "assessment"]


def available_services() -> list[str]:
    return [
        s
        for s in SERVICES
        if importlib.util.find_spec(f"kepu_{s}") is not None
        and importlib.util.find_spec(f"kepu_{s}.__main__") is not None
    ]


def _secret(var_dir: Path, name: str) -> str:
    path = var_dir / f"{name}.key"
    if not path.exists():
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Stack:
    var_dir: Path
    gateway_port: int = 0
    admin_user: str = "henan_admin"
    admin_password: str = "Kepu@Henan2026"
    admin_mfa: str = "optional"
    extra_env: dict[str, str] = field(default_factory=dict)
    durable_pg: bool = True  # only test stacks turn PostgreSQL's durability off
    pg: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | KafkaServer | None = None
    keycloak: KeycloakServer | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
    supervisor: Supervisor | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Each service process's Prometheus /metrics port (kepu_common.metrics), by process name.
    metrics_ports: dict[str, int] = field(default_factory=dict)
    # The ports each process listens on, and those held for it until it does (ports.PortHold).
    ports: dict[str, list[int]] = field(default_factory=dict)
    _holds: dict[int, PortHold] = field(default_factory=dict, repr=False)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def issuer(self) -> str:
        return self.env.get("OIDC_ISSUER", f"{self.gateway_url}/auth/realms/kepu")

    def _log(self, name: str) -> Path:
        d = self.var_dir / "logs"
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{name}.log"

    def start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if self.gateway_port and port_in_use(self.gateway_port):
            raise RuntimeError(
                f"端口 {self.gateway_port} 已被占用（另一个平台实例还在运行？）；"
                f"请先停止它，或设置 GATEWAY_PORT 换一个端口。"
            )
        self.gateway_port = self._hold("gateway", self.gateway_port)
        env = dict(os.environ)
        env.update(self.extra_env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            kind = env.get("KEPU_BROKER", "tansu")
            if kind not in ("tansu", "kafka"):
                raise RuntimeError(f"KEPU_BROKER 只能是 tansu 或 kafka（当前为 {kind!r}）。")
            if kind == "kafka":  # Apache Kafka, its log kept under <var_dir>/kafka
                self.broker = KafkaServer(self.var_dir / "kafka", log_path=self._log("kafka"))
                # Kafka answers a waiting fetch at once when a record comes (kepu_common.bus)
                env.setdefault("KAFKA_FETCH_MAX_WAIT_MS", "5000")
            else:
                self.broker = EmbeddedBroker(log_path=self._log("tansu"))
            self.broker.start()
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.broker.bootstrap
        services = available_services()
        idp = env.get("KEPU_IDP", "embedded")
        if idp not in ("embedded", "keycloak"):
            raise RuntimeError(f"KEPU_IDP 只能是 embedded 或 keycloak（当前为 {idp!r}）。")
        need_pg = idp == "keycloak" or any(
            not env.get(f"{s.upper()}_DATABASE_URL") for s in services
        )
        if need_pg:
            self.pg = EmbeddedPostgres(
                self.var_dir / "pgdata",
                port=int(env.get("KEPU_PG_PORT", "0")) or None,
                durable=self.durable_pg,
            )
            self.pg.start()
        for svc in services:
            key = svc.upper()
            if not env.get(f"{key}_DATABASE_URL"):
                assert self.pg is not None
                owner_url, app_url = provision_database(self.pg.superuser_url(), f"kepu_{svc}")
                env[f"{key}_DATABASE_URL"] = app_url
                env[f"{key}_MIGRATION_DATABASE_URL"] = owner_url
            port = self._hold(f"{svc}-serve")
            env[f"{key}_GRPC_PORT"] = str(port)
            env[f"{key}_GRPC_TARGET"] = f"127.0.0.1:{port}"
        identity_http = self._hold("identity-serve")
        env["IDENTITY_HTTP_PORT"] = str(identity_http)
        env["IDENTITY_HTTP_URL"] = f"http://127.0.0.1:{identity_http}"
        env.setdefault("OIDC_ISSUER", f"{self.gateway_url}/auth/realms/kepu")
        keycloak_started = None
        if idp == "keycloak":
            keycloak_started = self._start_keycloak(env)
        if env.get("IDP", "embedded") == "embedded":
            env.setdefault(
                "OIDC_JWKS_URL",
                f"http://127.0.0.1:{identity_http}/auth/realms/kepu/protocol/openid-connect/certs",
            )
        env["GATEWAY_PORT"] = str(self.gateway_port)
        env.setdefault("ADMIN_MFA", self.admin_mfa)
        env.setdefault("DEMO_ADMIN_USER", self.admin_user)
        env.setdefault("DEMO_ADMIN_PASSWORD", self.admin_password)
        self.admin_user, self.admin_password = env["DEMO_ADMIN_USER"], env["DEMO_ADMIN_PASSWORD"]
        env.setdefault("IDENTITY_SECRET_KEY", _secret(self.var_dir, "identity"))
        for svc in services:
            env.setdefault(f"{svc.upper()}_SECRET_KEY", _secret(self.var_dir, svc))
        env.setdefault("OBJECT_STORE_DIR", str(self.var_dir / "objects"))
        self.env = env

        for svc in services:
            self._run_once(svc, "migrate")
        if keycloak_started is not None:
            self._finish_keycloak(keycloak_started)
        self._run_once("identity", "seed")
        for svc in services:
            for role in ("serve", "relay", "worker"):
                self._spawn(f"{svc}-{role}", [sys.executable, "-m", f"kepu_{svc}", role])
        self._spawn("gateway", [sys.executable, "-m", "kepu_gateway"])
        for svc in services:
            self._wait_port(f"{svc}-serve", int(env[f"{svc.upper()}_GRPC_PORT"]))
        self._wait_port("identity-serve", identity_http)
        self._wait_port("gateway", self.gateway_port)
        self._wait_ready()
        self.release_bound_ports()
        for svc in services:  # the banner only once every service answers SERVING
            self._wait_serving(svc, env[f"{svc.upper()}_GRPC_TARGET"])

    def supervise(self) -> Supervisor:
        """Restart whatever crashes from now on (``make run`` and the test stacks do)."""
        if self.supervisor is None:
            self.supervisor = Supervisor(self)
            self.supervisor.start()
        return self.supervisor

    def respawn(self, name: str) -> None:
        """Start process ``name`` again with the command and settings it had, its ports held
        for it again until it listens (the supervisor releases them, ``release_bound_ports``)."""
        for port in self.ports.get(name, []):
            if port != self.metrics_ports.get(name):
                self._hold(name, port)
        self._spawn(name, self.commands[name])

    def _hold(self, name: str, port: int = 0) -> int:
        """Keep ``port`` (0: a free one) bound for process ``name`` until it listens there, so
        nothing else on the machine takes it between the pick and the child's bind; raises a
        Chinese ``RuntimeError`` when another process listens there already."""
        held = self._holds.get(port)
        if held is None or not held.held:
            try:
                held = PortHold(port)
            except OSError as exc:
                raise RuntimeError(
                    f"端口 {port} 已被另一个进程占用，{name} 无法使用它：{exc}"
                ) from exc
            self._holds[held.port] = held
        if held.port not in self.ports.setdefault(name, []):
            self.ports[name].append(held.port)
        return held.port

    def release_bound_ports(self) -> None:
        """Let go of the held ports whose process listens on them now."""
        for port, held in list(self._holds.items()):
            if held.release_if_listening():
                del self._holds[port]

    def _start_keycloak(self, env: dict[str, str]) -> KeycloakServer:
        """Launch Keycloak (ready in 20-50 s, while migrations run) and point all at it."""
        assert self.pg is not None
        self.keycloak = KeycloakServer(
            self.var_dir / "keycloak",
            pg_superuser_url=self.pg.superuser_url(),
            public_url=f"{self.gateway_url}/auth",
            admin_password=_secret(self.var_dir, "keycloak-admin"),
            log_path=self._log("keycloak"),
        )
        env["IDP"] = "keycloak"
        env["KEYCLOAK_URL"] = self.keycloak.url
        env["KEYCLOAK_ADMIN_USER"] = ADMIN_USER
        env["KEYCLOAK_ADMIN_PASSWORD"] = self.keycloak.admin_password
        env["OIDC_JWKS_URL"] = self.keycloak.jwks_url()
        env["AUTH_UPSTREAM_URL"] = self.keycloak.url.rstrip("/").removesuffix("/auth")
        from kepu_identity.realm import portal_redirect_uris  # exact URIs, no wildcard

        env.setdefault("PORTAL_REDIRECT_URIS", ",".join(portal_redirect_uris(self.gateway_url)))
        self.keycloak.launch()
        return self.keycloak

    def _finish_keycloak(self, keycloak: KeycloakServer) -> None:
        """Wait for Keycloak, then import the realm unless it has one (as the operator does)."""
        from kepu_identity.realm import realm_representation

        keycloak.wait_ready()
        redirects = self.env["PORTAL_REDIRECT_URIS"].split(",")
        origins = [self.gateway_url]
        created = keycloak.import_realm(
            realm_representation(portal_redirect_uris=redirects, portal_web_origins=origins)
        )
        if not created:
            keycloak.point_portal_at(redirects, origins)

    def _run_once(self, svc: str, cmd: str) -> None:
        with open(self._log(f"{svc}-{cmd}"), "ab") as log:
            r = subprocess.run(
                [sys.executable, "-m", f"kepu_{svc}", cmd], env=self.env, stdout=log, stderr=log
            )
        if r.returncode != 0:
            raise RuntimeError(
                f"{svc} {cmd} failed:\n" + self._log(f"{svc}-{cmd}").read_text()[-4000:]
            )

    def _spawn(self, name: str, cmd: list[str]) -> None:
        self.commands[name] = cmd
        log = open(self._log(name), "ab")  # noqa: SIM115 - kept open for the child's lifetime
        env = self.env
        # The process's stable name, as a pod has one: its consumers' static group membership
        # (kepu_common.consumer.instance_id) carries over to its restart.
        env = {**env, "POD_NAME": f"{socket.gethostname()}-{self.gateway_port}-{name}"}
        if name != "gateway":  # the gateway serves /metrics on its own port
            old = self.metrics_ports.get(name)  # a restart gets a fresh /metrics port
            if old is not None:
                self.ports[name].remove(old)
                if old in self._holds:
                    self._holds.pop(old).release()
            self.metrics_ports[name] = self._hold(name)
            env = {**env, "KEPU_METRICS_PORT": str(self.metrics_ports[name])}
        self.procs[name] = subprocess.Popen(
            cmd,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def _wait_port(self, name: str, port: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n" + self._log(name).read_text()[-4000:])
            try:
                wait_port(port, timeout=0.5)
                self.release_bound_ports()
                return
            except TimeoutError:
                continue
        raise RuntimeError(
            f"{name} did not listen on {port}:\n" + self._log(name).read_text()[-4000:]
        )

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.gateway_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gateway not ready:\n" + self._log("gateway").read_text()[-4000:])

    def _wait_serving(self, svc: str, target: str, timeout: float = 60) -> None:
        """Wait until the service's gRPC health says SERVING (its database answers)."""
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(target) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while time.monotonic() < deadline:
                try:
                    status = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
                    if status.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.3)
        raise RuntimeError(f"{svc} not SERVING:\n" + self._log(f"{svc}-serve").read_text()[-4000:])

    def crashed(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() not in (None, 0)]

    def login(self, username: str, password: str, client_id: str = "kepu-cli", **extra: str) -> str:
        r = httpx.post(
            f"{self.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": client_id,
                "username": username,
                "password": password,
                "scope": "openid",
                **extra,
            },
            timeout=30,
        )
        r.raise_for_status()
        return str(r.json()["access_token"])

    def admin_token(self) -> str:
        return self.login(self.admin_user, self.admin_password)

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()
        for held in self._holds.values():
            held.release()
        self._holds.clear()
        if self.keycloak:
            self.keycloak.stop()
        if self.broker:
            self.broker.stop()
        if self.pg:
            self.pg.stop()
