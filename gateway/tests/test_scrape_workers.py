"""One scrape of the gateway's /metrics shows every worker process, also after one was killed.

The gateway runs as ``python -m kepu_gateway`` with two uvicorn workers (nothing else is needed
for /metrics): Prometheus reaches one worker per scrape, and must still see both.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kepu_devstack.e2e import eventually
from kepu_devstack.ports import free_port

WORKER = re.compile(r'process_cpu_seconds_total\{worker="(\d+)"\}')


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {
        **os.environ,
        "GATEWAY_PORT": str(port),
        "GATEWAY_WORKERS": "2",
        "GATEWAY_RUN_DIR": str(run_dir),
        "IDENTITY_HTTP_URL": f"http://127.0.0.1:{free_port()}",  # nothing there: not needed here
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kepu_gateway"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gateway.log").open("wb"),
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", run_dir
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _workers(url: str) -> set[str] | None:
    try:
        r = httpx.get(f"{url}/metrics", timeout=5)
    except httpx.HTTPError:
        return None
    return set(WORKER.findall(r.text)) if r.status_code == 200 else None


def test_every_scrape_shows_every_worker_also_after_one_is_killed(
    gateway: tuple[str, Path],
) -> None:
    url, _run_dir = gateway
    both = eventually(
        lambda: w if len(w := _workers(url) or set()) == 2 else None,
        "two workers on one page",
        timeout=300,
    )
    # Whichever worker answers, the page is the same set: ask several times on fresh connections.
    for _ in range(6):
        assert _workers(url) == both

    victim = sorted(both)[0]
    os.kill(int(victim), signal.SIGKILL)  # uvicorn's supervisor starts a new worker

    def replaced() -> set[str] | None:
        w = _workers(url) or set()
        return w if len(w) == 2 and victim not in w else None

    after = eventually(replaced, "the killed worker replaced on the page", timeout=300)
    assert victim not in after and (both - {victim}) <= after
