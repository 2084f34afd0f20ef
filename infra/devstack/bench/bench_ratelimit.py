"""Per-request cost of the gateway's rate limit (issue 16): the table shared by the workers
(``kepu_gateway.ratelimit``, a file under the instance directory, ``flock`` per call) next to
the per-process dict it replaced, in alternating rounds; then two processes spending on one
table at once (the lock contended as by two busy workers).

    uv run python infra/devstack/bench/bench_ratelimit.py [--rounds 9] [--calls 20000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable

from kepu_gateway.ratelimit import RateLimiter


class DictLimiter:
    """The limiter before issue 16 (kepu_gateway.app until then): windows in this process."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.windows: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))

    def allow(self, key: str) -> bool:
        minute = int(time.time() // 60)
        window, count = self.windows[key]
        if window != minute:
            window, count = minute, 0
        self.windows[key] = (window, count + 1)
        if len(self.windows) > 100_000:
            self.windows.clear()
        return count + 1 <= self.per_minute


def per_call_us(allow: Callable[[str], bool], calls: int, callers: int) -> tuple[float, float]:
    """CPU and wall µs per call (CPU: waiting for a core on a loaded machine is not counted;
    wall: waiting for the other process's lock is)."""
    keys = [f"sub:{i % callers:08x}-4b1f-9c2e-user" for i in range(calls)]
    cpu, wall = time.process_time(), time.perf_counter()
    for key in keys:
        allow(key)
    return (
        (time.process_time() - cpu) / calls * 1e6,
        (time.perf_counter() - wall) / calls * 1e6,
    )


CONTENDER = """
import sys, time
from kepu_gateway.ratelimit import RateLimiter
limiter = RateLimiter(10**9, directory=sys.argv[1])
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    limiter.allow("sub:other")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    print("rate limit, µs per call (median of rounds; CPU min-max and ratio to the dict):")
    for callers in (100, 10_000):
        with tempfile.TemporaryDirectory() as directory:
            shared = RateLimiter(10**9, directory=directory)
            old = DictLimiter(10**9)
            figures: dict[str, list[tuple[float, float]]] = {
                "dict (before)": [],
                "shared table": [],
            }
            for _ in range(args.rounds):
                figures["dict (before)"].append(per_call_us(old.allow, args.calls, callers))
                figures["shared table"].append(per_call_us(shared.allow, args.calls, callers))
            seconds = 2.0 + 5 * args.rounds * figures["shared table"][-1][1] * args.calls / 1e6
            other = subprocess.Popen(
                [sys.executable, "-c", CONTENDER, directory, str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert other.stdout is not None and other.stdout.readline().strip() == "ready"
            contended = figures["shared table, a 2nd process spending"] = []
            for _ in range(args.rounds):
                contended.append(per_call_us(shared.allow, args.calls, callers))
            other.wait()
        base = statistics.median(cpu for cpu, _ in figures["dict (before)"])
        for name, pairs in figures.items():
            cpus, walls = [c for c, _ in pairs], [w for _, w in pairs]
            med = statistics.median(cpus)
            print(
                f"  {callers:>6,} callers  {name:38s} CPU {med:6.2f} µs"
                f" ({min(cpus):.2f}-{max(cpus):.2f}, {med / base:4.2f}x)"
                f"  wall {statistics.median(walls):6.2f} µs"
            )


if __name__ == "__main__":
    main()
