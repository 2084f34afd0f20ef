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
import hashlib
import json
import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kepu_devstack.bench import p99

ROOT = Path(__file__).parents[3]


def migrations(svc: str) -> Path:
    return ROOT / "services" / svc / "src" / f"kepu_{svc}" / "migrations"


SERVICES = ("talent", "reporting")
CACHE = ROOT / ".var" / "bench"
GENERATOR = [
    ROOT / "infra" / "devstack" / "src" / "kepu_devstack" / name
    for name in ("bench_data.py", "bench.py")
]


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def migration_files() -> dict[str, str]:
    """Each migration script of the benchmarked services -> the digest of its text."""
    return {
        f"{svc}/{path.name}": _digest([path])
        for svc in SERVICES
        for path in sorted((migrations(svc) / "versions").glob("*.py"))
    }


def cache_dir(factor: float) -> Path:
    """Where the filled cluster of ``factor`` lives: keyed by the factor and a digest of the
    generator and of the migrations it was generated at (``.var/bench/scale-f1-<digest>``)."""
    migs = json.dumps(migration_files(), sort_keys=True).encode()
    key = hashlib.sha256(_digest(GENERATOR).encode() + migs).hexdigest()[:12]
    return CACHE / f"scale-f{factor:g}-{key}"


def _reusable(factor: float) -> Path | None:
    """A complete cached cluster of ``factor`` made by this generator whose migrations are all
    still here unchanged (newer migrations are applied on top, as a deployment would)."""
    current, generator = migration_files(), _digest(GENERATOR)
    for meta_path in sorted(CACHE.glob(f"scale-f{factor:g}-*/meta.json")):
        meta = json.loads(meta_path.read_text())
        applied = meta.get("migrations", {})
        if meta.get("generator") == generator and all(
            current.get(name) == digest for name, digest in applied.items()
        ):
            return meta_path.parent
    return None


