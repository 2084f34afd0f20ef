"""Kafka wiring (kafka-python): producers, topic creation, broker-epoch detection.

The embedded broker (Tansu, memory storage) forgets everything when it
restarts. Each broker "life" is identified by an *epoch*: the value of the first
record of the single-partition topic ``kepu.broker-epoch``. Relays and consumers
compare it with the epoch they last saw; a new epoch means a fresh broker, so
relays publish their retained outbox again and consumers read from the start
(idempotency makes the repeats harmless). Apache Kafka keeps its log, and with it its epoch,
across restarts and crashes.

Every client is made with :data:`CLIENT_SETTINGS`, so that an outage costs a loop turn of a
relay or consumer, never a silent half minute after the broker is back.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

EPOCH_TOPIC = "kepu.broker-epoch"

# kafka-python's defaults (30 s to bootstrap, reconnect backoff growing to 30 s) let a client
# that began to reconnect while the broker was down miss its return by up to 30 s: a relay
# whose admin client hit that took 35 s to publish again after Kafka was back, instead of ~2 s.
# (Consumers keep their own request timeout: it must exceed the group session timeout.)
# In a cluster the chart adds TLS and SCRAM (security_settings); locally the broker is PLAINTEXT.
CLIENT_SETTINGS: dict[str, int | str] = {
    "reconnect_backoff_max_ms": 2000,
    "bootstrap_timeout_ms": 10000,
}


def security_settings(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """kafka-python's security settings from the environment the chart sets.

    ``KAFKA_SECURITY_PROTOCOL`` (default ``PLAINTEXT``: nothing is added), and for SASL
    ``KAFKA_SASL_MECHANISM`` (e.g. ``SCRAM-SHA-512``), ``KAFKA_SASL_USERNAME`` and
    ``KAFKA_SASL_PASSWORD_FILE`` (the KafkaUser's Secret, mounted as a file); for TLS
    ``KAFKA_SSL_CAFILE`` (the cluster CA). The password is read from its file once, at start.
    """
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    if protocol == "PLAINTEXT":
        return {}
    out = {"security_protocol": protocol}
    if protocol.startswith("SASL_"):
        out["sasl_mechanism"] = env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
        out["sasl_plain_username"] = env["KAFKA_SASL_USERNAME"]
        password_file = Path(env["KAFKA_SASL_PASSWORD_FILE"])
        out["sasl_plain_password"] = password_file.read_text().strip()
    if protocol.endswith("SSL") and env.get("KAFKA_SSL_CAFILE"):
        out["ssl_cafile"] = env["KAFKA_SSL_CAFILE"]
    return out


CLIENT_SETTINGS.update(security_settings())
REQUEST_TIMEOUT_MS = 10000

# How long the broker may hold a consumer's fetch that finds nothing new (kafka-python's default:
# 500 ms); each idle consumer sends one fetch per wait. Apache Kafka 4.1 answers a waiting fetch
# as soon as a record arrives, so a long wait costs no latency there (5000 ms: produce ->
# consumer p50 21 ms, as with 500 ms) and saves the idle consumer ~40 % of its CPU; Tansu 0.6
# answers only near the end of the wait (5000 ms: p50 1.4 s), so the default stays 500 ms and
# the launcher sets 5000 when it runs Kafka (KEPU_BROKER=kafka). Measured in docs/benchmarks.md.
FETCH_MAX_WAIT_MS = int(os.environ.get("KAFKA_FETCH_MAX_WAIT_MS", "500"))

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
    """acks=all and idempotent (explicitly: a conflicting setting then fails instead of
    silently turning idempotence off), so a retried batch is not written twice."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        retries=5,
        linger_ms=5,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        max_block_ms=10000,
        **CLIENT_SETTINGS,
    )


def ensure_topics(bootstrap: str, topics: list[str]) -> None:
    """Create ``topics`` when missing, with :func:`topic_settings` (idempotent, safe to race).

    The replication factor is left to the broker (``default.replication.factor``): 1 locally,
    3 in production, should a relay ever get there before the Topic Operator.
    """
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=REQUEST_TIMEOUT_MS, **CLIENT_SETTINGS
    )
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


class BrokerWatch:
    """Says once, in one line, that Kafka cannot be reached, and once that it is back.

    Relays and consumers retry an unreachable broker forever (an outage is transient, a wrong
    ``KAFKA_BOOTSTRAP_SERVERS`` is fixed by a redeploy): the log gets one line naming Kafka and
    the setting, not a traceback or the same warning every few seconds.
    """

    def __init__(self, bootstrap: str, who: str) -> None:
        self.bootstrap = bootstrap
        self.who = who
        self._down_since: float | None = None

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def unreachable(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.error(
                "%s：无法连接 Kafka（KAFKA_BOOTSTRAP_SERVERS=%s）：%s。每隔几秒自动重试；"
                "请检查 Kafka 是否在运行、该设置是否正确。",
                self.who,
                self.bootstrap,
                _reason(exc),
            )
        else:
            log.debug("%s: Kafka still unreachable (%s)", self.who, exc)

    def reachable(self) -> None:
        if self._down_since is not None:
            log.warning(
                "%s：已重新连接 Kafka（%s），中断约 %.0f 秒。",
                self.who,
                self.bootstrap,
                time.monotonic() - self._down_since,
            )
            self._down_since = None


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    # kafka-python prefixes its messages with the class name ("KafkaTimeoutError: ...").
    return text.split(": ", 1)[1] if text.startswith(type(exc).__name__ + ": ") else text


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
                request_timeout_ms=REQUEST_TIMEOUT_MS,
                **CLIENT_SETTINGS,
            )
        return self._consumer

    def read(self) -> str | None:
        """The running broker's epoch, or None when it has none yet (a fresh broker).

        Raises :class:`KafkaError` when the broker cannot say: an unreachable broker is not a
        fresh one, and taking it for one would found a second epoch the moment it is back.
        """
        consumer = self._reader()
        tp = TopicPartition(EPOCH_TOPIC, 0)
        if EPOCH_TOPIC not in consumer.topics():  # always asks the broker
            return None
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        records = consumer.poll(timeout_ms=2000, max_records=1)
        for batch in records.values():
            for record in batch:
                return bytes(record.value).decode()
        if consumer.end_offsets([tp], timeout_ms=REQUEST_TIMEOUT_MS)[tp] == 0:
            return None  # created by a racing relay that has not written yet
        raise KafkaError("the broker epoch record could not be fetched")

    def current(self) -> str:
        """The epoch of the running broker, founding one when the broker is fresh.

        Raises :class:`KafkaError` when the broker is unreachable (callers retry).
        """
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
        last: KafkaError | None = None
        for _ in range(10):
            try:
                epoch = self.read()
            except KafkaError as exc:  # just written: not fetched yet
                last, epoch = exc, None
            if epoch:
                return epoch
            time.sleep(0.3)
        raise KafkaError(f"broker epoch could not be read ({last})")

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
