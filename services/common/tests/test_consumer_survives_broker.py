"""Consumers keep running across a Tansu SIGKILL and restart (issue 11: effects were lost 4 of 4
times when the broker came back, consumer threads blocked for good inside the client).

Tansu comes back empty (a fresh epoch: the relay republishes, the consumer rewinds); writes go
on during the outage; every accepted write's effect must be applied exactly once, without
restarting anything by hand. The same on Apache Kafka: ``test_kafka_broker_crash.py``.
"""

import threading
import time

from event_load import Writer, apply_effect, effect_counts, published, wait_for
from kepu_common import heartbeat
from kepu_common.consumer import IdempotentConsumer
from kepu_common.outbox import OutboxRelay
from kepu_common.stall import StallWatch

WRITE_INTERVAL = 0.02  # ~50 accepted writes per second


def test_consumer_running_across_a_broker_kill_applies_every_effect_once(db, kafka_broker):
    any_broker = kafka_broker
    topic = "survive.events"
    relay = OutboxRelay(db, any_broker.bootstrap, name="survive-relay", topics=[topic],
                        epoch_check_seconds=1)  # fmt: skip
    consumer = IdempotentConsumer(db, any_broker.bootstrap, name="survive-effects",
                                  topics=[topic], handler=apply_effect, epoch_check_seconds=1)  # fmt: skip
    writer = Writer(db, topic, WRITE_INTERVAL)
    stop = threading.Event()
    threads = [
        threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True),
        threading.Thread(target=consumer.run, args=(stop,), name="consumer", daemon=True),
    ]
    for t in threads:
        t.start()
    writer.start()
    try:
        assert wait_for(lambda: len(effect_counts(db, list(writer.accepted))) >= 30, timeout=120)
        any_broker.kill()
        killed_at = time.monotonic()
        time.sleep(3)  # writes keep being accepted while nothing can be published
        any_broker.start()
        restarted_at = time.monotonic()
        time.sleep(2)
        ids = writer.stop()

        assert wait_for(lambda: len(effect_counts(db, ids)) == len(ids), timeout=150), (
            f"{len(ids) - len(effect_counts(db, ids))} of {len(ids)} accepted writes have no effect"
        )
        recovered_at = time.monotonic()
        time.sleep(2)  # a redelivery, if any, would arrive now
        counts = effect_counts(db, ids)
        doubles = {e: c for e, c in counts.items() if c != 1}
        print(  # noqa: T201 - figures for the report (pytest -s)
            f"\n{type(any_broker).__name__} killed under a running consumer: accepted {len(ids)},"
            f" published {published(db, ids)}, effects {len(counts)}, applied twice"
            f" {len(doubles)}; every effect {recovered_at - restarted_at:.1f} s after the restart"
            f" ({recovered_at - killed_at:.1f} s after the kill);"
            f" stuck calls broken {consumer.watchdog.unstuck}"
        )
        assert len(counts) == len(ids)
        assert doubles == {}
        assert heartbeat.stale(30) == []  # every loop thread kept beating
    finally:
        writer.stop()
        stop.set()
        for t in threads:
            t.join(30)


def test_a_call_that_hangs_is_broken_by_the_watchdog():
    """What the consumer does with a client wait that never returns: the watchdog fails it."""
    stop = threading.Event()
    released = threading.Event()
    watch = StallWatch("test", limit=0.5, unstick=released.set)
    watch.start(stop)
    try:
        started = time.monotonic()
        with watch.call("poll"):
            assert released.wait(10)  # stands for the client's event.wait(), failed by unstick
        assert time.monotonic() - started < 5
        assert watch.unstuck == 1
        with watch.call("poll"):
            time.sleep(0.1)  # a call that returns in time is left alone
        assert watch.unstuck == 1
    finally:
        stop.set()
