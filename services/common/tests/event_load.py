"""A load of events through the real mechanisms, for the broker-crash and rebalance tests.

Writes go through the transactional outbox (``record_event`` in a tenant unit of work), the
relay publishes them, idempotent consumers apply an effect per event. ``effects`` counts how
often each event's effect was applied; ``applied_by`` (created by ``create_applied_by``) adds
one row per application with the worker that made it.

Run as a script it is a relay or worker process through the shared entry point
(``kepu_common.process.run``), as a service's ``python -m kepu_<svc> relay|worker`` is::

    python event_load.py relay|worker <app_url> <bootstrap> <topic> <group> <worker-name>
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from kepu.events.v1 import envelope_pb2
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Database, Scope
from kepu_common.outbox import record_event
from sqlalchemy import text

PATH = "410000.419003"
KEYS = 60  # distinct tenant ids, so the events spread over every partition


def write_note(db: Database, topic: str, n: int) -> str:
    """One accepted write: a note and its event, committed together. Returns the event id."""
    with db.unit_of_work(Scope.tenant(PATH)) as s:
        s.execute(
            text("INSERT INTO notes (tenant_path, body) VALUES (CAST(:p AS ltree), :b)"),
            {"p": PATH, "b": f"load {n}"},
        )
        return record_event(
            s,
            topic=topic,
            event_type="notes.written",
            tenant_id=f"t-{n % KEYS}",
            tenant_path=PATH,
            actor="load",
            payload=envelope_pb2.AuditRecorded(action=f"load {n}"),
        )


class Writer:
    """Accepted writes at a steady rate on a thread (``accepted``: their event ids, in order)."""

    def __init__(self, db: Database, topic: str, interval: float) -> None:
        self.accepted: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(db, topic, interval), name="writer", daemon=True
        )

    def _run(self, db: Database, topic: str, interval: float) -> None:
        n = 0
        while not self._stop.is_set():
            self.accepted.append(write_note(db, topic, n))
            n += 1
            time.sleep(interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[str]:
        """Stop writing; every write accepted so far."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)
        return list(self.accepted)


def apply_effect(session, envelope, worker: str | None = None) -> None:
    # Not idempotent by itself: a second application counts 2.
    session.execute(
        text(
            "INSERT INTO effects (event_id, tenant_path) VALUES (CAST(:e AS uuid), CAST(:p AS ltree))"
            " ON CONFLICT (event_id) DO UPDATE SET applied_count = effects.applied_count + 1"
        ),
        {"e": envelope.event_id, "p": envelope.tenant_path},
    )
    if worker is not None:
        session.execute(
            text("INSERT INTO applied_by (event_id, worker) VALUES (CAST(:e AS uuid), :w)"),
            {"e": envelope.event_id, "w": worker},
        )


def create_applied_by(owner_url: str) -> None:
    with psycopg.connect(owner_url, autocommit=True) as c:
        c.execute("CREATE TABLE IF NOT EXISTS applied_by (event_id uuid, worker text)")
        c.execute("GRANT SELECT, INSERT ON applied_by TO kepu_app")


def effect_counts(db: Database, ids: list[str]) -> dict[str, int]:
    with db.unit_of_work(Scope.system_scope()) as s:
        rows = s.execute(
            text(
                "SELECT event_id::text, applied_count FROM effects WHERE event_id::text = ANY(:i)"
            ),
            {"i": ids},
        ).all()
    return {r[0]: r[1] for r in rows}


def published(db: Database, ids: list[str]) -> int:
    with db.unit_of_work(Scope.system_scope()) as s:
        return int(
            s.execute(
                text(
                    "SELECT count(*) FROM outbox WHERE event_id::text = ANY(:i)"
                    " AND published_at IS NOT NULL"
                ),
                {"i": ids},
            ).scalar_one()
        )


def applied_by_worker(db: Database) -> dict[str, int]:
    with db.unit_of_work(Scope.system_scope()) as s:
        rows = s.execute(text("SELECT worker, count(*) FROM applied_by GROUP BY worker")).all()
    return {r[0]: r[1] for r in rows}


def wait_for(cond: Callable[[], bool], timeout: float = 120.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(every)
    return cond()


def main(argv: list[str]) -> int:
    from kepu_common import process

    command, app_url, bootstrap, topic, group, worker = argv[1:7]

    def consumers(db: Database) -> list[IdempotentConsumer]:
        return [
            IdempotentConsumer(
                db,
                bootstrap,
                name=group,
                topics=[topic],
                handler=lambda s, env: apply_effect(s, env, worker),
            )
        ]

    def no_server():  # a worker serves nothing
        raise AssertionError("not a server")

    return process.run(
        f"load-{worker}",
        ["event_load", command],
        migrations=Path(__file__).parent / "migrations",
        migration_url="",
        app_role="kepu_app",
        database_url=app_url,
        kafka_bootstrap=bootstrap,
        serve=no_server,
        relay_topics=[topic],
        consumers=consumers,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
