"""Benchmark (not a test): lists, search and roll-ups over the national benchmark data.

Fills an embedded PostgreSQL with ``kepu_devstack.bench_data`` at ``KEPU_BENCH_FACTOR`` (1: a
45,000-tenant tree, 10^6 talents, 5x10^5 briefs, 10^5 projects, 10^6 activities), serves the
talent and reporting services over real gRPC and calls them as an admin of the root (token of a
test issuer): the talent list page 1 and page 500, a Chinese name search and a specialty
search (pg_trgm), the national and one province's 工作简报 roll-up, the activity list.

    KEPU_BENCH_FACTOR=0.05 uv run python infra/devstack/bench/bench_scale.py [--json FILE]

SPEC targets: any talent page or search p99 <= 50 ms; national roll-up <= 1 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[3]


def migrations(svc: str) -> Path:
    return ROOT / "services" / svc / "src" / f"kepu_{svc}" / "migrations"


def timed(call: Callable[[], Any], runs: int) -> dict[str, float]:
    call()  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    times.sort()
    return {
        "runs": runs,
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[max(0, int(len(times) * 0.99) - 1)] * 1000,
        "max_ms": times[-1] * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()

    import grpc
    from kepu.reporting.v1 import reporting_pb2 as rpb
    from kepu.reporting.v1 import reporting_pb2_grpc as rpbg
    from kepu.talent.v1 import talent_pb2 as tpb
    from kepu.talent.v1 import talent_pb2_grpc as tpbg
    from kepu_common.db import Database
    from kepu_common.grpcio import make_server, metadata
    from kepu_common.migrations import upgrade
    from kepu_devstack import bench_data
    from kepu_devstack.postgres import EmbeddedPostgres, provision_database
    from kepu_devstack.tokens import TestIssuer
    from kepu_reporting.clock import SystemClock
    from kepu_reporting.grpc_api import ReportingServicer
    from kepu_talent.app import build
    from kepu_talent.settings import TalentSettings

    factor = bench_data.factor_from_env()
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="kepu-bench-scale-")) / "pg")
    pg.start()
    figures: dict[str, Any] = {"factor": factor}
    dbs: list[Database] = []
    server = None
    try:
        base = pg.superuser_url().rsplit("/", 1)[0]
        apps = {}
        for svc in ("talent", "reporting"):
            owner, app = provision_database(pg.superuser_url(), f"kepu_{svc}")
            upgrade(migrations(svc), owner)
            apps[svc] = app
        env = {"TALENT_SECRET_KEY": base64.b64encode(os.urandom(32)).decode()}
        t0 = time.perf_counter()
        tree, counts = bench_data.generate({svc: f"{base}/kepu_{svc}" for svc in apps}, env, factor)
        figures["generated"] = {
            "tenants": counts.tenants, "talents": counts.talents, "briefs": counts.briefs,
            "activities": counts.activities, "seconds": round(time.perf_counter() - t0, 1),
        }  # fmt: skip
        print(
            f"generated at factor {factor}: {counts.tenants} tenants, {counts.talents} talents,"
            f" {counts.briefs} briefs, {counts.activities} activities"
            f" in {figures['generated']['seconds']} s"
        )
        issuer = TestIssuer()
        talent_db, reporting_db = Database(apps["talent"], pool_size=2), Database(apps["reporting"])
        dbs += [talent_db, reporting_db]
        talent = build(
            TalentSettings(TALENT_DATABASE_URL="postgresql://unused", **env),  # type: ignore[arg-type]
            db=talent_db,
        )
        server, port = make_server(0)
        tpbg.add_TalentServiceServicer_to_server(talent.servicer(issuer.verifier()), server)
        rpbg.add_ReportingServiceServicer_to_server(
            ReportingServicer(issuer.verifier(), reporting_db, SystemClock()), server
        )
        server.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        talents, reporting = tpbg.TalentServiceStub(channel), rpbg.ReportingServiceStub(channel)

        def as_admin(node: dict[str, Any]) -> list[tuple[str, str]]:
            token = issuer.token(
                tenant_id=node["id"], tenant_path=node["path"], tenant_kind=node["kind"]
            )
            return metadata(token)

        national, province = as_admin(tree[0]), as_admin(tree[1])
        last = (counts.talents + 19) // 20
        page500 = min(500, max(1, last))
        name = talents.ListTalents(tpb.ListTalentsRequest(page=1, page_size=20), metadata=national)
        surname = name.talents[0].fields.name[:2] if name.talents else "王"
        period = bench_data._months(1)[0]
        cases: dict[str, tuple[Callable[[], Any], str]] = {
            "talent list page 1": (
                lambda: talents.ListTalents(
                    tpb.ListTalentsRequest(page=1, page_size=20), metadata=national
                ),
                "p99 <= 50 ms",
            ),
            f"talent list page {page500}": (
                lambda: talents.ListTalents(
                    tpb.ListTalentsRequest(page=page500, page_size=20), metadata=national
                ),
                "p99 <= 50 ms",
            ),
            f"talent name search ({surname})": (
                lambda: talents.ListTalents(
                    tpb.ListTalentsRequest(q=surname, page=1, page_size=20), metadata=national
                ),
                "p99 <= 50 ms",
            ),
            "talent specialty search (天文)": (
                lambda: talents.ListTalents(
                    tpb.ListTalentsRequest(specialty="天文", page=1, page_size=20),
                    metadata=national,
                ),
                "p99 <= 50 ms",
            ),
            "brief roll-up, national": (
                lambda: reporting.ChildrenOverview(
                    rpb.ChildrenRequest(type_code="monthly_brief", period=period),
                    metadata=national,
                    timeout=60,
                ),
                "<= 1 s",
            ),  # fmt: skip
            "brief roll-up, one province": (
                lambda: reporting.ChildrenOverview(
                    rpb.ChildrenRequest(type_code="monthly_brief", period=period),
                    metadata=province,
                    timeout=60,
                ),
                "<= 1 s",
            ),  # fmt: skip
            "activity list, national, page 1": (
                lambda: reporting.ListActivities(
                    rpb.ListActivitiesRequest(subtree=True, limit=20), metadata=national
                ),
                "p99 <= 50 ms",
            ),
        }
        figures["cases"] = {}
        for label, (call, target) in cases.items():
            f = timed(call, args.runs) | {"target": target}
            figures["cases"][label] = f
            print(
                f"{label}: p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms"
                f" ({args.runs} runs; target {target})"
            )
        channel.close()
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    finally:
        if server is not None:
            server.stop(0)
        for db in dbs:
            db.dispose()
        pg.stop()


if __name__ == "__main__":
    main()
