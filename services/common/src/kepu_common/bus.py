"""Kafka wiring (kafka-python): producers, topic creation, broker-epoch detection.

The embedded broker (Tansu, memory storage) forgets everything when it
restarts. Each broker "life" is identified by an *epoch*: the value of the first
record of the single-partition topic ``kepu.broker-epoch``. Relays and consumers
compare it with the epoch they last saw; a new epoch means a fresh broker, so
relays publish their retained outbox again and consumers read from the start
(idempotency makes the repeats harmless).
"""

from __future__ import annotations

import logging
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

EPOCH_TOPIC = "kepu.broker-epoch"
DEFAULT_PARTITIONS = 3


def make_producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        retries=5,
        linger_ms=5,
        request_timeout_ms=10000,
        max_block_ms=10000,
        reconnect_backoff_max_ms=2000,
    )


def ensure_topics(bootstrap: str, topics: list[str], partitions: int = DEFAULT_PARTITIONS) -> None:
    """Create ``topics`` when missing (idempotent, safe to race)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        for topic in missing:
            n = 1 if topic == EPOCH_TOPIC else partitions
            try:
                admin.create_topics([NewTopic(topic, n, 1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()


class BrokerEpoch:
    """Reads (and on a fresh broker, founds) the broker's epoch."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._consumer: KafkaConsumer | None = None

    def _reader(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap,
                enable_auto_commit=False,
                request_timeout_ms=10000,
                reconnect_backoff_max_ms=2000,
            )
        return self._consumer

    def read(self) -> str | None:
        consumer = self._reader()
        tp = TopicPartition(EPOCH_TOPIC, 0)
        try:
            if EPOCH_TOPIC not in consumer.topics():
                return None
            consumer.assign([tp])
            consumer.seek(tp, 0)
            records = consumer.poll(timeout_ms=2000, max_records=1)
        except KafkaError as exc:
            log.warning("epoch read failed: %s", exc)
            return None
        for batch in records.values():
            for record in batch:
                return bytes(record.value).decode()
        return None

    def current(self) -> str:
        """The epoch of the running broker, founding one when the broker is fresh."""
        epoch = self.read()
        if epoch:
            return epoch
        ensure_topics(self.bootstrap, [EPOCH_TOPIC])
        producer = make_producer(self.bootstrap)
        try:
            # Several relays may race here; whichever record lands at offset 0 wins.
            producer.send(EPOCH_TOPIC, value=uuid.uuid4().hex.encode(), partition=0).get(10)
        finally:
            producer.close()
        for _ in range(10):
            epoch = self.read()
            if epoch:
                return epoch
            time.sleep(0.3)
        raise KafkaError("broker epoch could not be read")

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
