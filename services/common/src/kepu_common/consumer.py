"""Idempotent consumers (SPEC section 9).

Each event's effect and the row ``(consumer, event_id)`` in ``processed_events``
commit in one transaction, so a repeated delivery (a retry, a rebalance, or the
republication after a fresh broker) does nothing, and that transaction commits before the
offset: an effect is never lost behind a committed offset.

A transient failure (the database or the broker unavailable, ``transient.is_transient``) is
retried with backoff for as long as it lasts and never dead-letters the event; an event whose
handler fails ``max_attempts`` times while every part is up goes to ``<topic>.dlq`` with the
error in a header. Each consumer thread has its own heartbeat, and a watchdog
(``stall.StallWatch``) breaks a call into the broker client that hangs (the client is rebuilt).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kepu.events.v1 import envelope_pb2
from opentelemetry import propagate, trace
from sqlalchemy import text
from sqlalchemy.orm import Session

from . import heartbeat, logs, metrics
from .bus import (
    CLIENT_SETTINGS,
    FETCH_MAX_WAIT_MS,
    BrokerEpoch,
    BrokerWatch,
    ensure_topics,
    make_producer,
)
from .db import Database, Scope
from .stall import StallWatch
from .transient import backoff, is_transient

log = logging.getLogger(__name__)
tracer = trace.get_tracer("kepu.consumer")
LAG_SECONDS = 5.0  # how often an idle consumer measures its lag

Handler = Callable[[Session, envelope_pb2.EventEnvelope], None]


def first_time(s: Session, consumer: str, event_id: str) -> bool:
    """Record in ``s`` that ``consumer`` processes ``event_id``; False if it already did.

    The row commits with the effect, so an event redelivered (or read back again) is skipped."""
    inserted = s.execute(
        text(
            "INSERT INTO processed_events (consumer, event_id) VALUES (:c, CAST(:e AS uuid))"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {"c": consumer, "e": event_id},
    ).first()
    return inserted is not None


def handle_once(
    db: Database, consumer: str, envelope: envelope_pb2.EventEnvelope, handler: Handler
) -> bool:
    """Apply ``handler`` unless this consumer already processed the event. True if applied."""
    with db.unit_of_work(Scope.system_scope()) as s:
        if not first_time(s, consumer, envelope.event_id):
            return False
        handler(s, envelope)
        return True


def instance_id(group: str) -> str:
    """This process's static member id in ``group``: stable while the process lives (a client it
    rebuilds takes over the old one's slot), distinct for every process and pod (two workers of
    one group share its partitions). ``POD_NAME``, when set, is the whole identity: the launcher
    gives each of its processes one that survives a restart, as a pod's name survives a
    container restart, so a restarted worker takes its old slot over at once (Tansu did not
    expire a SIGKILLed worker's slot within 2 minutes in tests/faults: the new member got no
    partitions and the effects stopped). Without it a restarted process is a new member, and
    the old one's slot expires after the session timeout (Kafka)."""
    member = os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"
    return f"{group}@{member}"[:249]


