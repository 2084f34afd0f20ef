"""Liveness for loop processes (relays, workers): one heartbeat per loop thread.

Every loop (a relay, each consumer thread of a worker, a worker's scheduler) calls
``beat(name)`` on every turn. ``$KEPU_HEARTBEAT_FILE`` is touched only while *every* loop that
ever beat in this process has beaten within :data:`STALE_SECONDS`, so one consumer thread stuck
in the broker client makes the file go stale and the Kubernetes probe restart the pod (a single
process-wide timestamp would stay fresh as long as any other thread kept turning).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

STALE_SECONDS = 90.0  # longer than any bounded wait of a loop turn (a DB retry, a rejoin)

_lock = threading.Lock()
_beats: dict[str, float] = {}
_touched = 0.0


def beat(name: str = "main", min_interval: float = 5.0) -> None:
    """Record that loop ``name`` turned; refresh the heartbeat file when every loop is fresh."""
    global _touched
    now = time.monotonic()
    with _lock:
        _beats[name] = now
        if now - _touched < min_interval:
            return
        if any(now - at > STALE_SECONDS for at in _beats.values()):
            return
        _touched = now
    path = os.environ.get("KEPU_HEARTBEAT_FILE")
    if path:
        Path(path).touch()


def forget(name: str) -> None:
    """Loop ``name`` ended on purpose (it was asked to stop): no longer expected to beat."""
    with _lock:
        _beats.pop(name, None)


def stale(max_age: float = STALE_SECONDS) -> list[str]:
    """The loops that have not beaten for ``max_age`` seconds (a stuck thread), by name."""
    now = time.monotonic()
    with _lock:
        return sorted(n for n, at in _beats.items() if now - at > max_age)


def idle_until(stop: threading.Event) -> None:
    """For a worker with nothing to consume: stay alive (and healthy) until stopped."""
    while not stop.wait(5):
        beat("idle", 0)
