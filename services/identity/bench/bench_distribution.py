"""Benchmark (not a test): credential distribution for a province-sized tree (~2,600 tenants).

Seeds the Henan tree (175 tenants) plus synthetic townships up to --tenants, then issues an
admin account to every descendant of the province (argon2id hash, sealed password, audit row
and outbox event per account, the xlsx sheet and the one-page-per-tenant docx slips).
"""

from __future__ import annotations

import argparse
import base64
import os
import tempfile
import time
from pathlib import Path

from kepu_common.db import Scope
from kepu_common.migrations import upgrade
from kepu_common.tenancy import Principal
from kepu_devstack.postgres import EmbeddedPostgres, provision_database
from kepu_identity import repository as repo
from kepu_identity import seed
from kepu_identity.app import build
from kepu_identity.settings import IdentitySettings

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_identity" / "migrations"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenants", type=int, default=2600)
    args = ap.parse_args()
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="kepu-bench-")) / "pgdata")
    pg.start()
    try:
        owner, app_url = provision_database(pg.superuser_url(), "bench_identity")
        upgrade(MIGRATIONS, owner)
        ident = build(
            IdentitySettings(  # type: ignore[call-arg]
                IDENTITY_DATABASE_URL=app_url,
                IDENTITY_SECRET_KEY=base64.b64encode(os.urandom(32)).decode(),
            )
        )
        seed.seed_tree(ident.db)
        with ident.db.unit_of_work(Scope.system_scope()) as s:
            counties = [t for t in repo.subtree(s, "410000") if t.kind == "county"]
            province = repo.get_tenant_by_code(s, "410000")
            assert province is not None
            missing = args.tenants - len(repo.subtree(s, "410000"))
            for i in range(missing):
                county = counties[i % len(counties)]
                code = f"{county.code}{100 + i // len(counties):03d}"
                repo.insert_tenant(
                    s,
                    code=code,
                    name=f"{county.name}第{i // len(counties) + 1}乡",
                    kind="township",
                    parent_id=county.id,
                    path=f"{county.path}.{code}",
                    actor="bench",
                )
        caller = Principal(
            subject="bench",
            username="bench",
            tenant_id=province.id,
            tenant_path="410000",
            tenant_kind="province",
            roles=frozenset({"admin"}),
        )
        t0 = time.perf_counter()
        result = ident.distributor.distribute(caller, province.id, "subtree")
        dt = time.perf_counter() - t0
        print(
            f"issued {len(result.issued)} accounts in {dt:.1f} s "
            f"({dt / max(len(result.issued), 1) * 1000:.0f} ms each; sheet {len(result.sheet) // 1024} KiB, "
            f"slips {len(result.slips) // 1024} KiB)"
        )
        t0 = time.perf_counter()
        again = ident.distributor.distribute(caller, province.id, "subtree")
        print(
            f"second run: issued {len(again.issued)}, skipped {again.skipped}, {time.perf_counter() - t0:.1f} s"
        )
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
