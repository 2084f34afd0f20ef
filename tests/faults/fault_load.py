"""What every fault scenario shares (issue 11 item 7): the write load, the views that count it,
the kills, and the one test body that asserts nothing was lost.

A city records 科普活动 through the gateway at a steady rate; each accepted activity travels
reporting -> outbox -> broker -> assessment's counters. :func:`survive` kills one part mid-load,
lets the launcher's supervisor restart it, and asserts that every acknowledged write is
readable, every effect is applied exactly once, nothing but 503/504 was answered while the part
was down, and the stack recovered by itself. Its figures land in :data:`FIGURES`, which
``conftest.py`` prints in pytest's terminal summary (and ``-s`` shows as they come):
"recovery" is the first write accepted after the kill; "all effects in" is when the last effect
was applied, at the earliest once the load stopped (2 s after recovery), later when a killed
broker or worker held the effects up.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import psycopg
from kepu_devstack.e2e import api, issue_accounts
from kepu_devstack.stack import Stack

PASSWORD = "Kepu#Faults2026"
CITY = "410700"  # 新乡市
WRITE_INTERVAL = 0.1  # ~10 activities per second
ALLOWED_WHILE_DOWN = {503, 504}
RECOVERY_TIMEOUT = 120.0

# "<engine> <part>" -> one line of figures, printed in the terminal summary
FIGURES: dict[str, str] = {}

Kill = Callable[[Stack], None]


def city_client(stack: Stack) -> httpx.Client:
    """The gateway as 新乡市's new account (the province issues it)."""
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
    """SIGKILL the broker (Tansu or Apache Kafka); the supervisor starts it again."""
    assert stack.broker is not None and stack.broker.proc is not None
    os.kill(stack.broker.proc.pid, signal.SIGKILL)


def kill_postgres(stack: Stack) -> None:
    assert stack.pg is not None and stack.pg.proc is not None
    os.killpg(stack.pg.proc.pid, signal.SIGKILL)


def kill_relay_and_worker(stack: Stack) -> None:
    kill_process(stack, "reporting-relay")
    kill_process(stack, "assessment-worker")


def survive(stack: Stack, city: httpx.Client, label: str, kill: Kill) -> None:
    """Kill one part under load and assert the scenario's promises; figures in FIGURES[label]."""
    city_id = city.get("/api/v1/tenants/me").json()["id"]
    before_facts, _ = counted(stack, city_id)
    restarts_before = dict(stack.supervisor.restarts) if stack.supervisor else {}
    with Load(city) as load:
        assert wait_until(lambda: len(load.accepted) >= 10, 60), load.answers[-5:]
        killed_at = time.monotonic()
        kill(stack)
        # recovered: a write accepted after the kill, and the supervisor restarted the part
        assert wait_until(
            lambda: load.first_success_after(killed_at + 0.5) is not None and not stack.crashed(),
            RECOVERY_TIMEOUT,
        ), f"no recovery: {Counter(s for _, s in load.answers[-40:])}"
        recovered = load.first_success_after(killed_at + 0.5)
        time.sleep(2)
    load_ran = time.monotonic() - killed_at
    accepted = list(load.accepted)
    errors = Counter(s for _, s in load.answers if s != "201")

    def effects() -> int:
        return counted(stack, city_id)[0] - before_facts

    all_counted = wait_until(lambda: effects() == len(accepted), RECOVERY_TIMEOUT)
    caught_up = time.monotonic() - killed_at  # the last effect applied (within the poll's 0.5 s)
    seen = visible(city)
    facts, total = counted(stack, city_id)
    restarts = {
        name: n - restarts_before.get(name, 0)
        for name, n in (stack.supervisor.restarts if stack.supervisor else {}).items()
        if n > restarts_before.get(name, 0)
    }
    FIGURES[label] = (
        f"{label}: accepted {len(accepted)}, visible {len(seen & set(accepted))},"
        f" effects {facts - before_facts}, errors {dict(errors) or 'none'},"
        f" recovery {(recovered or killed_at) - killed_at:.1f} s (first write accepted),"
        f" load ran {load_ran:.1f} s after the kill, all effects in at {caught_up:.1f} s,"
        f" restarts {restarts or 'none'}"
    )
    print("\n" + FIGURES[label])  # noqa: T201 - the figures the report quotes (pytest -s)
    assert all_counted, f"{len(accepted) - effects()} of {len(accepted)} accepted not counted"
    assert set(accepted) <= seen  # every acknowledged write is readable
    assert facts - before_facts == len(accepted)  # every effect once: no loss ...
    assert total == facts  # ... and the counter moved once per activity, no double
    assert set(errors) <= {str(c) for c in ALLOWED_WHILE_DOWN}, errors
