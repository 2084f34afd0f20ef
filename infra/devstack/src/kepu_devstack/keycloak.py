"""A real Keycloak server for ``KEPU_IDP=keycloak`` and the tests, with the ``kepu`` realm imported.

The server distribution comes from Maven (``engines.keycloak_home()``); it is built once for
PostgreSQL under ``/auth`` (``kc.sh build``, a stamp records the options) and then started
with ``kc.sh start --optimized`` on free ports, with its own database on the embedded
PostgreSQL. Its public URL is the gateway's ``/auth`` (``--hostname``), so tokens carry the
same issuer as in embedded mode (``<gateway>/auth/realms/kepu``); the services reach it
directly (backchannel) for the JWKS and the admin API.

The realm is imported from ``kepu_identity.realm`` when the server has none yet, the way
the operator's ``KeycloakRealmImport`` does.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from . import engines
from .ports import die_with_parent, free_port

ADMIN_USER = "kepu-bootstrap-admin"
# Build-time options of Keycloak (``kc.sh build``); everything else is given at start.
BUILD_OPTIONS = (
    "--db=postgres",
    "--health-enabled=true",
    "--metrics-enabled=false",
    "--http-relative-path=/auth",
    "--features-disabled=organization,kerberos",
)


class KeycloakServer:
    def __init__(
        self,
        data_dir: Path,
        *,
        pg_superuser_url: str,
        public_url: str,
        admin_password: str,
        port: int | None = None,
        log_path: Path | None = None,
        database: str = "keycloak",
    ) -> None:
        self.data_dir = data_dir
        self.pg_superuser_url = pg_superuser_url
        self.public_url = public_url.rstrip("/")  # e.g. http://127.0.0.1:8000/auth
        self.admin_password = admin_password
        self.port = port or free_port()
        self.management_port = free_port()
        self.log_path = log_path or data_dir / "keycloak.log"
        self.database = database
        self.proc: subprocess.Popen[bytes] | None = None
        self._launched_at = 0.0
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        """The direct (backchannel) base URL, ending in ``/auth/``, for python-keycloak."""
        return f"http://127.0.0.1:{self.port}/auth/"

    def jwks_url(self, realm: str = "kepu") -> str:
        return f"{self.url}realms/{realm}/protocol/openid-connect/certs"

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process and return at once (``wait_ready`` waits for it): the caller can
        do other work meanwhile. Call it from the main thread — the child is tied to the
        launching thread's life (``die_with_parent``)."""
        self._launched_at = time.monotonic()
        home = engines.keycloak_home()
        java = engines.java()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = self._env(java)
        self._build(home, env)
        user, password = self._database()
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            [
                str(home / "bin" / "kc.sh"),
                "start",
                "--optimized",
                f"--db-url=jdbc:postgresql://{self._pg_hostport()}/{self.database}",
                f"--db-username={user}",
                f"--db-password={password}",
                "--db-pool-max-size=20",
                "--http-enabled=true",
                "--http-host=127.0.0.1",
                f"--http-port={self.port}",
                f"--http-management-port={self.management_port}",
                f"--hostname={self.public_url}",
                "--hostname-backchannel-dynamic=true",
                "--proxy-headers=xforwarded",
                "--cache=local",
                "--log-console-output=default",
            ],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def _env(self, java: str) -> dict[str, str]:
        env = dict(os.environ)
        env["JAVA_HOME"] = str(Path(java).resolve().parents[1])
        env["PATH"] = f"{Path(java).resolve().parent}:{env.get('PATH', '')}"
        env.setdefault("JAVA_OPTS_KC_HEAP", "-Xms128m -Xmx768m")
        # The first admin of the master realm (Keycloak's own bootstrap mechanism).
        env["KC_BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USER
        env["KC_BOOTSTRAP_ADMIN_PASSWORD"] = self.admin_password
        return env

    def _build(self, home: Path, env: dict[str, str]) -> None:
        stamp = home / "data" / ".kepu-build"
        wanted = hashlib.sha256(" ".join(BUILD_OPTIONS).encode()).hexdigest()
        if stamp.exists() and stamp.read_text().strip() == wanted:
            return
        r = subprocess.run(
            [str(home / "bin" / "kc.sh"), "build", *BUILD_OPTIONS],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if r.returncode != 0:
            raise RuntimeError("Keycloak build failed:\n" + (r.stdout + r.stderr)[-3000:])
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(wanted)

    def _pg_hostport(self) -> str:
        return self.pg_superuser_url.split("@", 1)[1].split("/", 1)[0]

    def _database(self) -> tuple[str, str]:
        """Keycloak's own database and role on the embedded PostgreSQL (created once)."""
        user, password = "keycloak", "keycloak"
        with psycopg.connect(self.pg_superuser_url, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone():
                conn.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {self.database} OWNER {user}")
        return user, password

    def wait_ready(self, timeout: float = 300) -> None:
        """Wait until ``/health/ready`` answers 200; a dead process or the timeout raises."""
        ready = f"http://127.0.0.1:{self.management_port}/auth/health/ready"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"Keycloak exited with code {self.proc.returncode}:\n" + self._log_tail()
                )
            try:
                if httpx.get(ready, timeout=2).status_code == 200:
                    self.startup_seconds = time.monotonic() - self._launched_at
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Keycloak was not ready after {timeout:.0f} s:\n" + self._log_tail())

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    # ---- the realm -------------------------------------------------------------------------
    def admin(self, realm: str = "kepu") -> Any:
        """python-keycloak's ``KeycloakAdmin`` on ``realm``, signed in as the bootstrap admin."""
        from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

        return KeycloakAdmin(
            connection=KeycloakOpenIDConnection(
                server_url=self.url,
                username=ADMIN_USER,
                password=self.admin_password,
                realm_name=realm,
                user_realm_name="master",
                client_id="admin-cli",
                timeout=60,
            )
        )

    def import_realm(self, representation: dict[str, Any]) -> bool:
        """Create the realm unless it exists (as the operator's realm import); True if created."""
        admin = self.admin("master")
        name = representation["realm"]
        if any(r["realm"] == name for r in admin.get_realms()):
            return False
        admin.create_realm(representation, skip_exists=True)
        return True

    def point_portal_at(self, redirect_uris: list[str], web_origins: list[str]) -> None:
        """Keep ``kepu-portal``'s redirect URIs on the current gateway (its port may change
        between two ``make run`` of one data directory)."""
        admin = self.admin()
        client_uuid = admin.get_client_id("kepu-portal")
        client = admin.get_client(client_uuid)
        if client.get("redirectUris") != redirect_uris or client.get("webOrigins") != web_origins:
            client.pop("protocolMappers", None)
            admin.update_client(
                client_uuid, {**client, "redirectUris": redirect_uris, "webOrigins": web_origins}
            )
