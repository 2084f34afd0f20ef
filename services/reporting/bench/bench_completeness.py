"""Benchmark (not a test): completeness, timeliness and subtree sums for the root of a
national-size tree (≈45,000 tenants) with one month of 工作简报. Target: ≤ 2 s.

    uv run python services/reporting/bench/bench_completeness.py [--url APP_URL --owner-url OWNER_URL]

Without URLs it starts an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kepu_common.db import Database, Scope
from kepu_common.migrations import upgrade
from kepu_common.tenancy import Principal
from kepu_reporting import service
from sqlalchemy import text

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_reporting" / "migrations"
SHAPE = (31, 12, 10, 11)  # provinces, cities per province, counties per city, townships per county
KINDS = ("province", "city", "county", "township")
PERIOD = "2026-10"


def build_tree() -> list[dict]:
    root = {
        "id": str(uuid.uuid4()),
        "code": "100000",
        "name": "中国科协",
        "kind": "province",
        "parent": None,
        "path": "100000",
    }
    rows, level = [root], [root]
    for depth, n in enumerate(SHAPE):
        nxt = []
        for parent in level:
            for i in range(1, n + 1):
                code = f"{parent['code'][-6:]}{depth}{i:02d}"
                node = {
                    "id": str(uuid.uuid4()),
                    "code": code,
                    "name": f"科协{code}",
                    "kind": KINDS[min(depth + 1, 3)] if depth else "province",
                    "parent": parent["id"],
                    "path": f"{parent['path']}.{code}",
                }
                nxt.append(node)
        rows += nxt
        level = nxt
    return rows


def seed(db: Database, rows: list[dict]) -> int:
    rnd = random.Random(7)
    reports = []
    for r in rows[1:]:
        if rnd.random() < 0.05:
            continue  # 5% have not reported
        vals = {
            "training_sessions": rnd.randint(0, 5),
            "trainees": rnd.randint(0, 300),
            "activities": rnd.randint(0, 10),
            "participants": rnd.randint(0, 2000),
            "resources": rnd.randint(0, 3),
        }
        reports.append(
            {
                "id": str(uuid.uuid4()),
                "tid": r["id"],
                "path": r["path"],
                "kind": r["kind"],
                "values": json.dumps(vals),
                "at": datetime(2026, 11, rnd.randint(1, 6), 3, tzinfo=UTC),
                "on_time": rnd.random() < 0.8,
            }
        )
    with db.unit_of_work(Scope.system_scope()) as s:
        s.execute(
            text(
                "INSERT INTO tenants (id, code, name, kind, parent_id, tenant_path, status) VALUES"
                " (CAST(:id AS uuid), :code, :name, :kind, CAST(:parent AS uuid),"
                " CAST(:path AS ltree), 'active')"
            ),
            rows,
        )
        s.execute(
            text(
                "INSERT INTO reports (id, tenant_id, tenant_path, tenant_kind, type_code, period,"
                ' status, "values", submitted_at, on_time) VALUES (CAST(:id AS uuid),'
                " CAST(:tid AS uuid), CAST(:path AS ltree), :kind, 'monthly_brief', '2026-10',"
                " 'submitted', CAST(:values AS jsonb), :at, :on_time)"
            ),
            reports,
        )
    return len(reports)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--owner-url")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    pg = None
    if not args.url:
        from kepu_devstack.postgres import EmbeddedPostgres, provision_database

        pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="kepu-bench-")) / "pg")
        pg.start()
        args.owner_url, args.url = provision_database(pg.superuser_url(), "reporting_bench")
    try:
        upgrade(MIGRATIONS, args.owner_url)
        db = Database(args.url)
        rows = build_tree()
        t0 = time.perf_counter()
        n_reports = seed(db, rows)
        print(
            f"seeded {len(rows)} tenants and {n_reports} briefs in {time.perf_counter() - t0:.1f} s"
        )  # noqa: T201
        with db.engine.connect() as conn:
            conn.execute(text("COMMIT"))
        import psycopg

        with psycopg.connect(
            args.owner_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
        ) as conn:
            conn.execute("ANALYZE")
        root = rows[0]
        p = Principal(
            subject="bench",
            username="bench",
            tenant_id=root["id"],
            tenant_path=root["path"],
            tenant_kind="province",
            roles=frozenset({"admin"}),
        )
        now = datetime(2026, 11, 10, 2, tzinfo=UTC)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            with db.unit_of_work(Scope.tenant(root["path"])) as s:
                ov = service.children_overview(s, p, now, "monthly_brief", PERIOD)
            times.append(time.perf_counter() - t)
        t = ov.subtree
        print(
            f"root overview over {t.expected} tenants: {t.submitted} submitted,"  # noqa: T201
            f" completeness {t.completeness:.1%}, timeliness {t.timeliness:.1%},"
            f" {len(ov.overdue)} overdue, participants {ov.figures.sums.get('participants')}"
            f" from {len(ov.figures.sources)} briefs covering {ov.figures.briefs}"
        )
        print(
            f"time (children + completeness + timeliness + sums + overdue list), {args.runs} runs:"  # noqa: T201
            f" median {statistics.median(times):.3f} s, min {min(times):.3f} s,"
            f" max {max(times):.3f} s (target ≤ 2 s)"
        )
        db.dispose()
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