class IdempotentConsumer:
    def __init__(
        self,
        db: Database,
        bootstrap: str,
        *,
        name: str,
        topics: list[str],
        handler: Handler,
        max_attempts: int = 5,
        epoch_check_seconds: float = 3.0,
        stall_seconds: float = 45.0,
    ) -> None:
        self.db = db
        self.bootstrap = bootstrap
        self.name = name
        self.topics = topics
        self.handler = handler
        self.max_attempts = max_attempts
        self.epoch_check_seconds = epoch_check_seconds
        self.stall_seconds = stall_seconds
        self.applied = 0
        self.watchdog = StallWatch(f"{name} 事件消费（worker）", stall_seconds, self._unstick)
        self._stop = threading.Event()
        self._clients: list[KafkaConsumer | BrokerEpoch] = []
        self._rewind: _Rewind | None = None

    def _connect(self, *, rewind: bool) -> KafkaConsumer:
        ensure_topics(self.bootstrap, self.topics + [t + ".dlq" for t in self.topics])
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Tansu's group coordinator needs short timeouts to rebalance quickly.
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            # Also the rebalance timeout: how long a JoinGroup may wait for members that are
            # gone (a consumer of a killed process); short, so a restart rejoins in seconds.
            max_poll_interval_ms=30000,
            request_timeout_ms=30000,
            # A subscribed topic whose partitions were not known yet at the first metadata
            # answer is looked up again within seconds, not after kafka-python's 5 minutes.
            metadata_max_age_ms=5000,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            # Static membership (KIP-345): a rebuilt client or a restarted worker takes over its
            # own member slot at once instead of waiting for the old member to expire. Without
            # it, a client closed in the middle of a join to a restarted broker stayed the group
            # leader on Tansu for good and the new member never got a partition.
            group_instance_id=instance_id(self.name),
            **CLIENT_SETTINGS,
        )
        self._rewind = _Rewind(consumer, self.name, rewind=rewind)
        consumer.subscribe(self.topics, listener=self._rewind)
        return consumer

    def _process(self, record: ConsumerRecord, dlq_producer: KafkaProducer) -> None:
        envelope = envelope_pb2.EventEnvelope()
        try:
            envelope.ParseFromString(record.value)
        except Exception:  # noqa: BLE001 - a poison message goes straight to the DLQ
            dlq_producer.send(
                record.topic + ".dlq", value=record.value, headers=[("error", b"unparseable")]
            )
            return
        carrier = {k: bytes(v).decode(errors="replace") for k, v in (record.headers or [])}
        with (
            tracer.start_as_current_span(
                f"process {record.topic}",
                context=propagate.extract(carrier),
                kind=trace.SpanKind.CONSUMER,
                attributes=_process_attributes(self.name, record, envelope),
            ) as span,
            logs.request_scope(tenant_id=envelope.tenant_id, event_id=envelope.event_id),
        ):
            last_error = ""
            attempt = failures = 0
            while failures < self.max_attempts:
                attempt += 1
                try:
                    applied = handle_once(self.db, self.name, envelope, self.handler)
                    if applied:
                        self.applied += 1
                    self._count(record.topic, "applied" if applied else "duplicate")
                    return
                except Exception as exc:  # noqa: BLE001 - retried; dead-lettered unless transient
                    last_error = repr(exc)
                    span.record_exception(exc)
                    transient = is_transient(exc)
                    failures += 0 if transient else 1
                    if not transient or attempt == 1 or attempt % 20 == 0:
                        log.warning(
                            "%s: %s failed (attempt %d, %s): %s",
                            self.name,
                            envelope.type,
                            attempt,
                            "transient, retried until it succeeds" if transient else "retried",
                            exc,
                        )
                    heartbeat.beat(self.name)  # waiting for the database is not being stuck
                    if self._stop.wait(backoff(attempt)):
                        raise _Stopped from exc
            span.set_status(trace.StatusCode.ERROR, "dead-lettered")
            dlq_producer.send(
                record.topic + ".dlq",
                key=record.key,
                value=record.value,
                headers=list(record.headers or [])
                + [("error", last_error.encode()[:1000]), ("consumer", self.name.encode())],
            ).get(10)
            self._count(record.topic, "dead_lettered")

    def _count(self, topic: str, outcome: str) -> None:
        metrics.consumer_events.add(1, {"group": self.name, "topic": topic, "outcome": outcome})

    def _observe_lag(self, consumer: KafkaConsumer) -> None:
        """``kepu.consumer.lag`` of each assigned partition whose high watermark is known."""
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            position = consumer.position(tp, timeout_ms=1000)
            if position is None:
                continue
            metrics.consumer_lag.set(
                max(0, high - position),
                {"group": self.name, "topic": tp.topic, "partition": str(tp.partition)},
            )

    def _unstick(self) -> None:
        """Fail the pending waits of this consumer's broker clients (from the watchdog)."""
        for client in list(self._clients):
            net = getattr(client, "_net", None) or getattr(
                getattr(client, "_consumer", None), "_net", None
            )
            if net is not None:
                net.stop(timeout_ms=1000)

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        epoch_reader = BrokerEpoch(self.bootstrap)
        watch = BrokerWatch(self.bootstrap, f"{self.name} 事件消费（worker）")
        epoch: str | None = None
        consumer: KafkaConsumer | None = None
        dlq_producer: KafkaProducer | None = None
        last_check = last_lag = 0.0
        rewind_pending = False
        self._clients = [epoch_reader]
        self.watchdog.start(stop)
        while not stop.is_set():
            heartbeat.beat(self.name)
            try:
                if consumer is None:
                    with self.watchdog.call("读取 broker epoch"):
                        previous, epoch = epoch, epoch_reader.current()
                    # After a fresh broker, offsets committed there may already be past
                    # republished events: read everything again from the start.
                    # Still pending until a rewound consumer has committed: a client that
                    # fails between the rewind and its first commit must rewind again, or
                    # it resumes from offsets committed before the fresh broker was noticed.
                    rewind_pending = rewind_pending or (previous is not None and previous != epoch)
                    consumer = self._connect(rewind=rewind_pending)
                    self._clients = [epoch_reader, consumer]
                    if dlq_producer is None:
                        dlq_producer = make_producer(self.bootstrap)
                    watch.reachable()
                now = time.monotonic()
                if now - last_check > self.epoch_check_seconds:
                    last_check = now
                    with self.watchdog.call("读取 broker epoch"):
                        current = self._read_epoch(epoch_reader, watch)
                    if current is not None and current != epoch:
                        log.warning("%s: fresh broker detected; reading from the start", self.name)
                        self._drop(consumer)
                        consumer = None
                        continue
                with self.watchdog.call("poll"):
                    batches = consumer.poll(timeout_ms=500, max_records=200)
                for _tp, records in batches.items():
                    for record in records:
                        self._process(record, dlq_producer)
                if batches:
                    # Every effect above committed with its processed-event row already.
                    with self.watchdog.call("commit"):
                        consumer.commit()
                    if self._rewind is not None and self._rewind.rewound and not self._rewind.done:
                        rewind_pending = False
                        self._rewind.done = True  # later rebalances keep the offsets
                if batches or now - last_lag > LAG_SECONDS:
                    last_lag = now
                    try:
                        self._observe_lag(consumer)
                    except KafkaError as exc:  # a measurement never costs the consumer its turn
                        log.debug("%s: lag not measured: %s", self.name, exc)
            except _Stopped:
                break
            except (KafkaError, OSError) as exc:
                watch.unreachable(exc)
                self._drop(consumer)
                consumer = None
                epoch_reader.close()  # rebuilt on the next read (its loop may be the stuck one)
                if dlq_producer is not None:
                    _close_quietly(dlq_producer)
                    dlq_producer = None
                stop.wait(1.0)
        self._drop(consumer)
        if dlq_producer is not None:
            _close_quietly(dlq_producer)
        epoch_reader.close()
        heartbeat.forget(self.name)

    def _drop(self, consumer: KafkaConsumer | None) -> None:
        """Close ``consumer`` without waiting long for a broker that is gone."""
        if consumer is not None:
            with self.watchdog.call("close"):
                _close_quietly(consumer)

    def _read_epoch(self, reader: BrokerEpoch, watch: BrokerWatch) -> str | None:
        """The broker's epoch for the periodic check; None when it cannot be read just now
        (the poll then meets the same outage and reconnects, or the next check succeeds)."""
        try:
            epoch = reader.read()
        except (KafkaError, OSError) as exc:
            watch.unreachable(exc)
            return None
        watch.reachable()
        return epoch


