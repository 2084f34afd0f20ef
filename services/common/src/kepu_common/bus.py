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
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

EPOCH_TOPIC = "kepu.broker-epoch"

# The event topics as production declares them (charts/kepu/values.yaml ``kafka.topics``, rendered
# into KafkaTopic objects by charts/kepu/templates/kafka.yaml). tests/charts/test_topics.py checks
# that the chart renders exactly these, so the local brokers and production cannot drift.
EVENT_SERVICES = ("identity", "talent", "projects", "reporting", "assessment")
EVENT_PARTITIONS = 6
EVENT_RETENTION_MS = 7 * 24 * 3600 * 1000  # 7 days
DLQ_RETENTION_MS = 30 * 24 * 3600 * 1000  # 30 days: time to inspect and replay dead letters
DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicSettings:
    """How a topic is created: partitions and topic-level configs (replicas: the broker's default)."""

    name: str
    partitions: int
    retention_ms: int

    @property
    def configs(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms)}


def topic_settings(name: str) -> TopicSettings:
    """The settings of topic ``name``: every ``*.dlq`` keeps dead letters longer, every other
    topic is an event topic; the epoch topic has one partition and never expires (its first
    record *is* the epoch)."""
    if name == EPOCH_TOPIC:
        return TopicSettings(name, 1, -1)
    if name.endswith(DLQ_SUFFIX):
        return TopicSettings(name, EVENT_PARTITIONS, DLQ_RETENTION_MS)
    return TopicSettings(name, EVENT_PARTITIONS, EVENT_RETENTION_MS)


def event_topics() -> list[TopicSettings]:
    """Every service's ``<svc>.events`` and ``<svc>.events.dlq``, as the chart creates them."""
    names = [f"{svc}.events{suffix}" for svc in EVENT_SERVICES for suffix in ("", DLQ_SUFFIX)]
    return [topic_settings(n) for n in names]


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


def ensure_topics(bootstrap: str, topics: list[str]) -> None:
    """Create ``topics`` when missing, with :func:`topic_settings` (idempotent, safe to race).

    The replication factor is left to the broker (``default.replication.factor``): 1 locally,
    3 in production, should a relay ever get there before the Topic Operator.
    """
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    try:
        existing = set(admin.list_topics())
        for topic in [t for t in topics if t not in existing]:
            spec = topic_settings(topic)
            try:
                admin.create_topics(
                    {
                        topic: {
                            "num_partitions": spec.partitions,
                            "replication_factor": -1,
                            "configs": spec.configs,
                        }
                    }
                )
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
