"""Liveness for loop processes (relays, workers): touch ``$KEPU_HEARTBEAT_FILE`` on every turn.

Kubernetes probes check that the file is fresh; a stuck loop stops touching it and is restarted.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_last = 0.0


def beat(min_interval: float = 5.0) -> None:
    global _last
    path = os.environ.get("KEPU_HEARTBEAT_FILE")
    now = time.monotonic()
    if not path or now - _last < min_interval:
        return
    _last = now
    Path(path).touch()


def idle_until(stop: object) -> None:
    """For a worker with nothing to consume: stay alive (and healthy) until stopped."""
    import threading

    assert isinstance(stop, threading.Event)
    while not stop.wait(5):
        beat(0)
