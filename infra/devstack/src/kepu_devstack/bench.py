"""What the services' benchmark scripts share (``services/*/bench/``): a synthetic tenant tree,
a database to run against, an admin principal and the timing line they print.

Benchmarks are scripts, not tests: they print figures and never fail for being slow.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from kepu_common.db import Database
from kepu_common.migrations import upgrade
from kepu_common.tenancy import Principal

T = TypeVar("T")


def tenant_tree(
    shape: tuple[int, ...],
    kinds: tuple[str, ...],
    *,
    root_code: str = "410000",
    root_name: str = "河南省科协",
    first_level_code: Callable[[int], str] = lambda i: f"41{i:02d}00",
) -> list[dict[str, Any]]:
    """A root and ``shape[d]`` children per node at depth ``d`` (kind ``kinds[d]``), root first,
    level by level. Rows carry ``id``, ``code``, ``name``, ``kind``, ``path`` and ``parent``."""
    root = {"id": str(uuid.uuid4()), "code": root_code, "name": root_name, "kind": "province",
            "path": root_code, "parent": None}  # fmt: skip
    rows, level = [root], [root]
    for depth, n in enumerate(shape):
        nxt = []
        for parent in level:
            for i in range(1, n + 1):
                code = f"{parent['code']}{i:02d}" if depth else first_level_code(i)
                nxt.append({"id": str(uuid.uuid4()), "code": code, "name": code,
                            "kind": kinds[depth], "path": f"{parent['path']}.{code}",
                            "parent": parent["id"]})  # fmt: skip
        rows += nxt
        level = nxt
    return rows


def admin(node: dict[str, Any]) -> Principal:
    """An admin of ``node`` (the caller every benchmarked use case runs as)."""
    return Principal(
        subject="bench", username="bench", tenant_id=node["id"], tenant_path=node["path"],
        tenant_kind=node["kind"], roles=frozenset({"admin"}),
    )  # fmt: skip


def arguments(description: str) -> argparse.Namespace:
    """``--url``/``--owner-url`` of an existing database (else an embedded one) and ``--runs``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--url", help="the application role's URL (default: embedded PostgreSQL)")
    ap.add_argument("--owner-url", help="the owner role's URL (migrations, ANALYZE)")
    ap.add_argument("--runs", type=int, default=7)
    return ap.parse_args()


@contextmanager
def database(args: argparse.Namespace, name: str, migrations: Path) -> Iterator[Database]:
    """The service's database migrated to head: the one the URLs name, or a fresh embedded
    PostgreSQL in a temporary directory, stopped afterwards."""
    pg = None
    if not args.url:
        from .postgres import EmbeddedPostgres, provision_database

        pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="kepu-bench-")) / "pg")
        pg.start()
        args.owner_url, args.url = provision_database(pg.superuser_url(), name)
    try:
        upgrade(migrations, args.owner_url)
        db = Database(args.url)
        try:
            yield db
        finally:
            db.dispose()
    finally:
        if pg is not None:
            pg.stop()


def analyze(owner_url: str) -> None:
    """Fresh planner statistics after seeding (as autovacuum would give a real database)."""
    import psycopg

    with psycopg.connect(
        owner_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as c:
        c.execute("ANALYZE")


def timed(run: Callable[[], T], runs: int) -> tuple[list[float], T]:
    """Wall times of ``runs`` calls of ``run`` and the last result."""
    times: list[float] = []
    out: T | None = None
    for _ in range(runs):
        t = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t)
    assert out is not None
    return times, out


def summary(times: list[float], target: str) -> str:
    return (
        f"{len(times)} runs: median {statistics.median(times):.3f} s, min {min(times):.3f} s,"
        f" max {max(times):.3f} s (target {target})"
    )
