"""Benchmark (not a test): the CPU an idle platform burns, per process and per kind.

Starts the stack as ``make run`` does, lets it settle, then reads every process's CPU time
(psutil: user + system, children included) over ``KEPU_BENCH_IDLE_SECONDS`` (default 60) with
no request at all, and prints it in % of one core: each ``serve``, ``relay`` and ``worker``,
the gateway, the broker and PostgreSQL, and the sum per kind. ``--event-lag`` then runs
``bench_event_latency`` on the same stack. ``KEPU_BROKER=kafka`` runs it on Apache Kafka.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import psutil
from kepu_devstack.stack import Stack

SECONDS = float(os.environ.get("KEPU_BENCH_IDLE_SECONDS", "60"))
SETTLE_SECONDS = 20.0  # group joins, first epoch checks, read-model catch-up


def _cpu(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:  # a child that has exited since
            pass
    return total


def measure(stack: Stack, seconds: float = SECONDS) -> dict[str, float]:
    """% of one core per process over ``seconds`` of an idle stack."""
    procs = {name: psutil.Process(p.pid) for name, p in stack.procs.items()}
    broker = getattr(stack.broker, "proc", None)
    if broker is not None:
        procs["broker"] = psutil.Process(broker.pid)
    if stack.pg is not None and stack.pg.proc is not None:
        procs["postgres"] = psutil.Process(stack.pg.proc.pid)
    before = {name: _cpu(p) for name, p in procs.items()}
    t0 = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    return {name: (_cpu(p) - before[name]) / elapsed * 100 for name, p in procs.items()}


def report(usage: dict[str, float]) -> None:
    kinds: dict[str, float] = {}
    for name, pct in sorted(usage.items()):
        print(f"  {name:20s} {pct:6.2f} % of a core")
        kind = name.rsplit("-", 1)[-1]
        kinds[kind] = kinds.get(kind, 0.0) + pct
    for kind, pct in sorted(kinds.items()):
        print(f"idle CPU {kind}: {pct:.2f} % of a core in total")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--event-lag", action="store_true", help="then bench_event_latency")
    args = ap.parse_args()
    stack = Stack(var_dir=Path(tempfile.mkdtemp(prefix="kepu-bench-")))
    stack.start()
    stack.supervise()
    try:
        time.sleep(SETTLE_SECONDS)
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        usage = measure(stack)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"idle {SECONDS:.0f} s from {started}, load average {load}:")
        report(usage)
        if args.event_lag:
            import bench_event_latency

            bench_event_latency.run(stack)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
