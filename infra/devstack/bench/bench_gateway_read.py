"""Benchmark (not a test): a read through gateway -> gRPC -> PostgreSQL on loopback.

Starts a whole stack (or uses --url with --username/--password), then
1. sends GET /api/v1/tenants/me at a fixed 200 req/s for --seconds and prints p50/p99 latency;
2. sends as fast as --workers threads can and prints the throughput.
SPEC targets: p99 <= 25 ms at 200 req/s; >= 1,500 req/s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx


def fixed_rate(url: str, token: str, rate: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    interval = 1.0 / rate
    start = time.perf_counter()
    n = int(rate * seconds)

    def worker(offset: int, step: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
            for i in range(offset, n, step):
                due = start + i * interval
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                t0 = time.perf_counter()
                r = c.get(url)
                dt = time.perf_counter() - t0
                assert r.status_code == 200, r.text
                with lock:
                    latencies.append(dt)

    threads = [threading.Thread(target=worker, args=(k, 8)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def max_throughput(url: str, token: str, workers: int, seconds: float) -> float:
    count = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
            local = 0
            while time.perf_counter() < stop:
                if c.get(url).status_code == 200:
                    local += 1
            with lock:
                count[0] += local

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="gateway base URL of a running stack")
    ap.add_argument("--username", default="henan_admin")
    ap.add_argument("--password", default="Kepu@Henan2026")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()
    stack = None
    base = args.url
    if not base:
        from kepu_devstack.stack import Stack

        # One benchmark user would otherwise hit the per-user rate limit (1,200 requests a minute).
        stack = Stack(
            var_dir=Path(tempfile.mkdtemp(prefix="kepu-bench-")),
            extra_env={"GATEWAY_RATE_LIMIT_PER_MINUTE": "10000000"},
        )
        stack.start()
        base = stack.gateway_url
    try:
        r = httpx.post(
            f"{base}/auth/realms/kepu/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "kepu-cli",
                "username": args.username,
                "password": args.password,
            },
        )
        token = r.json()["access_token"]
        url = f"{base}/api/v1/tenants/me"
        fixed_rate(url, token, 50, 1)  # warm-up
        lat = sorted(fixed_rate(url, token, 200, args.seconds))
        p50 = statistics.median(lat) * 1000
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000
        print(
            f"fixed 200 req/s for {args.seconds:.0f}s: n={len(lat)} p50={p50:.1f} ms p99={p99:.1f} ms"
        )
        tput = max_throughput(url, token, args.workers, args.seconds)
        print(f"max throughput with {args.workers} client threads: {tput:.0f} req/s")
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
