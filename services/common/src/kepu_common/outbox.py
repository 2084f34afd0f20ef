"""The transactional outbox (SPEC section 9).

``record_event`` adds an event to the ``outbox`` table inside the caller's unit
of work, so the state change and its event commit together. ``OutboxRelay``
publishes unpublished rows with kafka-python (acks=all), keyed by tenant id, and
keeps published rows for a retention window so that they can be published again
when the broker turns out to be a fresh one (see ``bus.BrokerEpoch``).

The relay does not poll an idle outbox several times a second: ``record_event`` sends a
``NOTIFY`` on :data:`CHANNEL` in the insert's own statement (delivered when, and only if, the
transaction commits) and the relay, ``LISTEN``ing on its own connection, publishes as soon as
it arrives. A slow fallback poll (:data:`FALLBACK_POLL_SECONDS`) covers anything a notification
could miss; while the listening connection cannot be opened the relay polls as it used to.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaProducer
from kafka.errors import KafkaError
from kepu.events.v1 import envelope_pb2
from opentelemetry import propagate, trace
from sqlalchemy import text
from sqlalchemy.orm import Session

from . import heartbeat, metrics, rls
from .bus import BrokerEpoch, BrokerWatch, ensure_topics, make_producer
from .db import Database, Scope, affected

log = logging.getLogger(__name__)
tracer = trace.get_tracer("kepu.outbox")
GAUGE_SECONDS = 5.0  # how often the relay measures the backlog and the dead letters
CHANNEL = "kepu_outbox"  # NOTIFY channel of a new outbox row (per database)
FALLBACK_POLL_SECONDS = 5.0  # an idle relay queries the outbox this often without a NOTIFY
WAIT_SLICE_SECONDS = 0.5  # longest wait for a NOTIFY: a stop is noticed within it


def ddl(app_role: str) -> list[str]:
    """Tables of the outbox and of the idempotent consumers, with RLS and grants."""
    stmts = [
        "CREATE EXTENSION IF NOT EXISTS ltree",
        """CREATE TABLE outbox (
            id bigserial PRIMARY KEY,
            event_id uuid NOT NULL UNIQUE,
            topic text NOT NULL,
            key text NOT NULL,
            type text NOT NULL,
            tenant_path ltree NOT NULL,
            payload bytea NOT NULL,
            headers jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            published_at timestamptz
        )""",
        "CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL",
        "CREATE INDEX outbox_published_at ON outbox (published_at)",
        """CREATE TABLE processed_events (
            consumer text NOT NULL,
            event_id uuid NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id)
        )""",
        """CREATE TABLE relay_state (
            name text PRIMARY KEY,
            broker_epoch text NOT NULL
        )""",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON outbox, processed_events, relay_state TO {app_role}",
        f"GRANT USAGE, SELECT ON SEQUENCE outbox_id_seq TO {app_role}",
    ]
    stmts += rls.enable_rls_sql("outbox")
    return stmts


def build_envelope(
    *,
    event_type: str,
    tenant_id: str,
    tenant_path: str,
    actor: str,
    payload: Message,
    event_id: str | None = None,
    schema_version: int = 1,
) -> envelope_pb2.EventEnvelope:
    ts = Timestamp()
    ts.FromDatetime(datetime.now(UTC))
    packed = any_pb2.Any()
    packed.Pack(payload)
    return envelope_pb2.EventEnvelope(
        event_id=event_id or str(uuid.uuid4()),
        type=event_type,
        schema_version=schema_version,
        tenant_id=tenant_id,
        tenant_path=tenant_path,
        occurred_at=ts,
        actor=actor,
        payload=packed,
    )


def record_event(
    session: Session,
    *,
    topic: str,
    event_type: str,
    tenant_id: str,
    tenant_path: str,
    actor: str,
    payload: Message,
) -> str:
    """Add an event to the outbox in the current transaction; returns its id."""
    envelope = build_envelope(
        event_type=event_type,
        tenant_id=tenant_id,
        tenant_path=tenant_path,
        actor=actor,
        payload=payload,
    )
    headers: dict[str, str] = {}
    propagate.inject(headers)  # W3C traceparent of the user action, if any
    # One round trip: the row and the relay's wake-up (a NOTIFY is sent at commit, and not at
    # all when the transaction rolls back; several in one transaction are sent once).
    session.execute(
        text(
            "WITH ins AS (INSERT INTO outbox"
            " (event_id, topic, key, type, tenant_path, payload, headers)"
            " VALUES (:id, :topic, :key, :type, CAST(:path AS ltree), :payload,"
            f" CAST(:headers AS jsonb))) SELECT pg_notify('{CHANNEL}', '')"
        ),
        {
            "id": envelope.event_id,
            "topic": topic,
            "key": tenant_id,
            "type": event_type,
            "path": tenant_path,
            "payload": envelope.SerializeToString(),
            "headers": json.dumps(headers),
        },
    )
    return envelope.event_id


def _send_span(row: Any) -> trace.Span:
    """A PRODUCER span for publishing ``row`` (semantic conventions for messaging)."""
    return tracer.start_span(
        f"send {row.topic}",
        context=propagate.extract(row.headers or {}),
        kind=trace.SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.destination.name": row.topic,
            "messaging.message.id": str(row.event_id),
            "messaging.kafka.message.key": row.key,
            "kepu.event.type": row.type,
            "kepu.tenant.id": row.key,
        },
    )


class OutboxListener:
    """The relay's wake-up: ``LISTEN`` on :data:`CHANNEL` on a connection of its own.

    :meth:`wait` returns True when the outbox should be read now: a notification arrived, the
    connection was (re)opened (rows may have committed while nobody listened), or it cannot be
    opened at all (after ``idle_sleep``, so the relay falls back to polling as before)."""

    def __init__(self, db: Database, idle_sleep: float) -> None:
        self.url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.idle_sleep = idle_sleep
        self._conn: psycopg.Connection[Any] | None = None

    def wait(self, stop: threading.Event, timeout: float) -> bool:
        try:
            if self._conn is None:
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                self._conn.execute(f"LISTEN {CHANNEL}")
                return True
            notified = False
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                notified = True
            if notified:  # the others of a burst are one read of the outbox too
                for _ in self._conn.notifies(timeout=0):
                    pass
            return notified
        except psycopg.Error as exc:
            log.debug("outbox listener unavailable (%s); polling", exc)
            self.close()
            stop.wait(self.idle_sleep)
            return True

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:  # a connection to a database that is gone
                pass
            self._conn = None


class OutboxRelay:
    """Publishes a service's outbox to Kafka; republishes on a fresh broker."""

    def __init__(
        self,
        db: Database,
        bootstrap: str,
        *,
        name: str,
        topics: list[str],
        retention_hours: float = 72.0,
        batch_size: int = 500,
        epoch_check_seconds: float = 3.0,
    ) -> None:
        self.db = db
        self.bootstrap = bootstrap
        self.name = name
        self.topics = topics
        self.retention_hours = retention_hours
        self.batch_size = batch_size
        self.epoch_check_seconds = epoch_check_seconds
        self._producer: KafkaProducer | None = None
        self._epoch = BrokerEpoch(bootstrap)
        self._watch = BrokerWatch(bootstrap, f"{name} 发件箱转发（relay）")
        self._last_epoch_check = 0.0
        self._checked_epoch: str | None = None  # the epoch relay_state is known to hold

    def _ensure_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = make_producer(self.bootstrap)
        return self._producer

    def check_epoch(self) -> bool:
        """Republish the retained outbox when the broker's epoch changed. True if it did."""
        epoch = self._epoch.current()
        if epoch == self._checked_epoch:  # this relay made relay_state agree with it already
            return False
        with self.db.unit_of_work(Scope.system_scope()) as s:
            known = s.execute(
                text("SELECT broker_epoch FROM relay_state WHERE name = :n FOR UPDATE"),
                {"n": self.name},
            ).scalar()
            if known == epoch:
                self._checked_epoch = epoch
                return False
            ensure_topics(self.bootstrap, self.topics + [t + ".dlq" for t in self.topics])
            n = affected(
                s.execute(
                    text(
                        "UPDATE outbox SET published_at = NULL WHERE published_at IS NOT NULL"
                        " AND published_at > now() - make_interval(secs => :h * 3600)"
                    ),
                    {"h": self.retention_hours},
                )
            )
            s.execute(
                text(
                    "INSERT INTO relay_state (name, broker_epoch) VALUES (:n, :e)"
                    " ON CONFLICT (name) DO UPDATE SET broker_epoch = EXCLUDED.broker_epoch"
                ),
                {"n": self.name, "e": epoch},
            )
        self._checked_epoch = epoch
        if known is not None:
            log.warning(
                "relay %s: fresh broker (epoch %s); republishing %d events", self.name, epoch, n
            )
        return True

    def publish_batch(self) -> int:
        """Publish one batch of unpublished events; returns how many were published."""
        producer = self._ensure_producer()
        with self.db.unit_of_work(Scope.system_scope()) as s:
            rows = s.execute(
                text(
                    "SELECT id, topic, key, payload, headers, type, event_id FROM outbox"
                    " WHERE published_at IS NULL ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"
                ),
                {"n": self.batch_size},
            ).all()
            if not rows:
                return 0
            futures = []
            spans = [_send_span(row) for row in rows]
            try:
                for row, span in zip(rows, spans, strict=True):
                    # The event's trace continues from this PRODUCER span, a child of the
                    # user action whose context the row kept.
                    carrier: dict[str, str] = {}
                    propagate.inject(carrier, context=trace.set_span_in_context(span))
                    headers = [
                        (k, v.encode()) for k, v in {**(row.headers or {}), **carrier}.items()
                    ]
                    headers += [
                        ("event_type", row.type.encode()),
                        ("event_id", str(row.event_id).encode()),
                    ]
                    futures.append(
                        producer.send(
                            row.topic,
                            key=row.key.encode(),
                            value=bytes(row.payload),
                            headers=headers,
                        )
                    )
                producer.flush(timeout=15)
                for f, span in zip(futures, spans, strict=True):
                    sent = f.get(timeout=15)  # raises: the transaction rolls back, rows stay
                    span.set_attribute("messaging.destination.partition.id", str(sent.partition))
                    span.set_attribute("messaging.kafka.offset", sent.offset)
            except Exception as exc:
                for span in spans:
                    span.record_exception(exc)
                    span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                raise
            finally:
                for span in spans:
                    span.end()
            s.execute(
                text("UPDATE outbox SET published_at = now() WHERE id = ANY(:ids)"),
                {"ids": [r.id for r in rows]},
            )
        for row in rows:
            metrics.relay_published.add(1, {"service": self.name, "topic": row.topic})
        return len(rows)

    def observe_backlog(self) -> None:
        """Set ``kepu.outbox.backlog`` and ``kepu.outbox.oldest_age`` from the table."""
        with self.db.unit_of_work(Scope.system_scope()) as s:
            count, age = s.execute(
                text(
                    "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)"
                    " FROM outbox WHERE published_at IS NULL"
                )
            ).one()
        metrics.outbox_backlog.set(int(count), {"service": self.name})
        metrics.outbox_oldest_age.set(float(age), {"service": self.name})

    def purge(self) -> int:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            return affected(
                s.execute(
                    text(
                        "DELETE FROM outbox WHERE published_at < now()"
                        " - make_interval(secs => :h * 3600)"
                    ),
                    {"h": self.retention_hours},
                )
            )

    def run(self, stop: threading.Event, idle_sleep: float = 0.2) -> None:
        """Publish until ``stop``: at once after a NOTIFY, otherwise every
        :data:`FALLBACK_POLL_SECONDS`; every ``idle_sleep`` while no NOTIFY can be received."""
        last_purge = last_gauges = last_poll = 0.0
        due = True  # read the outbox now
        dlq = metrics.DlqGauge(self.bootstrap, [t + ".dlq" for t in self.topics])
        listener = OutboxListener(self.db, idle_sleep)
        while not stop.is_set():
            heartbeat.beat()
            try:
                now = time.monotonic()
                if now - last_gauges > GAUGE_SECONDS:
                    last_gauges = now
                    self.observe_backlog()
                    dlq.observe()
                if now - self._last_epoch_check > self.epoch_check_seconds:
                    self._last_epoch_check = now
                    due = self.check_epoch() or due  # republishing: the rows are unpublished
                    self._watch.reachable()
                if now - last_purge > 3600:
                    last_purge = now
                    self.purge()
                if due or now - last_poll > FALLBACK_POLL_SECONDS:
                    last_poll, due = now, False
                    if self.publish_batch():
                        self._watch.reachable()
                        due = True  # a full batch may have left more behind
                        continue
                due = listener.wait(stop, WAIT_SLICE_SECONDS)
            except (KafkaError, OSError) as exc:
                self._watch.unreachable(exc)
                self._reset_producer()
                due = True
                stop.wait(1.0)
            except Exception:
                log.exception("relay %s: unexpected error", self.name)
                due = True
                stop.wait(1.0)
        listener.close()
        self._reset_producer()
        self._epoch.close()
        dlq.close()

    def _reset_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=2)
            except Exception:  # noqa: BLE001 - closing a broken producer
                pass
            self._producer = None