class _Stopped(Exception):
    """The worker was asked to stop while an event waited for a part to come back."""


def _close_quietly(client: KafkaConsumer | KafkaProducer) -> None:
    try:
        client.close(timeout_ms=2000) if isinstance(client, KafkaConsumer) else client.close(2)
    except Exception:  # noqa: BLE001 - a client of a dead broker may fail to close cleanly
        log.debug("closing a broker client failed", exc_info=True)


def _process_attributes(
    group: str, record: ConsumerRecord, envelope: envelope_pb2.EventEnvelope
) -> dict[str, str | int]:
    """The CONSUMER span's attributes (semantic conventions for messaging, plus the tenant)."""
    return {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": record.offset,
        "messaging.consumer.group.name": group,
        "messaging.message.id": envelope.event_id,
        "kepu.event.type": envelope.type,
        "kepu.tenant.id": envelope.tenant_id,
    }


class _Rewind(ConsumerRebalanceListener):
    """Logs every assignment (which partitions this member reads is the first question when a
    read model stays behind) and, when asked to, rewinds the first one to the beginning."""

    def __init__(self, consumer: KafkaConsumer, name: str, *, rewind: bool) -> None:
        self.consumer = consumer
        self.name = name
        self.rewound = False
        self.done = not rewind

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        if revoked:
            log.info("%s: partitions revoked: %s", self.name, _names(revoked))

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("%s: partitions assigned: %s", self.name, _names(assigned) or "none")
        if assigned and not self.done:
            self.consumer.seek_to_beginning(*assigned)
            self.rewound = True


def _names(tps: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(tps))


def replay_dlq(
    bootstrap: str, topic: str, *, group: str = "kepu-dlq-replay", timeout_ms: int = 5000
) -> int:
    """Move every record of ``<topic>.dlq`` back to ``topic``; returns how many moved."""
    consumer = KafkaConsumer(
        topic + ".dlq",
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=timeout_ms,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        **CLIENT_SETTINGS,
    )
    producer = make_producer(bootstrap)
    moved = 0
    for record in consumer:
        headers = [(k, v) for k, v in (record.headers or []) if k not in ("error", "consumer")]
        producer.send(topic, key=record.key, value=record.value, headers=headers).get(10)
        moved += 1
    consumer.commit()
    consumer.close()
    producer.close()
    return moved
