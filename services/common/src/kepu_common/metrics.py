"""Metrics: one OpenTelemetry MeterProvider per process, read by Prometheus and by OTLP.

Every process exposes the Prometheus text format on ``/metrics``: the gateway on its HTTP
port, a service process on ``KEPU_METRICS_PORT`` (9464 in the charts; the local launcher
gives each process a free port, listed in ``Stack.metrics_ports``).
Without ``KEPU_METRICS_PORT`` a service serves none and the instruments still count for
OTLP. With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, the same metrics are pushed over OTLP/HTTP
every ``OTEL_METRIC_EXPORT_INTERVAL`` ms (default 15 s).

The instruments of the shared mechanisms live here, so their names are defined once
(Prometheus names in brackets):

- ``rpc.server.call.duration`` / ``rpc.client.call.duration`` [``rpc_server_call_duration_seconds``,
  ``rpc_client_call_duration_seconds``] per ``rpc.service``, ``rpc.method``,
  ``rpc.grpc.status_code`` (rate, latency and errors per RPC);
- ``http.server.request.duration`` [``http_server_request_duration_seconds``] comes from the
  FastAPI instrumentation, per ``http.route``, method and status;
- ``kepu.consumer.lag`` [``kepu_consumer_lag``] per consumer group, topic and partition;
  ``kepu.consumer.events`` [``kepu_consumer_events_total``] per group, topic and outcome
  (applied, duplicate, dead_lettered);
- ``kepu.outbox.backlog`` and ``kepu.outbox.oldest_age`` [``kepu_outbox_backlog``,
  ``kepu_outbox_oldest_age_seconds``]: unpublished rows and the age of the oldest one;
- ``kepu.relay.published`` [``kepu_relay_published_total``] per topic;
- ``kepu.dlq.size`` [``kepu_dlq_size``]: dead letters not yet replayed, per DLQ topic;
- ``kepu.import.duration``, ``kepu.distribution.duration`` [``kepu_import_duration_seconds``,
  ``kepu_distribution_duration_seconds``];
- ``kepu.login.failures`` [``kepu_login_failures_total``] per ``action`` (login_failure,
  login_blocked), counted where identity writes the audit entry (either provider);
- ``db.client.connections.usage`` [``db_client_connections_usage``] per pool and ``state``
  (idle, used), read at collection from every engine given to :func:`watch_pool`.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource

log = logging.getLogger(__name__)
meter = metrics.get_meter("kepu")

# Seconds: from a 2 ms read to a 30 s import.
DURATION_BUCKETS = (
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip

rpc_server_duration = meter.create_histogram(
    "rpc.server.call.duration", unit="s", description="gRPC calls served, by method and status"
)
rpc_client_duration = meter.create_histogram(
    "rpc.client.call.duration", unit="s", description="gRPC calls made, by method and status"
)
consumer_lag = meter.create_gauge(
    "kepu.consumer.lag",
    unit="{event}",
    description="Events of a partition not yet processed by the consumer group",
)
consumer_events = meter.create_counter(
    "kepu.consumer.events", unit="{event}", description="Events handled, by outcome"
)
outbox_backlog = meter.create_gauge(
    "kepu.outbox.backlog", unit="{event}", description="Outbox rows not yet published"
)
outbox_oldest_age = meter.create_gauge(
    "kepu.outbox.oldest_age", unit="s", description="Age of the oldest unpublished outbox row"
)
relay_published = meter.create_counter(
    "kepu.relay.published", unit="{event}", description="Events published by the outbox relay"
)
dlq_size = meter.create_gauge(
    "kepu.dlq.size", unit="{event}", description="Dead letters not yet replayed"
)
import_duration = meter.create_histogram(
    "kepu.import.duration", unit="s", description="Spreadsheet imports, validated and committed"
)
distribution_duration = meter.create_histogram(
    "kepu.distribution.duration", unit="s", description="Credential distributions"
)
login_failures = meter.create_counter(
    "kepu.login.failures",
    unit="{attempt}",
    description="Refused sign-ins (wrong password or code, locked account), by kind",
)

# The engines whose pools are read when metrics are collected, with their attributes.
_pools: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def watch_pool(engine: Any, attributes: dict[str, Any]) -> None:
    """Report ``engine``'s pool in ``db.client.connections.usage`` (read at collection, so a
    checkout or checkin costs nothing)."""
    _pools[engine] = attributes


def _observe_pools(_options: metrics.CallbackOptions) -> list[metrics.Observation]:
    found = []
    for engine, attributes in list(_pools.items()):
        pool = engine.pool
        if hasattr(pool, "checkedout"):
            found.append(metrics.Observation(pool.checkedin(), {**attributes, "state": "idle"}))
            found.append(metrics.Observation(pool.checkedout(), {**attributes, "state": "used"}))
    return found


db_connections_usage = meter.create_observable_up_down_counter(
    "db.client.connections.usage",
    callbacks=[_observe_pools],
    unit="{connection}",
    description="Connections of the pool, by state (idle, used)",
)


def setup(resource: Resource, *, otlp: bool) -> None:
    """Install the process's MeterProvider: Prometheus always, OTLP/HTTP when ``otlp``."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader

    readers: list[MetricReader] = [PrometheusMetricReader()]
    if otlp:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    seconds = ExplicitBucketHistogramAggregation(DURATION_BUCKETS)
    views = [
        View(instrument_name=name, aggregation=seconds)
        for name in (
            "rpc.server.call.duration",
            "rpc.client.call.duration",
            "http.server.request.duration",
            "kepu.import.duration",
            "kepu.distribution.duration",
        )
    ]
    metrics.set_meter_provider(
        MeterProvider(resource=resource, metric_readers=readers, views=views)
    )


