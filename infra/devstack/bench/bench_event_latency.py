"""Benchmark (not a test): from a committed change to its effect in another service.

Creates townships through the gateway (identity commits the tenant and its
`identity.tenant.changed` event in one transaction); the relay publishes to the
broker; the talent and reporting consumers add the tenant to their read models.
Prints p50/p99 of commit -> effect in each consumer, first on a quiet stack, then while
``KEPU_BENCH_WRITES_PER_S`` (default 200) other writes per second go through identity's outbox
(each its own transaction, an event of a type the consumers skip, on the same topic: the
relay publishes them and every consumer group of ``identity.events`` reads and records them).
SPEC target: p99 <= 500 ms under 200 writes/s. ``KEPU_BROKER=kafka`` runs it on Apache Kafka.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from kepu.events.v1 import envelope_pb2
from kepu_common.db import Database, Scope
from kepu_common.outbox import record_event
from kepu_devstack.bench import p99
from kepu_devstack.stack import Stack

N = 30
WRITES_PER_S = float(os.environ.get("KEPU_BENCH_WRITES_PER_S", "200"))
WRITERS = 4  # threads sharing the load, each one transaction per write
LOAD_PATH = "410000"


class Load:
    """``rate`` writes per second into identity's outbox on a fixed schedule (no catch-up
    bursts beyond one interval); ``done`` counts the committed ones."""

    def __init__(self, database_url: str, rate: float) -> None:
        self.db = Database(database_url, pool_size=WRITERS)
        self.interval = WRITERS / rate
        self.done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(WRITERS)]

    def _run(self) -> None:
        due = time.perf_counter()
        while not self._stop.is_set():
            with self.db.unit_of_work(Scope.system_scope()) as s:
                record_event(
                    s,
                    topic="identity.events",
                    event_type="bench.load",
                    tenant_id=f"bench-{self.done % 60}",
                    tenant_path=LOAD_PATH,
                    actor="bench",
                    payload=envelope_pb2.AuditRecorded(action="bench load"),
                )
            with self._lock:
                self.done += 1
            due = max(due + self.interval, time.perf_counter() - self.interval)
            self._stop.wait(max(0.0, due - time.perf_counter()))

    def start(self) -> None:
        self.t0 = time.perf_counter()
        for t in self._threads:
            t.start()

    def stop(self) -> float:
        """Stop; the rate actually achieved (writes/s)."""
        self._stop.set()
        for t in self._threads:
            t.join(10)
        rate = self.done / (time.perf_counter() - self.t0)
        self.db.dispose()
        return rate


def county_login(stack: Stack) -> Callable[[], httpx.Client]:
    """The county 411303's admin (townships are created by their county): its account issued
    with the province's credential sheet and its password set; each call signs in afresh (a
    slow run outlives a token)."""
    token = stack.admin_token()
    api = httpx.Client(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"})
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
    initial = next(c for c in sheet["issued"] if c["tenant_code"] == "411303")["initial_password"]
    new = "Wolong#Bench2026"
    httpx.post(
        f"{stack.issuer}/account/password",
        json={"username": "kx411303", "currentPassword": initial, "newPassword": new},
    )
    return lambda: httpx.Client(
        base_url=stack.gateway_url,
        headers={"Authorization": f"Bearer {stack.login('kx411303', new)}"},
    )


def measure(stack: Stack, county_api: httpx.Client, first: int) -> dict[str, list[float]]:
    """Commit -> read-model latency of N township creations, per consumer service (s)."""
    assert stack.pg is not None
    county = county_api.get("/api/v1/tenants/me").json()
    dbs = {
        svc: psycopg.connect(stack.pg.superuser_url(f"kepu_{svc}"), autocommit=True)
        for svc in ("talent", "reporting")
    }
    results: dict[str, list[float]] = {svc: [] for svc in dbs}
    for i in range(first, first + N):
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
                if dbs[svc].execute("SELECT 1 FROM tenants WHERE code = %s", (code,)).fetchone():
                    results[svc].append(time.perf_counter() - t0)
                    pending.discard(svc)
            time.sleep(0.005)
        time.sleep(0.1)  # one creation at a time, spaced: latency, not throughput
    for conn in dbs.values():
        conn.close()
    return results


def report(label: str, results: dict[str, list[float]]) -> None:
    for svc, lat in results.items():
        lat.sort()
        print(
            f"{label} {svc}: n={len(lat)} p50={statistics.median(lat) * 1000:.0f} ms "
            f"p99={p99(lat) * 1000:.0f} ms (commit -> read model)"
        )


def run(stack: Stack) -> None:
    """Both measurements on a started stack: quiet, then under the write load."""
    county = county_login(stack)
    report("quiet", measure(stack, county(), 0))
    load = Load(stack.env["IDENTITY_DATABASE_URL"], WRITES_PER_S)
    load.start()
    time.sleep(5)  # the relay and consumers in their steady state
    try:
        results = measure(stack, county(), N)
    finally:
        rate = load.stop()
    report(f"under {rate:.0f} writes/s", results)


def main() -> None:
    stack = Stack(var_dir=Path(tempfile.mkdtemp(prefix="kepu-bench-")))
    stack.start()
    try:
        run(stack)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
