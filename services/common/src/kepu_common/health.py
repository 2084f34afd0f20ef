"""Health that tells the truth (issue 13 item 2): a serve process reports NOT_SERVING on the
standard gRPC health service while its database cannot be reached.

One thread asks every open :class:`~kepu_common.db.Database` for ``SELECT 1``; another publishes
SERVING only while the last successful answer is recent. Two threads, because a frozen server
(SIGSTOP, a full disk) does not fail the query, it never answers: the check hangs, its answer
grows old, and the publisher turns the status NOT_SERVING all the same. Liveness stays cheap:
the process's own gRPC port answering (the health call itself), never the database. A service
answering from a read model is not ready until the model has caught up (``caught_up``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .db import open_databases
from .grpcio import set_serving

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0
FRESH_SECONDS = 4.0  # no good answer for this long: NOT_SERVING


def databases_reachable() -> bool:
    return all(db.reachable() for db in open_databases())


class HealthWatch:
    def __init__(
        self,
        check: Callable[[], bool] = databases_reachable,
        fresh: float = FRESH_SECONDS,
        *,
        caught_up: Callable[[], bool] | None = None,
    ) -> None:
        self.check = check
        self.fresh = fresh
        # a read model the service answers from, still filling: not ready yet (kepu_common.catchup)
        self.caught_up = caught_up or (lambda: True)
        self._last_ok = time.monotonic()
        self._serving: bool | None = None

    def start(self, stop: threading.Event) -> None:
        for target, name in ((self._probe, "health-probe"), (self._publish, "health-publish")):
            threading.Thread(target=target, args=(stop,), name=name, daemon=True).start()

    def _probe(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.check():
                self._last_ok = time.monotonic()
            stop.wait(CHECK_SECONDS)

    def _publish(self, stop: threading.Event) -> None:
        while not stop.is_set():
            reachable = time.monotonic() - self._last_ok < self.fresh
            serving = reachable and self.caught_up()
            if serving != self._serving:
                if self._serving is not None:
                    log.warning(
                        "health: %s",
                        "SERVING"
                        if serving
                        else ("数据库不可达，NOT_SERVING" if not reachable else "NOT_SERVING"),
                    )
                self._serving = serving
                set_serving(serving)
            stop.wait(CHECK_SECONDS / 2)
