"""Benchmark (not a test): from a committed change to its effect in another service.

Creates townships through the gateway (identity commits the tenant and its
`identity.tenant.changed` event in one transaction); the relay publishes to the
broker; the talent and reporting consumers add the tenant to their read models.
Prints p50/p99 of commit -> effect in each consumer. SPEC target: p99 <= 1 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from kepu_devstack.stack import Stack

N = 30


def main() -> None:
    stack = Stack(var_dir=Path(tempfile.mkdtemp(prefix="kepu-bench-")))
    stack.start()
    try:
        assert stack.pg is not None
        token = stack.admin_token()
        api = httpx.Client(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"})
        # townships are created by the county's own admin: issue its account and set it up
        province_id = api.get("/api/v1/tenants/me").json()["id"]
        t_dist = time.perf_counter()
        sheet = api.post(
            f"/api/v1/tenants/{province_id}/credentials",
            json={"scope": "subtree"},
            headers={"Accept": "application/json"},
            timeout=600,
        ).json()
        print(
            f"credential distribution for the province subtree: {len(sheet['issued'])} accounts"
            f" in {time.perf_counter() - t_dist:.1f} s (sheet + slips included)"
        )
        initial = next(c for c in sheet["issued"] if c["tenant_code"] == "411303")[
            "initial_password"
        ]
        new = "Wolong#Bench2026"
        httpx.post(
            f"{stack.issuer}/account/password",
            json={"username": "kx411303", "currentPassword": initial, "newPassword": new},
        )
        county_api = httpx.Client(
            base_url=stack.gateway_url,
            headers={"Authorization": f"Bearer {stack.login('kx411303', new)}"},
        )
        county = county_api.get("/api/v1/tenants/me").json()
        dbs = {
            svc: psycopg.connect(stack.pg.superuser_url(f"kepu_{svc}"), autocommit=True)
            for svc in ("talent", "reporting")
        }
        results: dict[str, list[float]] = {svc: [] for svc in dbs}
        for i in range(N):
            code = f"411303{200 + i:03d}"
            t0 = time.perf_counter()
            r = county_api.post(
                f"/api/v1/tenants/{county['id']}/children",
                json={"code": code, "name": f"测试镇{i}", "kind": "township"},
            )
            assert r.status_code == 201, r.text
            pending = set(dbs)
            while pending and time.perf_counter() - t0 < 30:
                for svc in list(pending):
                    if (
                        dbs[svc]
                        .execute("SELECT 1 FROM tenants WHERE code = %s", (code,))
                        .fetchone()
                    ):
                        results[svc].append(time.perf_counter() - t0)
                        pending.discard(svc)
                time.sleep(0.005)
        for svc, lat in results.items():
            lat.sort()
            print(
                f"{svc}: n={len(lat)} p50={statistics.median(lat) * 1000:.0f} ms "
                f"p99={lat[max(0, int(len(lat) * 0.99) - 1)] * 1000:.0f} ms (commit -> read model)"
            )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
