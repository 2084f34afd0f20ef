"""The edge's rate limit: a fixed window per caller and minute, one budget for all the workers
of a gateway instance (one pod).

The windows live in a table of fixed size that every worker maps from the same file,
``<GATEWAY_RUN_DIR>/ratelimit.table`` (``__main__.main`` creates the directory before uvicorn
spawns the workers and removes it at exit). The file is 16 bytes a slot: a header slot (a
random salt for the caller hashes, so nobody can choose a key that lands on someone else's
slot) and ``slots`` slots of two 64-bit words, the caller's keyed hash (0: never used) and
``window minute << 32 | count``. A request costs one hash, one ``flock`` on the file around a
few word reads and writes, and no round trip to anything else; the figure is in
docs/benchmarks.md (issue 16).

- Restarts: the table is in the file, not in a worker, so a worker uvicorn restarts sees the
  windows its predecessor counted; a worker killed while holding the lock releases it with
  its file descriptor (the kernel drops ``flock`` locks of a dead process).
- Memory: the table never grows. A caller's slot is looked for in ``PROBES`` consecutive slots
  from its hash; a new caller takes the first slot never used or last used in an earlier
  minute. Only when all of them were used this minute (tens of thousands of callers in one
  minute) does it take the one with the lowest count, whose caller then starts again from
  zero: a full table errs on letting requests through, never on refusing one within budget.
- Scope: one instance. Each pod (chart replica) has its own table, so a caller spread over
  ``replicas`` pods can spend ``replicas`` times the budget (docs/operations.md).

Each process opens the file itself (uvicorn spawns its workers): a descriptor inherited through
``fork`` would share its ``flock`` with the parent. Without a directory (an app built in a test
process) the table is anonymous memory of this process alone.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

RUN_DIR_ENV = "GATEWAY_RUN_DIR"  # the instance's directory, made by __main__.main
TABLE_FILE = "ratelimit.table"
SLOT_BYTES = 16
DEFAULT_SLOTS = 1 << 17  # 131,072 callers a minute in 2 MiB
PROBES = 16
COUNT_MASK = (1 << 32) - 1
HASH_CACHE = 4096  # recent keys' hashes kept by each process (cleared when full)


class RateLimiter:
    """A fixed-window limit per key (the token subject, else the client address): at most
    ``per_minute`` requests of a key in each wall-clock minute, counted in a table shared by
    every process that opens the same ``directory``."""

    def __init__(
        self,
        per_minute: int,
        *,
        directory: str | os.PathLike[str] | None = None,
        slots: int = DEFAULT_SLOTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._thread_lock = threading.Lock()  # flock excludes processes, not threads of one
        self._fd = -1
        if directory is None:
            self._map = mmap.mmap(-1, (slots + 1) * SLOT_BYTES)
            self._map[:8] = os.urandom(8)
        else:
            self._fd, self._map = _open_table(Path(directory) / TABLE_FILE, slots)
            weakref.finalize(self, os.close, self._fd)
        self._words = memoryview(self._map).cast("Q")
        self.slots = len(self._words) // 2 - 1
        self._hasher = hashlib.blake2b(digest_size=8, key=self._map[:8])
        self._hashes: dict[str, int] = {}

    def allow(self, key: str) -> bool:
        """Count one request of ``key`` in this minute; False once it is over the budget."""
        h = self._hashes.get(key) or self._hash(key)
        minute = int(self._clock() // 60)
        words, fd = self._words, self._fd
        home = 2 + 2 * (h % self.slots)  # words 0-1: the header
        with self._thread_lock:
            if fd >= 0:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if words[home] == h:  # the usual case: the key in its home slot
                    value = words[home + 1]
                    count = (value & COUNT_MASK) + 1 if value >> 32 == minute else 1
                    if count < COUNT_MASK:
                        words[home + 1] = minute << 32 | count
                else:
                    count = self._spend(h, minute)
            finally:
                if fd >= 0:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        return count <= self.per_minute

    def _hash(self, key: str) -> int:
        """The key's salted 64-bit hash (never 0), remembered for the recent keys."""
        hasher = self._hasher.copy()
        hasher.update(key.encode("utf-8", "surrogatepass"))
        h = int.from_bytes(hasher.digest(), "little") or 1
        if len(self._hashes) >= HASH_CACHE:
            self._hashes.clear()
        self._hashes[key] = h
        return h

    def _spend(self, h: int, minute: int) -> int:
        """The key's count in ``minute`` after this request, looked for (or placed) in the
        ``PROBES`` slots from its home slot (the table lock held)."""
        words, slots = self._words, self.slots
        start = h % slots
        victim, victim_count = -1, COUNT_MASK + 1
        for probe in range(PROBES):
            i = 2 + 2 * ((start + probe) % slots)  # words 0-1: the header
            found = words[i]
            if found == h:
                value = words[i + 1]
                count = (value & COUNT_MASK) + 1 if value >> 32 == minute else 1
                if count < COUNT_MASK:
                    words[i + 1] = minute << 32 | count
                return count
            if found == 0:  # never used: no key was ever placed beyond it
                if victim_count > 0:
                    victim = i
                break
            value = words[i + 1]
            used = value & COUNT_MASK if value >> 32 == minute else 0
            if used < victim_count:
                victim, victim_count = i, used
        words[victim] = h
        words[victim + 1] = minute << 32 | 1
        return 1


def for_instance(per_minute: int) -> RateLimiter:
    """The limiter of this gateway instance: its table in ``GATEWAY_RUN_DIR`` when set (the
    workers of ``python -m kepu_gateway``), else in this process's memory."""
    return RateLimiter(per_minute, directory=os.environ.get(RUN_DIR_ENV) or None)


def _open_table(path: Path, slots: int) -> tuple[int, mmap.mmap]:
    """The instance's table file, created (zeros and a salt) by the first process to open it;
    a later one adopts its size whatever ``slots`` it was given."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_size < 2 * SLOT_BYTES:
                os.ftruncate(fd, (slots + 1) * SLOT_BYTES)
            if os.pread(fd, 8, 0) == bytes(8):
                os.pwrite(fd, os.urandom(8), 0)
            table = mmap.mmap(fd, os.fstat(fd).st_size)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    except BaseException:
        os.close(fd)
        raise
    return fd, table