def filled_cluster(
    factor: float, *, fresh: bool, upgrade_cache: bool = True
) -> tuple[Any, dict[str, str], dict[str, Any]]:
    """A started embedded PostgreSQL holding the national data at ``factor``, the app role's URL
    of each service's database and what the benchmark needs of the data (tree root and first
    province, counts, the talent keys it was sealed with, whether it was reused).

    Generation at factor 1 takes tens of minutes, so the filled cluster is kept under
    ``.var/bench`` and reused while the generator and the migrations it was made with are
    unchanged; a migration added since is applied to it (``--fresh`` generates again)."""
    import psycopg
    from kepu_common.migrations import upgrade
    from kepu_devstack import bench_data
    from kepu_devstack.postgres import EmbeddedPostgres, provision_database

    found = None if fresh else _reusable(factor)
    target, applied = found or cache_dir(factor), migration_files()  # read once, before upgrade
    work = target if found else target.with_name(target.name + f".tmp-{os.getpid()}")
    if not found:
        shutil.rmtree(work, ignore_errors=True)
    pg = EmbeddedPostgres(work / "pg", durable=False)
    pg.start()
    try:
        apps: dict[str, str] = {}
        for svc in SERVICES:
            owner, apps[svc] = provision_database(pg.superuser_url(), f"kepu_{svc}")
            if upgrade_cache or not found:
                upgrade(migrations(svc), owner)  # a no-op unless a migration was added since
        if found:
            data = json.loads((found / "meta.json").read_text())
            added = sorted(set(applied) - set(data["migrations"]))
            print(
                f"reusing the factor-{factor:g} data in {found}"
                f" (generated in {data['counts']['seconds']} s"
                + (f"; applied on top: {', '.join(added)}" if added and upgrade_cache else "")
                + ")",
                flush=True,
            )
            if added and upgrade_cache:
                data["migrations"] = applied
                (found / "meta.json").write_text(json.dumps(data, ensure_ascii=False))
            return pg, apps, data | {"reused": True}
        env = {"TALENT_SECRET_KEY": base64.b64encode(os.urandom(32)).decode()}
        base = pg.superuser_url().rsplit("/", 1)[0]
        print(f"generating the factor-{factor:g} data into {target} ...", flush=True)
        t0 = time.perf_counter()
        tree, counts = bench_data.generate({svc: f"{base}/kepu_{svc}" for svc in apps}, env, factor)
        seconds = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        for svc in apps:  # the visibility map autovacuum would set after a bulk load
            with psycopg.connect(f"{base}/kepu_{svc}", autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE)")
        vacuum = round(time.perf_counter() - t0, 1)
        data = {
            "tree": tree[:2], "env": env, "period": bench_data._months(1)[0], "generator": _digest(GENERATOR),
            "migrations": applied,
            "counts": {
                "tenants": counts.tenants, "talents": counts.talents, "briefs": counts.briefs,
                "activities": counts.activities, "seconds": seconds, "vacuum_seconds": vacuum,
                "parts": {k: round(v, 1) for k, v in counts.seconds.items()},
            },
        }  # fmt: skip
        print(
            f"generated at factor {factor:g}: {counts.tenants} tenants, {counts.talents} talents,"
            f" {counts.briefs} briefs, {counts.activities} activities in {seconds} s"
            f" ({', '.join(f'{k} {v:.1f} s' for k, v in counts.seconds.items())}, ANALYZE after);"
            f" VACUUM {vacuum} s",
            flush=True,
        )
    except BaseException:
        pg.stop()
        if not found:
            shutil.rmtree(work, ignore_errors=True)
        raise
    # Complete: stopped cleanly, then moved into place, so a half-filled cluster is never reused.
    pg.stop()
    (work / "meta.json").write_text(json.dumps(data, ensure_ascii=False))
    work.rename(target)
    pg = EmbeddedPostgres(target / "pg", port=pg.port, durable=False)
    pg.start()
    return pg, apps, data | {"reused": False}


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
        "p99_ms": p99(times) * 1000,
        "max_ms": times[-1] * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--fresh", action="store_true", help="generate again, ignoring the cache")
    ap.add_argument("--only", default="", help="only the cases whose label contains this")
    ap.add_argument(
        "--no-upgrade", action="store_true", help="reuse the cache as it is (a before figure)"
    )
    args = ap.parse_args()

    import grpc
    from kepu.reporting.v1 import reporting_pb2 as rpb
    from kepu.reporting.v1 import reporting_pb2_grpc as rpbg
    from kepu.talent.v1 import talent_pb2 as tpb
    from kepu.talent.v1 import talent_pb2_grpc as tpbg
    from kepu_common.db import Database
    from kepu_common.grpcio import make_server, metadata
    from kepu_devstack import bench_data
    from kepu_devstack.tokens import TestIssuer
    from kepu_reporting.clock import SystemClock
    from kepu_reporting.grpc_api import ReportingServicer
    from kepu_talent.app import build
    from kepu_talent.settings import TalentSettings

    factor = bench_data.factor_from_env()
    figures: dict[str, Any] = {"factor": factor}
    pg, apps, data = filled_cluster(factor, fresh=args.fresh, upgrade_cache=not args.no_upgrade)
    figures["generated"] = data["counts"] | {"reused": data["reused"]}
    tree, env = data["tree"], data["env"]
    dbs: list[Database] = []
    server = None
    try:
        issuer = TestIssuer()
        talent_db, reporting_db = Database(apps["talent"], pool_size=2), Database(apps["reporting"])
        dbs += [talent_db, reporting_db]
        talent = build(
            TalentSettings(TALENT_DATABASE_URL="postgresql://unused", **env),
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
        last = (data["counts"]["talents"] + 19) // 20
        page500, middle = min(500, max(1, last)), max(1, last // 2)
        name = talents.ListTalents(tpb.ListTalentsRequest(page=1, page_size=20), metadata=national)
        surname = name.talents[0].fields.name[:2] if name.talents else "王"
        period = data["period"]  # the newest month of briefs (when the data was generated)

        def listing(md: list[tuple[str, str]], page: int = 1, **q: str) -> Callable[[], Any]:
            """One talent-list or search call (20 a page) as ``md``'s admin."""
            request = tpb.ListTalentsRequest(page=page, page_size=20, **q)
            return lambda: talents.ListTalents(request, metadata=md)

        any_page = "p99 <= 50 ms"
        cases: dict[str, tuple[Callable[[], Any], str]] = {
            "talent list page 1": (listing(national), any_page),
            f"talent list page {page500}": (listing(national, page500), any_page),
            f"talent list page {middle} (middle)": (listing(national, middle), any_page),
            f"talent list page {last} (last)": (listing(national, last), any_page),
            f"talent list page {page500}, one province": (listing(province, page500), any_page),
            f"talent name search ({surname})": (listing(national, q=surname), any_page),
            "talent specialty search (天文)": (listing(national, specialty="天文"), any_page),
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
            if args.only not in label:
                continue
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
