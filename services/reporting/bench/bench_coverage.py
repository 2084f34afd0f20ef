"""Benchmark (not a test): e站 coverage for a province of 50,000 stations (18 cities × 8 counties
× 17 townships, stations of the three kinds, 85 % certified) with denominators per county.
Target: < 1 s for the province's coverage (its total and each city's ratios).

    uv run python services/reporting/bench/bench_coverage.py [--url APP_URL --owner-url OWNER_URL]

Without URLs it starts an embedded PostgreSQL in a temporary directory. Prints the time of the
province's coverage (stations.service.coverage, what GET /api/v1/estations/coverage runs) and
of one city's.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from kepu_common.db import Database, Scope
from kepu_devstack import bench
from kepu_reporting.stations import service
from sqlalchemy import text

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_reporting" / "migrations"
SHAPE = (18, 8, 17)
KINDS = ("city", "county", "township")
STATIONS = 50_000
YEAR = 2026


def seed(db: Database, rows: list[dict[str, Any]]) -> None:
    rnd = random.Random(14)
    townships = [r for r in rows if r["kind"] == "township"]
    counties = [r for r in rows if r["kind"] == "county"]
    five = json.dumps({c: {"met": True, "evidence": ""} for c in ("network", "staff", "place",
                                                                  "activities", "terminal")})  # fmt: skip
    stations = []
    for i in range(STATIONS):
        t = townships[i % len(townships)]
        stations.append({
            "id": str(uuid.uuid4()), "t": t["id"], "p": t["path"],
            "k": rnd.choice(("community", "school", "village")), "n": f"e站{i}",
            "st": "certified" if rnd.random() < 0.85 else "applied", "c": five,
        })  # fmt: skip
    dens = [
        {"t": c["id"], "p": c["path"], "y": YEAR, "c": 150, "s": 120, "v": 200} for c in counties
    ]
    with db.unit_of_work(Scope.system_scope()) as s:
        s.execute(
            text(
                "INSERT INTO tenants (id, code, name, kind, parent_id, tenant_path) VALUES"
                " (CAST(:id AS uuid), :code, :code, :kind, CAST(:parent AS uuid),"
                " CAST(:path AS ltree))"
            ),
            rows,
        )
        s.execute(
            text(
                "INSERT INTO stations (id, tenant_id, tenant_path, kind, name, address, host,"
                " conditions, status, created_by) VALUES (CAST(:id AS uuid), CAST(:t AS uuid),"
                " CAST(:p AS ltree), :k, :n, '', '', CAST(:c AS jsonb), :st, 'bench')"
            ),
            stations,
        )
        s.execute(  # what each 认定 keeps in step (stations.repository.count_certified)
            text(
                "INSERT INTO station_counts (tenant_id, tenant_path, kind, certified)"
                " SELECT tenant_id, tenant_path, kind, count(*) FROM stations"
                " WHERE status = 'certified' GROUP BY 1, 2, 3"
            )
        )
        s.execute(
            text(
                "INSERT INTO coverage_denominators (tenant_id, tenant_path, year, communities,"
                " schools, villages) VALUES (CAST(:t AS uuid), CAST(:p AS ltree), :y, :c, :s, :v)"
            ),
            dens,
        )


def main() -> None:
    args = bench.arguments(__doc__ or "")
    with bench.database(args, "reporting_bench", MIGRATIONS) as db:
        rows = bench.tenant_tree(SHAPE, KINDS)
        seed(db, rows)
        bench.analyze(args.owner_url)
        print(f"seeded {len(rows)} tenants, {STATIONS} stations")
        for node, what in ((rows[0], "province"), (rows[1], "one city")):

            def coverage(node: dict[str, Any] = node) -> Any:
                with db.unit_of_work(Scope.tenant(node["path"])) as s:
                    return service.coverage(s, bench.admin(node), "", YEAR)

            times, (total, kids) = bench.timed(coverage, args.runs)
            print(
                f"{what} coverage: {total.counts.get('community', 0)} community /"
                f" {total.counts.get('school', 0)} school / {total.counts.get('village', 0)} village"
                f" stations certified, ratios {total.ratio('community')} / {total.ratio('school')} /"
                f" {total.ratio('village')} %, {len(kids)} children; {bench.summary(times, '< 1 s')}"
            )


if __name__ == "__main__":
    main()
