"""An event whose handler keeps failing goes to the dead-letter topic and can be replayed."""

import threading
import time

from kafka import KafkaConsumer
from kepu.events.v1 import envelope_pb2
from kepu_common import dlq
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Scope
from kepu_common.outbox import OutboxRelay, record_event
from sqlalchemy import text

PATH = "410000.410500"
TOPIC = "poison.events"


def effects(db):
    with db.unit_of_work(Scope.system_scope()) as s:
        return s.execute(
            text("SELECT count(*) FROM effects WHERE tenant_path = CAST(:p AS ltree)"), {"p": PATH}
        ).scalar()


def dead_letters(bootstrap):
    c = KafkaConsumer(
        TOPIC + ".dlq",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    records = list(c)
    c.close()
    return records


def test_failing_event_is_dead_lettered_then_replayed_once_fixed(broker_db, any_broker):
    with broker_db.unit_of_work(Scope.tenant(PATH)) as s:
        record_event(
            s,
            topic=TOPIC,
            event_type="poison",
            tenant_id="t",
            tenant_path=PATH,
            actor="a",
            payload=envelope_pb2.AuditRecorded(action="x"),
        )
    relay = OutboxRelay(broker_db, any_broker.bootstrap, name="poison-relay", topics=[TOPIC])
    relay.check_epoch()
    assert relay.publish_batch() == 1

    broken = threading.Event()
    broken.set()

    def handler(session, envelope):
        if broken.is_set():
            raise RuntimeError("bug in the handler")
        session.execute(
            text(
                "INSERT INTO effects (event_id, tenant_path) VALUES (CAST(:e AS uuid),"
                " CAST(:p AS ltree))"
            ),
            {"e": envelope.event_id, "p": envelope.tenant_path},
        )

    stop = threading.Event()
    consumer = IdempotentConsumer(
        broker_db,
        any_broker.bootstrap,
        name="poison-effects",
        topics=[TOPIC],
        handler=handler,
        max_attempts=3,
    )
    t = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 60
        letters = []
        while time.monotonic() < deadline and not letters:
            letters = dead_letters(any_broker.bootstrap)
        assert len(letters) == 1
        headers = dict(letters[0].headers)
        assert b"bug in the handler" in headers["error"]
        assert effects(broker_db) == 0  # the failed attempts left nothing behind

        broken.clear()  # the operator deploys the fix, then replays
        assert dlq.main(["replay", TOPIC, "--bootstrap", any_broker.bootstrap]) == 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and effects(broker_db) == 0:
            time.sleep(0.3)
        assert effects(broker_db) == 1
    finally:
        stop.set()
        t.join(30)
