"""A watchdog for calls into the broker client that should return and do not.

kafka-python runs its network loop on an I/O thread; a caller blocks on an event until its
request completes. When the broker disappears in the middle of a group join that wait can last
for good (observed with kafka-python 3.0.12: ``poll`` -> ``ensure_active_group`` ->
``selector.event.wait()``), and the consumer thread never checks the broker again. The
watchdog notices a call that has run for longer than ``limit`` seconds and calls ``unstick``
(the consumer stops the client's network loop, which fails every pending wait with
``KafkaConnectionError``: the thread wakes up, closes that client and builds a new one).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


class StallWatch:
    def __init__(self, who: str, limit: float, unstick: Callable[[], None]) -> None:
        self.who = who
        self.limit = limit
        self.unstick = unstick
        self.unstuck = 0  # how many times a stuck call was broken (tests, logs)
        self._since: float | None = None
        self._what = ""
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def call(self, what: str) -> Iterator[None]:
        """Mark a blocking call into the client; the watchdog breaks it after ``limit`` s."""
        with self._lock:
            self._since, self._what = time.monotonic(), what
        try:
            yield
        finally:
            with self._lock:
                self._since = None

    def start(self, stop: threading.Event) -> None:
        self._thread = threading.Thread(
            target=self._watch, args=(stop,), name=f"{self.who}-watchdog", daemon=True
        )
        self._thread.start()

    def _watch(self, stop: threading.Event) -> None:
        while not stop.wait(min(1.0, self.limit / 4)):
            with self._lock:
                since, what = self._since, self._what
            if since is None or time.monotonic() - since < self.limit:
                continue
            log.error(
                "%s：%s 已阻塞 %.0f 秒（Kafka 客户端卡住），重建客户端。",
                self.who,
                what,
                time.monotonic() - since,
            )
            self.unstuck += 1
            with self._lock:
                self._since = None  # one break per stuck call
            try:
                self.unstick()
            except Exception:  # noqa: BLE001 - the next turn tries again
                log.exception("%s: could not break the stuck call", self.who)