def serve_prometheus() -> int | None:
    """Serve ``/metrics`` on ``KEPU_METRICS_PORT`` (a service process); returns the port."""
    raw = os.environ.get("KEPU_METRICS_PORT", "")
    if not raw:
        return None
    from prometheus_client import start_http_server

    host = os.environ.get("KEPU_BIND_HOST", "127.0.0.1")
    server, _thread = start_http_server(int(raw), addr=host)
    port = int(server.server_port)
    log.info("metrics on http://%s:%d/metrics", host, port)
    return port


@contextmanager
def timed(histogram: metrics.Histogram, **attributes: str) -> Iterator[None]:
    """Record the block's duration in seconds, with ``outcome`` ok or error."""
    start = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        histogram.record(time.perf_counter() - start, {**attributes, "outcome": outcome})


# The consumer group ``python -m kepu_common.dlq replay`` commits as it moves dead letters back
# (``consumer.replay_dlq``'s default): what lies past its offsets is still waiting.
DLQ_REPLAY_GROUP = "kepu-dlq-replay"


class DlqGauge:
    """Measures ``kepu.dlq.size`` for ``topics`` (the ``<svc>.events.dlq`` a relay owns): the
    records past the replay group's committed offset (or the log start), per topic."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self._consumer: Any = None

    def observe(self) -> None:
        """One measurement; a broker that cannot answer just now leaves the last value."""
        from kafka.errors import KafkaError

        try:
            for topic in self.topics:
                size = self._size(topic)
                if size is not None:
                    dlq_size.set(size, {"topic": topic})
        except (KafkaError, OSError) as exc:
            log.debug("dlq size not measured: %s", exc)
            self.close()

    def _size(self, topic: str) -> int | None:
        from kafka import KafkaConsumer, TopicPartition

        from .bus import CLIENT_SETTINGS, REQUEST_TIMEOUT_MS

        if self._consumer is None:
            # Never subscribes, so it joins no group: it only reads the replay group's offsets.
            self._consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=DLQ_REPLAY_GROUP,
                enable_auto_commit=False,
                request_timeout_ms=REQUEST_TIMEOUT_MS + 1000,
                **CLIENT_SETTINGS,
            )
        partitions = self._consumer.partitions_for_topic(topic)
        if not partitions:
            return None
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        end = self._consumer.end_offsets(tps)
        start = self._consumer.beginning_offsets(tps)
        total = 0
        for tp in tps:
            done = self._consumer.committed(tp)
            total += max(0, end[tp] - max(done or 0, start[tp]))
        return total

    def close(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:  # noqa: BLE001 - closing a broken client
                pass
            self._consumer = None
