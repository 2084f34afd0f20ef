"""The benchmark data generator at a tiny factor: what it COPYs is what the services' list and
stats APIs show, personal data sealed with the service's own keys (masked in the list, opened
by the service), and the national root sees every row (~20 s)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from kepu_devstack import bench_data

ROOT = Path(__file__).parents[3]
FACTOR = 0.0005  # 46 tenants (5 provinces, 2 cities each, 1 county, 2 townships), 500 talents, 250 briefs, 50 projects, 500 activities


def migrations(svc: str) -> Path:
    return ROOT / "services" / svc / "src" / f"kepu_{svc}" / "migrations"


@pytest.fixture(scope="module")
def generated(embedded_pg, service_database):
    pytest.importorskip("kepu_gateway.app")
    base = embedded_pg.superuser_url().rsplit("/", 1)[0]
    urls, apps = {}, {}
    for svc in ("talent", "reporting"):
        owner, app = service_database(f"benchdata_{svc}", migrations(svc))
        urls[svc] = f"{base}/{owner.rsplit('/', 1)[1]}"
        apps[svc] = app
    env = {"TALENT_SECRET_KEY": base64.b64encode(os.urandom(32)).decode()}
    tree, counts = bench_data.generate(urls, env, FACTOR)
    return tree, counts, apps, env


def test_the_lists_and_the_roll_up_of_the_root_see_the_generated_rows(generated):
    from kepu.reporting.v1 import reporting_pb2_grpc
    from kepu.talent.v1 import talent_pb2_grpc
    from kepu_common.db import Database
    from kepu_devstack.gateway_testing import gateway_client
    from kepu_reporting.clock import SystemClock
    from kepu_reporting.grpc_api import ReportingServicer
    from kepu_talent.app import build
    from kepu_talent.settings import TalentSettings

    tree, counts, apps, env = generated
    root = type("Node", (), {k: tree[0][k] for k in ("id", "path", "kind", "code")})
    assert (counts.tenants, counts.talents, counts.briefs, counts.activities) == (46, 500, 250, 500)

    talent_db = Database(apps["talent"])
    talent = build(
        TalentSettings(TALENT_DATABASE_URL="postgresql://unused", **env),  # type: ignore[arg-type]
        db=talent_db,
    )
    try:
        with gateway_client(
            "talent", talent_pb2_grpc.add_TalentServiceServicer_to_server, talent.servicer
        ) as (c, headers):
            r = c.get("/api/v1/talents", headers=headers(root), params={"page_size": 50})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["total"] == 500 and len(body["talents"]) == 50
            first = body["talents"][0]
            masked = first["fields"]["phone"]
            assert "*" in masked and masked.startswith("13") and not first["revealed"]
            # the service opens what the generator sealed (its own keys, bound to the record)
            revealed = c.get(
                f"/api/v1/talents/{first['id']}", headers=headers(root), params={"reveal": "true"}
            )
            assert revealed.status_code == 200, revealed.text
            phone = revealed.json()["fields"]["phone"]
            assert phone.isdigit() and len(phone) == 11 and phone[:3] == masked[:3]
            search = c.get(
                "/api/v1/talents", headers=headers(root), params={"q": first["fields"]["name"]}
            ).json()
            assert any(t["id"] == first["id"] for t in search["talents"])
    finally:
        talent_db.dispose()

    reporting_db = Database(apps["reporting"])
    try:
        with gateway_client(
            "reporting",
            reporting_pb2_grpc.add_ReportingServiceServicer_to_server,
            lambda verifier: ReportingServicer(verifier, reporting_db, SystemClock()),
        ) as (c, headers):
            period = bench_data._months(1)[0]
            r = c.get(f"/api/v1/reports/monthly_brief/{period}/children", headers=headers(root))
            assert r.status_code == 200, r.text
            overview = r.json()
            # every city, county and township below the root has its brief (provinces do not file)
            assert overview["subtree"]["expected"] == overview["subtree"]["submitted"] == 40
            assert len(overview["sum_sources"]) == 5  # each province's branch counted once
            sums = {s["key"]: s["value"] for s in overview["sums"]}
            assert sums["participants"] > 0
            r = c.get(
                "/api/v1/activities",
                headers=headers(root),
                params={"subtree": "true", "page": 1, "page_size": 20},
            )
            assert r.status_code == 200, r.text
            assert r.json()["total"] == 500
    finally:
        reporting_db.dispose()
