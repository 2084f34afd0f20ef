"""The launcher's supervisor: what Kubernetes gives the charts, on one machine.

Every process of the stack (each service's serve, relay and worker, the gateway) and the
engines it started (the broker, PostgreSQL) are watched; one that died is started again after
a backoff that doubles with each crash in a row (0.5 s, 1 s, 2 s ... 30 s) and resets once it
has stayed up for a minute, and the launcher says so in one Chinese line. This is the
``restartPolicy: Always`` + CrashLoopBackOff of a pod (docs/faults.md has the mapping).
A process that ends with exit code 0 finished on purpose (a worker with nothing to consume).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .stack import Stack

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STEADY_SECONDS = 60.0  # up this long: the next crash starts the backoff again


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # noqa: T201 - the launcher speaks to its user


@dataclass
class _Record:
    started_at: float
    crashes: int = 0  # in a row
    due_at: float | None = None  # when the pending restart happens


class Supervisor:
    def __init__(self, stack: Stack, say: Callable[[str], None] = _say) -> None:
        self.stack = stack
        self.say = say
        self.restarts: dict[str, int] = {}  # name -> restarts so far (tests, the report)
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, every: float = 0.5) -> None:
        def loop() -> None:
            while not self._stop.wait(every):
                self.turn()

        self._thread = threading.Thread(target=loop, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop restarting (first thing the stack's ``stop`` does, so a shutdown stays one)."""
        self._stop.set()
        with self._lock:  # wait for a turn in progress
            pass
        if self._thread is not None:
            self._thread.join(30)

    def turn(self) -> None:
        """Look at every part once; restart the ones whose backoff has run out."""
        with self._lock:
            if self._stop.is_set():
                return
            s = self.stack
            if s.pg is not None:
                self._watch("postgresql", _engine_exit(s.pg.proc), s.pg.start)
            if s.broker is not None:
                self._watch(type(s.broker).__name__.lower(), _engine_exit(s.broker.proc),
                            s.broker.start)  # fmt: skip
            for name, proc in list(s.procs.items()):
                code = proc.poll()
                if code == 0:
                    continue
                self._watch(name, code, lambda n=name: s.respawn(n))  # type: ignore[misc]
            s.release_bound_ports()  # a restarted process listens again: its ports are its own

    def _watch(self, name: str, exit_code: int | None, restart: Callable[[], None]) -> None:
        now = time.monotonic()
        record = self._records.setdefault(name, _Record(started_at=now))
        if exit_code is None:
            if record.crashes and now - record.started_at > STEADY_SECONDS:
                record.crashes = 0
            return
        if record.due_at is None:
            record.crashes += 1
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (record.crashes - 1))
            record.due_at = now + delay
            self.say(
                f"进程 {name} 异常退出（退出码 {exit_code}），{delay:.1f} 秒后自动重启"
                f"（连续第 {record.crashes} 次；日志见 {self.stack.var_dir / 'logs'}）"
            )
            return
        if now < record.due_at:
            return
        try:
            restart()
        except Exception as exc:  # noqa: BLE001 - counted as one more crash, tried again later
            record.due_at = None
            self.say(f"重启 {name} 失败：{exc}")
            return
        record.due_at, record.started_at = None, time.monotonic()
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self.say(f"已重启 {name}")


def _engine_exit(proc: subprocess.Popen[bytes] | None) -> int | None:
    """An engine's exit code, or None while it runs (a process we never had counts as gone)."""
    if proc is None:
        return -9
    return proc.poll()
