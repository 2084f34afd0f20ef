"""The transactional outbox (SPEC section 9).

``record_event`` adds an event to the ``outbox`` table inside the caller's unit
of work, so the state change and its event commit together. ``OutboxRelay``
publishes unpublished rows with kafka-python (acks=all), keyed by tenant id, and
keeps published rows for a retention window so that they can be published again
when the broker turns out to be a fresh one (see ``bus.BrokerEpoch``).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime

from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaProducer
from kafka.errors import KafkaError
from kepu.events.v1 import envelope_pb2
from opentelemetry import propagate
from sqlalchemy import text
from sqlalchemy.orm import Session

from . import heartbeat, rls
from .bus import BrokerEpoch, BrokerWatch, ensure_topics, make_producer
from .db import Database, Scope, affected

log = logging.getLogger(__name__)


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
    session.execute(
        text(
            "INSERT INTO outbox (event_id, topic, key, type, tenant_path, payload, headers)"
            " VALUES (:id, :topic, :key, :type, CAST(:path AS ltree), :payload,"
            " CAST(:headers AS jsonb))"
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

    def _ensure_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = make_producer(self.bootstrap)
        return self._producer

    def check_epoch(self) -> bool:
        """Republish the retained outbox when the broker's epoch changed. True if it did."""
        epoch = self._epoch.current()
        with self.db.unit_of_work(Scope.system_scope()) as s:
            known = s.execute(
                text("SELECT broker_epoch FROM relay_state WHERE name = :n FOR UPDATE"),
                {"n": self.name},
            ).scalar()
            if known == epoch:
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
            for row in rows:
                headers = [(k, v.encode()) for k, v in (row.headers or {}).items()]
                headers += [
                    ("event_type", row.type.encode()),
                    ("event_id", str(row.event_id).encode()),
                ]
                futures.append(
                    producer.send(
                        row.topic, key=row.key.encode(), value=bytes(row.payload), headers=headers
                    )
                )
            producer.flush(timeout=15)
            for f in futures:
                f.get(timeout=15)  # raises: the transaction rolls back, rows stay unpublished
            s.execute(
                text("UPDATE outbox SET published_at = now() WHERE id = ANY(:ids)"),
                {"ids": [r.id for r in rows]},
            )
            return len(rows)

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
        import time

        last_purge = 0.0
        while not stop.is_set():
            heartbeat.beat()
            try:
                now = time.monotonic()
                if now - self._last_epoch_check > self.epoch_check_seconds:
                    self._last_epoch_check = now
                    self.check_epoch()
                    self._watch.reachable()
                if now - last_purge > 3600:
                    last_purge = now
                    self.purge()
                published = self.publish_batch()
                if published:
                    self._watch.reachable()
                else:
                    stop.wait(idle_sleep)
            except (KafkaError, OSError) as exc:
                self._watch.unreachable(exc)
                self._reset_producer()
                stop.wait(1.0)
            except Exception:
                log.exception("relay %s: unexpected error", self.name)
                stop.wait(1.0)
        self._reset_producer()
        self._epoch.close()

    def _reset_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=2)
            except Exception:  # noqa: BLE001 - closing a broken producer
                pass
            self._producer = None
