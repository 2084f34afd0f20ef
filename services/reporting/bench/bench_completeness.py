"""Benchmark (not a test): completeness, timeliness and subtree sums for the root of a
national-size tree (≈45,000 tenants) with one month of 工作简报. Target: ≤ 2 s.

    uv run python services/reporting/bench/bench_completeness.py [--url APP_URL --owner-url OWNER_URL]

Without URLs it starts an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kepu_common.db import Database, Scope
from kepu_devstack import bench
from kepu_reporting import service
from sqlalchemy import text

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_reporting" / "migrations"
SHAPE = (31, 12, 10, 11)  # provinces, cities per province, counties per city, townships per county
KINDS = ("province", "city", "county", "township")
PERIOD = "2026-10"


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
    args = bench.arguments(__doc__ or "")
    with bench.database(args, "reporting_bench", MIGRATIONS) as db:
        rows = bench.tenant_tree(
            SHAPE, KINDS, root_code="100000", root_name="中国科协",
            first_level_code=lambda i: f"{10 + i}0000",
        )  # fmt: skip
        t0 = time.perf_counter()
        n_reports = seed(db, rows)
        print(
            f"seeded {len(rows)} tenants and {n_reports} briefs in {time.perf_counter() - t0:.1f} s"
        )
        bench.analyze(args.owner_url)
        root = rows[0]
        now = datetime(2026, 11, 10, 2, tzinfo=UTC)

        def overview() -> service.Overview:
            with db.unit_of_work(Scope.tenant(root["path"])) as s:
                return service.children_overview(s, bench.admin(root), now, "monthly_brief", PERIOD)

        times, ov = bench.timed(overview, args.runs)
        t = ov.subtree
        print(
            f"root overview over {t.expected} tenants: {t.submitted} submitted,"
            f" completeness {t.completeness:.1%}, timeliness {t.timeliness:.1%},"
            f" {len(ov.overdue)} overdue, participants {ov.figures.sums.get('participants')}"
            f" from {len(ov.figures.sources)} briefs covering {ov.figures.briefs}"
        )
        print(
            "time (children + completeness + timeliness + sums + overdue list),"
            f" {bench.summary(times, '≤ 2 s')}"
        )


if __name__ == "__main__":
    main()
