"""The outbox survives a broker restart, and consumers apply each event exactly once.

On both brokers (``any_broker``): Tansu comes back empty (a fresh epoch: republish, rewind),
Kafka comes back with its log (same epoch: nothing to republish, committed offsets hold).
"""

import threading
import time

from kepu.events.v1 import envelope_pb2
from kepu_common.consumer import IdempotentConsumer, handle_once
from kepu_common.db import Scope
from kepu_common.outbox import OutboxRelay, build_envelope, record_event
from sqlalchemy import text

PATH = "410000.419001"
TOPIC = "notes.events"


def write_note(db, body: str) -> str:
    with db.unit_of_work(Scope.tenant(PATH)) as s:
        s.execute(
            text("INSERT INTO notes (tenant_path, body) VALUES (CAST(:p AS ltree), :b)"),
            {"p": PATH, "b": body},
        )
        return record_event(
            s,
            topic=TOPIC,
            event_type="notes.written",
            tenant_id="t-nanyang",
            tenant_path=PATH,
            actor="tester",
            payload=envelope_pb2.AuditRecorded(action=body),
        )


def apply_effect(session, envelope) -> None:
    # Not idempotent by itself: a second application would count 2.
    session.execute(
        text(
            "INSERT INTO effects (event_id, tenant_path) VALUES (CAST(:e AS uuid), CAST(:p AS ltree))"
            " ON CONFLICT (event_id) DO UPDATE SET applied_count = effects.applied_count + 1"
        ),
        {"e": envelope.event_id, "p": envelope.tenant_path},
    )


def counts(db, ids):
    with db.unit_of_work(Scope.system_scope()) as s:
        rows = s.execute(
            text(
                "SELECT event_id::text, applied_count FROM effects WHERE event_id::text = ANY(:i)"
            ),
            {"i": ids},
        ).all()
    return dict(rows)


def wait_for(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return False


def test_handle_once_ignores_a_repeated_delivery(db):
    env = build_envelope(
        event_type="notes.written",
        tenant_id="t",
        tenant_path=PATH,
        actor="a",
        payload=envelope_pb2.AuditRecorded(action="x"),
    )
    assert handle_once(db, "repeat-test", env, apply_effect) is True
    assert handle_once(db, "repeat-test", env, apply_effect) is False
    assert counts(db, [env.event_id]) == {env.event_id: 1}


def test_broker_restart_between_commit_and_consumption_loses_nothing_and_applies_once(
    broker_db, any_broker
):
    relay = OutboxRelay(
        broker_db, any_broker.bootstrap, name="notes-relay", topics=[TOPIC], epoch_check_seconds=1
    )
    relay.check_epoch()
    consumed_first = write_note(broker_db, "consumed before the restart")
    assert relay.publish_batch() == 1

    stop = threading.Event()
    consumer = IdempotentConsumer(
        broker_db,
        any_broker.bootstrap,
        name="notes-effects",
        topics=[TOPIC],
        handler=apply_effect,
        epoch_check_seconds=1,
    )
    t_consumer = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    t_consumer.start()
    assert wait_for(lambda: counts(broker_db, [consumed_first]).get(consumed_first) == 1)

    # Committed and published, but the broker restarts before anyone consumes it (Tansu comes
    # back empty, Kafka with its log).
    stop.set()
    t_consumer.join(30)
    in_flight = write_note(broker_db, "published, then the broker restarted")
    assert relay.publish_batch() == 1
    any_broker.restart()
    after_restart = write_note(broker_db, "written while the broker was fresh")

    stop = threading.Event()
    consumer = IdempotentConsumer(
        broker_db,
        any_broker.bootstrap,
        name="notes-effects",
        topics=[TOPIC],
        handler=apply_effect,
        epoch_check_seconds=1,
    )
    threads = [
        threading.Thread(target=relay.run, args=(stop,), daemon=True),
        threading.Thread(target=consumer.run, args=(stop,), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        ids = [consumed_first, in_flight, after_restart]
        assert wait_for(lambda: len(counts(broker_db, ids)) == 3), counts(broker_db, ids)
        time.sleep(3)  # let any duplicate deliveries (the republished first event) arrive
        assert counts(broker_db, ids) == {consumed_first: 1, in_flight: 1, after_restart: 1}
    finally:
        stop.set()
        for t in threads:
            t.join(30)
