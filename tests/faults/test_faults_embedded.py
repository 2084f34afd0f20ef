"""Kill one kind of part mid-load, on a whole stack, and nobody lifts a finger (issue 11 item 7).

A city records 科普活动 through the gateway at a steady rate; each accepted activity travels
reporting -> outbox -> broker -> assessment's counters. One part at a time is SIGKILLed: a
service's serve process, a relay and a worker, the broker, PostgreSQL. The launcher's
supervisor restarts it. Per scenario the test prints accepted writes, how many are visible,
the effects, the errors by status and the time to recovery, and asserts that every
acknowledged write is readable, every effect is applied exactly once, nothing but 503/504 was
answered while the part was down, and the stack recovered by itself.

The stack's PostgreSQL is durable here (``durable_pg=True``): the fault is a crash, not a test
cluster that was told it may lose commits.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from kepu_devstack.e2e import api, issue_accounts
from kepu_devstack.pytest_plugin import fresh_stack
from kepu_devstack.stack import Stack

PASSWORD = "Kepu#Faults2026"
CITY = "410700"  # 新乡市
WRITE_INTERVAL = 0.1  # ~10 activities per second
ALLOWED_WHILE_DOWN = {503, 504}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with fresh_stack(durable_pg=True) as s:
        yield s


@pytest.fixture(scope="module")
def city(stack: Stack) -> httpx.Client:
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    token = issue_accounts(stack, stack.admin_token(), me["id"], [CITY], PASSWORD)[CITY]
    client = api(stack, token)
    client.timeout = httpx.Timeout(15)
    return client


class Load:
    """Activities posted at a steady rate; every answer kept with its time."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.accepted: list[str] = []
        self.answers: list[tuple[float, str]] = []  # (monotonic time, status or error name)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)

    def _run(self) -> None:
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        n = 0
        while not self._stop.is_set():
            n += 1
            body = {"title": f"故障演练讲座 {n}", "date": today, "place": "新乡市",
                    "form": "讲座", "target": "进社区", "participants": 10}  # fmt: skip
            try:
                r = self.client.post("/api/v1/activities", json=body)
                status = str(r.status_code)
                if r.status_code == 201:
                    self.accepted.append(r.json()["id"])
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            self.answers.append((time.monotonic(), status))
            self._stop.wait(WRITE_INTERVAL)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def first_success_after(self, t: float) -> float | None:
        return next((at for at, s in self.answers if at > t and s == "201"), None)


def counted(stack: Stack, city_id: str) -> tuple[int, float]:
    """Assessment's view: activity facts recorded for the city, and its activities counter."""
    assert stack.pg is not None
    with psycopg.connect(stack.pg.superuser_url("kepu_assessment")) as c:
        facts = c.execute(
            "SELECT count(*) FROM metric_facts WHERE metric = 'activities' AND tenant_id = %s",
            (city_id,),
        ).fetchone()
        total = c.execute(
            "SELECT coalesce(sum(value), 0) FROM metric_counters"
            " WHERE metric = 'activities' AND tenant_id = %s",
            (city_id,),
        ).fetchone()
    return int(facts[0] if facts else 0), float(total[0] if total else 0)


def visible(client: httpx.Client) -> set[str]:
    r = client.get("/api/v1/activities", params={"limit": 1000})
    assert r.status_code == 200, r.text
    body = r.json()
    items = body.get("activities") or body.get("items") or []
    return {a["id"] for a in items}


def wait_until(cond: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return True
        except (httpx.HTTPError, psycopg.Error):
            pass
        time.sleep(0.5)
    return False


def kill_process(stack: Stack, name: str) -> None:
    os.killpg(stack.procs[name].pid, signal.SIGKILL)


def kill_broker(stack: Stack) -> None:
    assert stack.broker is not None and stack.broker.proc is not None
    os.kill(stack.broker.proc.pid, signal.SIGKILL)


def kill_postgres(stack: Stack) -> None:
    assert stack.pg is not None and stack.pg.proc is not None
    os.killpg(stack.pg.proc.pid, signal.SIGKILL)


def kill_relay_and_worker(stack: Stack) -> None:
    kill_process(stack, "reporting-relay")
    kill_process(stack, "assessment-worker")


SCENARIOS: dict[str, Callable[[Stack], None]] = {
    "serve": lambda s: kill_process(s, "reporting-serve"),
    "relay+worker": kill_relay_and_worker,
    "broker": kill_broker,
    "postgresql": kill_postgres,
}
FIGURES: dict[str, str] = {}


@pytest.mark.parametrize("part", list(SCENARIOS))
def test_a_killed_part_loses_nothing_and_recovers_by_itself(stack, city, part):
    city_id = city.get("/api/v1/tenants/me").json()["id"]
    before_facts, _ = counted(stack, city_id)
    with Load(city) as load:
        assert wait_until(lambda: len(load.accepted) >= 10, 60), load.answers[-5:]
        killed_at = time.monotonic()
        SCENARIOS[part](stack)
        # recovered: a write accepted after the kill, and the supervisor restarted the part
        assert wait_until(
            lambda: load.first_success_after(killed_at + 0.5) is not None and not stack.crashed(),
            120,
        ), f"no recovery: {Counter(s for _, s in load.answers[-40:])}"
        recovered = load.first_success_after(killed_at + 0.5)
        time.sleep(2)
    accepted = list(load.accepted)
    errors = Counter(s for at, s in load.answers if s != "201")

    facts_now = lambda: counted(stack, city_id)[0] - before_facts  # noqa: E731
    assert wait_until(lambda: facts_now() == len(accepted), 120), (
        f"{len(accepted) - facts_now()} of {len(accepted)} accepted activities not counted"
    )
    seen = visible(city)
    facts, total = counted(stack, city_id)
    figures = (
        f"{part}: accepted {len(accepted)}, visible {len(seen & set(accepted))},"
        f" effects {facts - before_facts}, errors {dict(errors) or 'none'},"
        f" recovery {(recovered or killed_at) - killed_at:.1f} s,"
        f" restarts {dict(stack.supervisor.restarts) if stack.supervisor else {}}"
    )
    FIGURES[part] = figures
    print("\n" + figures)  # noqa: T201 - the figures the report quotes (pytest -s)
    assert set(accepted) <= seen  # every acknowledged write is readable
    assert facts - before_facts == len(accepted)  # every effect once: no loss ...
    assert total == facts  # ... and the counter moved once per activity, no double
    assert set(errors) <= {str(c) for c in ALLOWED_WHILE_DOWN}, errors
