"""Apache Kafka killed with SIGKILL mid-load, restarted with its log: nothing accepted is lost,
and every event's effect is applied exactly once.

Writes keep being accepted (committed with their outbox rows) while the broker is dead; the
relay and the consumer ride out the outage and catch up once it is back.
"""

import threading
import time

from event_load import Writer, apply_effect, effect_counts, published, wait_for
from kepu_common.consumer import IdempotentConsumer
from kepu_common.outbox import OutboxRelay

TOPIC = "crash.events"
WRITE_INTERVAL = 0.01  # ~100 accepted writes per second


def test_broker_killed_mid_load_loses_no_accepted_write_and_applies_each_once(db, real_kafka):
    relay = OutboxRelay(
        db, real_kafka.bootstrap, name="crash-relay", topics=[TOPIC], epoch_check_seconds=1
    )
    consumer = IdempotentConsumer(
        db,
        real_kafka.bootstrap,
        name="crash-effects",
        topics=[TOPIC],
        handler=apply_effect,
        epoch_check_seconds=1,
    )
    writer = Writer(db, TOPIC, WRITE_INTERVAL)
    stop = threading.Event()
    threads = [
        threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True),
        threading.Thread(target=consumer.run, args=(stop,), name="consumer", daemon=True),
    ]
    for t in threads:
        t.start()
    writer.start()
    try:
        # The pipeline is live: effects are being applied while writes go on.
        assert wait_for(lambda: len(effect_counts(db, list(writer.accepted))) >= 50, timeout=120)

        real_kafka.kill()
        killed_at = time.monotonic()
        at_kill = len(writer.accepted)
        time.sleep(3)  # writes keep being accepted; nothing can be published
        real_kafka.start()
        restarted_at = time.monotonic()
        time.sleep(2)  # and the load goes on after the restart
        ids = writer.stop()

        assert wait_for(lambda: len(effect_counts(db, ids)) == len(ids), timeout=300), (
            f"{len(ids) - len(effect_counts(db, ids))} of {len(ids)} accepted writes have no effect"
        )
        recovered_at = time.monotonic()
        time.sleep(
            3
        )  # let any redelivery (a batch published twice, offsets not yet committed) arrive
        counts = effect_counts(db, ids)
        doubles = {e: c for e, c in counts.items() if c != 1}
        print(  # noqa: T201 - the figures the closing note quotes (pytest -s)
            f"\nbroker crash: accepted {len(ids)} writes ({len(ids) - at_kill} after the kill),"
            f" published {published(db, ids)}, effects {len(counts)}, applied twice {len(doubles)};"
            f" broker unreachable {restarted_at - killed_at:.1f} s (restart took"
            f" {real_kafka.started_in:.1f} s); every effect applied"
            f" {recovered_at - restarted_at:.1f} s after the restart"
            f" ({recovered_at - killed_at:.1f} s after the kill)"
        )
        assert len(counts) == len(ids)  # no loss
        assert doubles == {}  # no double
        assert published(db, ids) == len(ids)
    finally:
        writer.stop()
        stop.set()
        for t in threads:
            t.join(30)
