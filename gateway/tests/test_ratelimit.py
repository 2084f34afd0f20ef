"""The rate-limit table shared by the gateway's workers: windows, eviction, processes racing
on one table, and a process killed while it holds the table's lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from kepu_gateway.ratelimit import TABLE_FILE, RateLimiter

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from kepu_gateway.ratelimit import RateLimiter
    directory, calls = sys.argv[1], int(sys.argv[2])
    limiter = RateLimiter(1000, directory=directory)
    print("ready", flush=True)
    go = Path(directory) / "go"
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    print(sum(limiter.allow("sub:racer") for _ in range(calls)))
    """
)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_caller_gets_its_budget_each_minute_and_others_keep_theirs(tmp_path: Path) -> None:
    clock = Clock()
    limiter = RateLimiter(3, directory=tmp_path, clock=clock)
    assert [limiter.allow("sub:a") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.allow("ip:203.0.113.9") and limiter.allow("sub:\ud800")  # lone surrogate
    clock.now += 60  # the next minute: a fresh window
    assert [limiter.allow("sub:a") for _ in range(4)] == [True, True, True, False]


def test_processes_opening_the_same_directory_share_the_windows(tmp_path: Path) -> None:
    clock = Clock()
    first = RateLimiter(3, directory=tmp_path, clock=clock)
    second = RateLimiter(3, directory=tmp_path, clock=clock, slots=8)  # adopts the file's size
    assert second.slots == first.slots
    assert first.allow("sub:a") and second.allow("sub:a") and first.allow("sub:a")
    assert not second.allow("sub:a")
    # an app built without a directory (tests) counts alone
    alone = RateLimiter(3, clock=clock)
    assert alone.allow("sub:a")


def test_a_full_table_stays_its_size_and_forgets_the_lightest_callers(tmp_path: Path) -> None:
    clock = Clock()
    limiter = RateLimiter(5, directory=tmp_path, slots=16, clock=clock)
    size = (tmp_path / TABLE_FILE).stat().st_size
    for _ in range(8):
        limiter.allow("sub:heavy")
    assert not limiter.allow("sub:heavy")
    # far more callers in the same minute than slots: each is served, the heavy one still not
    for i in range(2000):
        assert limiter.allow(f"ip:10.0.{i // 256}.{i % 256}")
        assert not limiter.allow("sub:heavy"), i
    assert (tmp_path / TABLE_FILE).stat().st_size == size
    clock.now += 60
    assert limiter.allow("sub:heavy")


def test_four_processes_racing_on_one_table_accept_exactly_the_budget(tmp_path: Path) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), "2500"], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    for child in children:  # all have the table open, then all start at once
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    (tmp_path / "go").touch()
    accepted = [int(child.communicate(timeout=120)[0]) for child in children]
    assert sum(accepted) == 1000, accepted  # 10,000 requests, a budget of 1,000


def test_a_process_killed_holding_the_lock_blocks_nobody_and_its_counts_remain(
    tmp_path: Path,
) -> None:
    holder = textwrap.dedent(
        """
        import fcntl, sys, time
        from kepu_gateway.ratelimit import RateLimiter
        limiter = RateLimiter(3, directory=sys.argv[1])
        limiter.allow("sub:a"); limiter.allow("sub:a")
        fcntl.flock(limiter._fd, fcntl.LOCK_EX)  # as if killed in the middle of allow()
        print("holding", flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", holder, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    child.kill()
    child.wait(timeout=30)
    answers: list[bool] = []
    # a restarted worker opens the same table: the two requests already spent still count

    def restarted_worker() -> None:
        limiter = RateLimiter(3, directory=tmp_path)
        answers.extend(limiter.allow("sub:a") for _ in range(2))

    worker = threading.Thread(target=restarted_worker, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert answers == [True, False]
