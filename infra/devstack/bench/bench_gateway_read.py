"""Benchmark (not a test): the read path gateway -> gRPC -> PostgreSQL next to its monolith.

Starts a whole stack (or uses --url with --username/--password) and a monolith of the same read
(``monolith_read.py``: one FastAPI app doing the token check, RLS scope and query itself), then
for each of the two sends ``GET /api/v1/tenants/me``
1. at a fixed 200 req/s for --seconds (p50/p99 from each request's due time), and
2. as fast as --connections keep-alive connections go (req/s, p99),
with the load generator (``kepu_devstack.bench.http_load``) in a process of its own on the same
cores. Prints the figures, the ratios to the monolith and, with --json, writes them.
SPEC targets: within 1.3x of the monolith; >= 1,500 req/s; p99 <= 10 ms at 200 req/s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from kepu_devstack.bench import group_cpu_seconds, http_load

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def measure(
    url: str, token: str, seconds: float, connections: int, groups: set[int]
) -> dict[str, dict]:
    """Both loads on ``url``; the max-rate one also with the CPU time the serving processes
    (``groups``: the path's processes and PostgreSQL) spent per request."""
    headers = {"Authorization": f"Bearer {token}"}
    http_load(url, headers, rate=50, seconds=1, connections=4)  # warm-up
    fixed = http_load(url, headers, rate=200, seconds=seconds, connections=16)
    cpu = group_cpu_seconds(groups)
    top = http_load(url, headers, seconds=seconds, connections=connections)
    top["cpu_ms_per_request"] = (group_cpu_seconds(groups) - cpu) * 1000 / max(top["requests"], 1)
    return {"fixed_200": fixed, "max": top}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="gateway base URL of a running stack (no monolith then)")
    ap.add_argument("--username", default="henan_admin")
    ap.add_argument("--password", default="Kepu@Henan2026")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    stack, mono = None, None
    base = args.url
    workers = os.environ.get("GATEWAY_WORKERS", "2")
    if not base:
        from kepu_devstack.stack import Stack

        # One benchmark user would otherwise hit the per-user rate limit (1,200 requests a minute).
        stack = Stack(
            var_dir=Path(tempfile.mkdtemp(prefix="kepu-bench-")),
            extra_env={"GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000", "GATEWAY_WORKERS": workers},
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
        figures: dict[str, dict] = {}
        pg_group = (
            {stack.pg.proc.pid} if stack is not None and stack.pg and stack.pg.proc else set()
        )
        if stack is not None:
            port = free_port()
            issuer = stack.env["OIDC_ISSUER"]
            jwks = (
                f"{stack.env['IDENTITY_HTTP_URL']}/auth/realms/kepu/protocol/openid-connect/certs"
            )
            mono = subprocess.Popen(
                [sys.executable, str(HERE / "monolith_read.py"), str(port),
                 stack.env["IDENTITY_DATABASE_URL"], issuer, jwks, workers],
                start_new_session=True,
            )  # fmt: skip
            mono_url = f"http://127.0.0.1:{port}/api/v1/tenants/me"
            wait_http(mono_url)
            mono_groups = {mono.pid} | pg_group
            figures["monolith"] = measure(
                mono_url, token, args.seconds, args.connections, mono_groups
            )
        stack_groups = {p.pid for p in stack.procs.values()} | pg_group if stack else set()
        figures["gateway"] = measure(
            f"{base}/api/v1/tenants/me", token, args.seconds, args.connections, stack_groups
        )
        if "monolith" in figures:  # again, so drift of the shared machine hits both
            again = measure(mono_url, token, args.seconds, args.connections, mono_groups)
            for k, v in again.items():
                if v["rps"] > figures["monolith"][k]["rps"]:
                    figures["monolith"][k] = v
        for name, f in figures.items():
            print(
                f"{name} (workers {workers}): 200 req/s p50 {f['fixed_200']['p50_ms']:.1f} ms"
                f" p99 {f['fixed_200']['p99_ms']:.1f} ms; max {f['max']['rps']:.0f} req/s"
                f" (p99 {f['max']['p99_ms']:.1f} ms, {f['max']['errors']} errors,"
                f" {f['max']['cpu_ms_per_request']:.2f} ms CPU per request)"
            )
        if "monolith" in figures:
            g, m = figures["gateway"], figures["monolith"]
            figures["ratio"] = {
                "throughput": m["max"]["rps"] / max(g["max"]["rps"], 1e-9),
                "p99_200": g["fixed_200"]["p99_ms"] / max(m["fixed_200"]["p99_ms"], 1e-9),
                "cpu_per_request": g["max"]["cpu_ms_per_request"]
                / max(m["max"]["cpu_ms_per_request"], 1e-9),
            }
            print(
                f"distributed / monolith: throughput {figures['ratio']['throughput']:.2f}x fewer,"
                f" p99 at 200 req/s {figures['ratio']['p99_200']:.2f}x, CPU per request"
                f" {figures['ratio']['cpu_per_request']:.2f}x (target <= 1.3x)"
            )
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
    finally:
        if mono is not None:
            os.killpg(mono.pid, 15)
            mono.wait(10)
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
