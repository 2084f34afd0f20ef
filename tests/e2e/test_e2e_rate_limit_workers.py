"""One rate-limit budget for all the workers of a gateway instance (issue 16): a gateway of two
workers in front of the session's stack, a low per-minute budget, requests of one user on
fresh connections (so both workers answer), then a worker killed and restarted by uvicorn.

Which worker answered is read from the access log (``worker``). To learn that every worker is
up without spending the user's budget, the test's gateway believes loopback's
``X-Forwarded-For`` and the probes come from invented addresses, each with a budget of its own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from kepu_devstack.ports import PortHold, die_with_parent
from kepu_devstack.stack import Stack

# The stack may start first when this module runs alone; two workers start, one restarts.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

BUDGET = 30


class Gateway:
    """``python -m kepu_gateway`` with two workers on the stack's services and identity."""

    def __init__(self, stack: Stack, log: Path) -> None:
        self.log = log
        hold = PortHold()
        self.url = f"http://127.0.0.1:{hold.port}"
        env = {k: v for k, v in stack.env.items() if k != "GATEWAY_RUN_DIR"}
        env.update(
            GATEWAY_PORT=str(hold.port),
            GATEWAY_WORKERS="2",
            GATEWAY_RATE_LIMIT_PER_MINUTE=str(BUDGET),
            GATEWAY_TRUSTED_PROXIES="127.0.0.0/8",
        )
        hold.release()  # uvicorn's master binds it now
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kepu_gateway"],
                env=env,
                stdout=out,
                stderr=out,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.probed = 0
        self.wait_workers(2)

    def lines(self) -> list[dict[str, object]]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    def wait_workers(self, answering: int, timeout: float = 300) -> None:
        """Probe on fresh connections until ``answering`` workers in all have answered an
        API request (bounded; a starting worker on a loaded machine takes a while)."""
        deadline = time.monotonic() + timeout
        while len(self.answered_by()) < answering:
            assert self.proc.poll() is None, self.log.read_text()[-4000:]
            assert time.monotonic() < deadline, self.log.read_text()[-4000:]
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(self.probe, range(4)))
            time.sleep(0.5)

    def probe(self, _: int) -> None:
        self.probed += 1
        address = f"198.51.{self.probed // 250}.{self.probed % 250 + 1}"
        try:
            httpx.get(
                f"{self.url}/api/v1/tenants/me", headers={"X-Forwarded-For": address}, timeout=10
            )
        except httpx.HTTPError:
            pass  # not listening yet

    def requests(self) -> list[int]:
        """The worker pid of each API request answered so far, in the access log's order."""
        return [
            int(str(e["worker"]))
            for e in self.lines()
            if e.get("event") == "request" and str(e.get("path", "")).startswith("/api/")
        ]

    def answered_by(self, since: int = 0) -> dict[int, int]:
        """Worker pid -> how many API requests it answered (after the first ``since``)."""
        counts: dict[int, int] = {}
        for pid in self.requests()[since:]:
            counts[pid] = counts.get(pid, 0) + 1
        return counts

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope="module")
def gateway(stack: Stack) -> Iterator[Gateway]:
    if stack.keycloak is not None:
        pytest.skip("the limiter is the gateway's own: once, on the embedded engines, is enough")
    # Not under pytest's basetemp: a concurrent pytest run may prune those directories.
    logs = Path(tempfile.mkdtemp(prefix="kepu-gateway-test-"))
    g = Gateway(stack, logs / "gateway.log")
    try:
        yield g
    finally:
        g.stop()
        shutil.rmtree(logs, ignore_errors=True)


def burst(url: str, token: str, n: int) -> list[int]:
    """``n`` requests of one user, 8 at a time, each on a connection of its own."""

    def one(_: int) -> int:
        r = httpx.get(
            f"{url}/api/v1/tenants/me", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        return r.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(n)))


def minute() -> int:
    return int(time.time() // 60)


def start_of_a_fresh_minute() -> int:
    """The current minute once it has 25 s left at least (a burst must fit in one window)."""
    left = 60 - time.time() % 60
    if left < 25:
        time.sleep(left + 0.2)
    return minute()


def test_two_workers_share_one_budget_across_a_worker_restart(
    stack: Stack, gateway: Gateway
) -> None:
    token = stack.admin_token()
    spent_in = start_of_a_fresh_minute()
    before = len(gateway.requests())
    codes = burst(gateway.url, token, 2 * BUDGET)
    assert minute() == spent_in, "the burst spanned two windows; the machine was too slow"
    workers = gateway.answered_by(since=before)
    assert len(workers) == 2, workers  # both workers answered the same user
    assert codes.count(200) == BUDGET and codes.count(429) == BUDGET, (codes, workers)

    r = httpx.get(f"{gateway.url}/api/v1/tenants/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 429 and r.headers["retry-after"] == "60"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "请求过于频繁" in r.json()["detail"]

    # one worker killed: uvicorn starts another, which counts in the same table
    os.kill(max(workers, key=lambda pid: workers[pid]), signal.SIGKILL)
    gateway.wait_workers(3)
    (restarted,) = set(gateway.answered_by()) - set(workers)
    window = start_of_a_fresh_minute()
    before = len(gateway.requests())
    codes = burst(gateway.url, token, 2 * BUDGET)
    assert minute() == window, "the burst spanned two windows; the machine was too slow"
    if window == spent_in:  # the restart was quick: the same window, still spent
        assert codes.count(429) == 2 * BUDGET, codes
    else:  # a new window: the restarted worker and the other share it
        assert codes.count(200) == BUDGET and codes.count(429) == BUDGET, codes
    assert restarted in gateway.answered_by(since=before)  # the new worker counted some
