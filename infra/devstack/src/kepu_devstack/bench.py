"""What the services' benchmark scripts share (``services/*/bench/``): a synthetic tenant tree,
a database to run against, an admin principal and the timing line they print.

Benchmarks are scripts, not tests: they print figures and never fail for being slow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from kepu_common.db import Database
from kepu_common.migrations import upgrade
from kepu_common.tenancy import Principal

T = TypeVar("T")


def tenant_tree(
    shape: tuple[int, ...],
    kinds: tuple[str, ...],
    *,
    root_code: str = "410000",
    root_name: str = "河南省科协",
    first_level_code: Callable[[int], str] = lambda i: f"41{i:02d}00",
) -> list[dict[str, Any]]:
    """A root and ``shape[d]`` children per node at depth ``d`` (kind ``kinds[d]``), root first,
    level by level. Rows carry ``id``, ``code``, ``name``, ``kind``, ``path`` and ``parent``."""
    root = {"id": str(uuid.uuid4()), "code": root_code, "name": root_name, "kind": "province",
            "path": root_code, "parent": None}  # fmt: skip
    rows, level = [root], [root]
    for depth, n in enumerate(shape):
        nxt = []
        for parent in level:
            for i in range(1, n + 1):
                code = f"{parent['code']}{i:02d}" if depth else first_level_code(i)
                nxt.append({"id": str(uuid.uuid4()), "code": code, "name": code,
                            "kind": kinds[depth], "path": f"{parent['path']}.{code}",
                            "parent": parent["id"]})  # fmt: skip
        rows += nxt
        level = nxt
    return rows


def admin(node: dict[str, Any]) -> Principal:
    """An admin of ``node`` (the caller every benchmarked use case runs as)."""
    return Principal(
        subject="bench", username="bench", tenant_id=node["id"], tenant_path=node["path"],
        tenant_kind=node["kind"], roles=frozenset({"admin"}),
    )  # fmt: skip


def arguments(description: str) -> argparse.Namespace:
    """``--url``/``--owner-url`` of an existing database (else an embedded one) and ``--runs``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--url", help="the application role's URL (default: embedded PostgreSQL)")
    ap.add_argument("--owner-url", help="the owner role's URL (migrations, ANALYZE)")
    ap.add_argument("--runs", type=int, default=7)
    return ap.parse_args()


@contextmanager
def database(args: argparse.Namespace, name: str, migrations: Path) -> Iterator[Database]:
    """The service's database migrated to head: the one the URLs name, or a fresh embedded
    PostgreSQL in a temporary directory, stopped afterwards."""
    pg = None
    if not args.url:
        from .postgres import EmbeddedPostgres, provision_database

        pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="kepu-bench-")) / "pg")
        pg.start()
        args.owner_url, args.url = provision_database(pg.superuser_url(), name)
    try:
        upgrade(migrations, args.owner_url)
        db = Database(args.url)
        try:
            yield db
        finally:
            db.dispose()
    finally:
        if pg is not None:
            pg.stop()


def analyze(owner_url: str) -> None:
    """Fresh planner statistics after seeding (as autovacuum would give a real database)."""
    import psycopg

    with psycopg.connect(
        owner_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as c:
        c.execute("ANALYZE")


def p99(ordered: list[float]) -> float:
    """The 99th percentile of ``ordered`` (sorted ascending; 0.0 when empty), as every
    benchmark here reports it: the value at rank ``int(0.99 n)``."""
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else 0.0


def timed(run: Callable[[], T], runs: int) -> tuple[list[float], T]:
    """Wall times of ``runs`` calls of ``run`` and the last result."""
    times: list[float] = []
    out: T | None = None
    for _ in range(runs):
        t = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t)
    assert out is not None
    return times, out


def summary(times: list[float], target: str) -> str:
    return (
        f"{len(times)} runs: median {statistics.median(times):.3f} s, min {min(times):.3f} s,"
        f" max {max(times):.3f} s (target {target})"
    )


# --- HTTP load (the read-path benchmark) ------------------------------------------------------
#
# A small HTTP/1.1 keep-alive client on asyncio streams (uvloop), run in a process of its own so
# its work does not share the orchestrating script's interpreter. It sends one GET at a time per
# connection and reads the answer by its Content-Length: enough for JSON reads, and several
# times the rate an httpx client in threads reaches on the same cores.


def _request_bytes(url: str, headers: dict[str, str]) -> tuple[str, int, bytes]:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    lines = [f"GET {u.path}{'?' + u.query if u.query else ''} HTTP/1.1", f"Host: {u.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return u.hostname or "127.0.0.1", u.port or 80, ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _get(reader: Any, writer: Any, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


def _load(kind: str, url: str, headers: dict[str, str], rate: float, seconds: float,
          connections: int, out: Any) -> None:  # fmt: skip
    import asyncio

    import uvloop

    host, port, request = _request_bytes(url, headers)

    async def run() -> tuple[list[float], int, int]:
        latencies: list[float] = []
        errors = [0]
        conns = [await asyncio.open_connection(host, port) for _ in range(connections)]
        for reader, writer in conns:  # warm each connection
            await _get(reader, writer, request)
        start = time.perf_counter()
        stop = start + seconds
        n = int(rate * seconds) if kind == "fixed" else 0

        async def worker(k: int) -> None:
            reader, writer = conns[k]
            i = k
            while True:
                if kind == "fixed":
                    if i >= n:
                        return
                    # latency counts from the request's due time: a late send is waiting too
                    due = start + i / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    i += connections
                elif time.perf_counter() >= stop:
                    return
                else:
                    due = time.perf_counter()
                if await _get(reader, writer, request) != 200:
                    errors[0] += 1
                latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(worker(k) for k in range(connections)))
        elapsed = time.perf_counter() - start
        for _, writer in conns:
            writer.close()
        return latencies, errors[0], int(elapsed * 1000)

    latencies, errors, ms = uvloop.run(run())
    out.put((latencies, errors, ms / 1000))


def http_load(
    url: str, headers: dict[str, str], *, rate: float = 0, seconds: float = 8,
    connections: int = 16,
) -> dict[str, float]:  # fmt: skip
    """GETs of ``url`` for ``seconds``: at a fixed ``rate`` per second (``rate`` > 0), else as
    fast as ``connections`` keep-alive connections go. Returns requests/s, p50/p99 in ms and the
    count of non-200 answers. The client runs in a process of its own."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    kind = "fixed" if rate > 0 else "max"
    proc = ctx.Process(target=_load, args=(kind, url, headers, rate, seconds, connections, out))
    proc.start()
    latencies, errors, elapsed = out.get(timeout=seconds + 120)
    proc.join()
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / elapsed if elapsed else 0.0,
        "p50_ms": latencies[n // 2] * 1000 if n else 0.0,
        "p99_ms": p99(latencies) * 1000,
        "errors": errors,
    }


def group_cpu_seconds(groups: set[int]) -> float:
    """User + system CPU seconds used so far by the live processes of the process ``groups``
    (a stack's processes each lead a group; PostgreSQL's backends are in the server's group).
    Per request, this reads much steadier than wall time on a machine others load too."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick
