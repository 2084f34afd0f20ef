"""An idle relay does not poll: a committed event wakes it (NOTIFY), a rolled-back one does not
exist for it, and a lost listening connection is opened again (issue 16: idle CPU)."""

import threading
import time

from kepu.events.v1 import envelope_pb2
from kepu_common import outbox
from kepu_common.db import Scope
from kepu_common.outbox import OutboxRelay, record_event
from sqlalchemy import text

PATH = "410000.411000"
TOPIC = "wakeup.events"
BOUND = 60.0  # generous: the machine is shared; the fallback poll is an hour away


def _write(db, action: str, *, commit: bool = True) -> str:
    with db.unit_of_work(Scope.tenant(PATH)) as s:
        event_id = record_event(
            s,
            topic=TOPIC,
            event_type="wakeup",
            tenant_id="t",
            tenant_path=PATH,
            actor="a",
            payload=envelope_pb2.AuditRecorded(action=action),
        )
        if not commit:
            s.rollback()
    return event_id


def _published(db, event_id: str) -> bool:
    with db.unit_of_work(Scope.system_scope()) as s:
        return bool(
            s.execute(
                text("SELECT published_at IS NOT NULL FROM outbox WHERE event_id = :e"),
                {"e": event_id},
            ).scalar()
        )


def _eventually(check, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _listeners(db) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = :q"
                    " AND datname = current_database()"
                ),
                {"q": f"LISTEN {outbox.CHANNEL}"},
            ).scalar_one()
        )


def test_a_committed_event_wakes_the_idle_relay_and_a_lost_listener_is_reopened(
    db, kafka_broker, monkeypatch
):
    monkeypatch.setattr(outbox, "FALLBACK_POLL_SECONDS", 3600.0)  # only a NOTIFY can wake it
    relay = OutboxRelay(db, kafka_broker.bootstrap, name="wakeup-relay", topics=[TOPIC])
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        _eventually(lambda: _listeners(db) == 1, "the relay never listened")
        first = _write(db, "first")
        _eventually(lambda: _published(db, first), "a committed event did not wake the relay")

        rolled_back = _write(db, "never", commit=False)
        with db.unit_of_work(Scope.system_scope()) as s:
            assert not s.execute(
                text("SELECT 1 FROM outbox WHERE event_id = :e"), {"e": rolled_back}
            ).scalar()

        # The database drops the listening connection (a restart, a failover): the relay
        # listens again and the next event is still published without any poll.
        with db.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = :q"
                    " AND datname = current_database()"
                ),
                {"q": f"LISTEN {outbox.CHANNEL}"},
            )
        _eventually(lambda: _listeners(db) == 1, "the relay did not listen again")
        second = _write(db, "second")
        _eventually(lambda: _published(db, second), "the reopened listener was not woken")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive(), "the relay did not stop within a wait slice"


def test_the_relay_polls_when_it_cannot_listen(db, kafka_broker, monkeypatch):
    """No LISTEN possible (a pooler in transaction mode, say): it publishes by polling."""
    monkeypatch.setattr(outbox, "FALLBACK_POLL_SECONDS", 3600.0)
    monkeypatch.setattr(outbox, "CHANNEL", "no such channel; syntax error")
    relay = OutboxRelay(db, kafka_broker.bootstrap, name="poll-relay", topics=[TOPIC])
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # idle a while first: every LISTEN attempt failed
        event_id = _write(db, "polled")
        _eventually(lambda: _published(db, event_id), "a relay that cannot listen never polled")
    finally:
        stop.set()
        thread.join(10)
