"""Benchmark (not a test): assessment recompute for a province of ≈2,600 tenants
(18 cities × 8 counties × 17 townships) with a year of counters for every tenant, manual
scores and allocated quotas. Target: ≤ 1 s.

    uv run python services/assessment/bench/bench_recompute.py [--url APP_URL --owner-url OWNER_URL]

Without URLs it starts an embedded PostgreSQL in a temporary directory. Prints the time of
the province scheme's compute (score + rank + store the 18 cities, counters rolled up over
the whole province) and of recomputing every scheme in the province (1 + 18 + 144 schemes).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from kepu_assessment import service
from kepu_common.db import Database, Scope
from kepu_devstack import bench
from sqlalchemy import text

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_assessment" / "migrations"
SHAPE = (18, 8, 17)  # cities, counties per city, townships per county
KINDS = ("city", "county", "township")
YEAR = 2026
INDICATORS = [
    {"code": "1", "name": "科普人才认定", "weight": 25, "kind": "automatic",
     "metric": "talents_certified", "target": 100},
    {"code": "2", "name": "科普活动", "weight": 15, "kind": "automatic", "metric": "activities",
     "rule": "threshold", "target": 12},
    {"code": "3", "name": "活动参与人次", "weight": 10, "kind": "automatic",
     "metric": "participants", "target": 5000},
    {"code": "4", "name": "报告按时报送率", "weight": 10, "kind": "automatic",
     "metric": "report_timeliness", "target": 100},
    {"code": "5", "name": "重点项目", "weight": 10, "subs": [
        {"code": "5-1", "name": "立项", "weight": 5, "kind": "automatic",
         "metric": "projects_approved", "target": 2},
        {"code": "5-2", "name": "结项", "weight": 5, "kind": "automatic",
         "metric": "projects_completed", "target": 1}]},
    {"code": "6", "name": "组织领导", "weight": 20, "kind": "manual"},
    {"code": "7", "name": "公民科学素质比例", "weight": 10, "kind": "value",
     "rule": "threshold", "target": 9.38},
]  # fmt: skip


def seed(db: Database, rows: list[dict[str, Any]]) -> int:
    rnd = random.Random(7)
    counters = []
    for r in rows:
        for metric, hi in (("talents_certified", 12), ("activities", 6), ("participants", 800),
                           ("reports_submitted", 12), ("projects_approved", 1),
                           ("projects_completed", 1)):  # fmt: skip
            counters.append({"t": r["id"], "p": r["path"], "y": YEAR, "m": metric,
                             "v": rnd.randint(0, hi)})  # fmt: skip
        counters.append({"t": r["id"], "p": r["path"], "y": YEAR, "m": "reports_on_time",
                         "v": rnd.randint(8, 12) if counters[-4]["v"] >= 8 else 0})  # fmt: skip
        # twelve monthly briefs due a year, filed or not
        counters.append({"t": r["id"], "p": r["path"], "y": YEAR, "m": "reports_due", "v": 12})
        counters.append({"t": r["id"], "p": r["path"], "y": YEAR - 1, "m": "talents_certified",
                         "v": rnd.randint(0, 10)})  # fmt: skip
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
                "INSERT INTO metric_counters (tenant_id, tenant_path, year, metric, value) VALUES"
                " (CAST(:t AS uuid), CAST(:p AS ltree), :y, :m, :v)"
            ),
            counters,
        )
    return len(counters)


def make_scheme(db: Database, node: dict[str, Any], kids: list[dict[str, Any]]) -> str:
    p = bench.admin(node)
    rnd = random.Random(node["code"])
    with db.unit_of_work(Scope.tenant(node["path"])) as s:
        sc = service.create_scheme(
            s, p, {"year": YEAR, "name": "年度考核", "honours_top_n": 3, "indicators": INDICATORS}
        )
        for k in kids:
            service.set_scores(s, p, sc.id, k["id"], [
                {"indicator_code": "6", "score": rnd.randint(10, 20), "evidence": "材料"},
                {"indicator_code": "7", "value": rnd.uniform(8, 11)},
            ])  # fmt: skip
        service.set_allocation(
            s, p, sc.id, "1", 0, {k["id"]: float(rnd.randint(50, 150)) for k in kids}
        )
    return sc.id


def main() -> None:
    args = bench.arguments(__doc__ or "")
    with bench.database(args, "assessment_bench", MIGRATIONS) as db:
        rows = bench.tenant_tree(SHAPE, KINDS)
        n = seed(db, rows)
        by_parent: dict[str, list[dict[str, Any]]] = {}
        for r in rows[1:]:
            by_parent.setdefault(r["parent"], []).append(r)
        assessors = [r for r in rows if r["id"] in by_parent]
        schemes = {r["id"]: make_scheme(db, r, by_parent[r["id"]]) for r in assessors}
        bench.analyze(args.owner_url)
        print(f"seeded {len(rows)} tenants, {n} counters, {len(schemes)} schemes")

        root = rows[0]

        def compute(node: dict[str, Any]) -> service.ResultsView:
            with db.unit_of_work(Scope.tenant(node["path"])) as s:
                return service.compute(s, bench.admin(node), schemes[node["id"]])

        times, view = bench.timed(lambda: compute(root), args.runs)
        top = view.rows[0][0]
        print(
            f"province scheme: {len(view.rows)} cities ranked over {len(rows)} tenants' counters;"
            f" first {top.name} {top.total} points; {bench.summary(times, '≤ 1 s')}"
        )
        t = time.perf_counter()
        scored = sum(len(compute(r).rows) for r in assessors)
        whole = time.perf_counter() - t
        print(
            f"every scheme in the province: {len(assessors)} schemes, {scored} units scored and"
            f" ranked in {whole:.3f} s ({1000 * whole / len(assessors):.0f} ms a scheme;"
            " each scheme is recomputed on its own, so this is informational)"
        )


if __name__ == "__main__":
    main()
