"""What an operator sees of one user action (SPEC section 11, issue 13): one trace from the
gateway to the consumers, the metrics over OTLP and on /metrics, and JSON logs with trace ids.

The whole platform runs with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at an OTLP/HTTP receiver
started here (the collector side of the protocol), on the embedded engines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kepu_devstack.stack import Stack
from otlp_receiver import Receiver, Span

# Log files of third-party servers the launcher runs (they have their own formats).
FOREIGN_LOGS = ("tansu", "postgres", "kafka", "keycloak")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture(scope="module")
def stack(receiver: Receiver) -> Iterator[Stack]:
    var_dir = Path(tempfile.mkdtemp(prefix="kepu-telemetry-"))
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "LOG_FORMAT": "json",
        "KEPU_IDP": "embedded",
        "KEPU_BROKER": "tansu",
    }
    s = Stack(var_dir=var_dir, extra_env=env)
    try:
        s.start()
        yield s
    finally:
        s.stop()
        if not os.environ.get("KEPU_KEEP_STACK"):
            shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def action(stack: Stack) -> httpx.Response:
    """The province records a talent for a county (卧龙区): gateway -> talent -> outbox -> Kafka ->
    the consumers of talent.events (identity's audit feed, assessment's counters)."""
    client = httpx.Client(
        base_url=stack.gateway_url,
        headers={"Authorization": f"Bearer {stack.admin_token()}"},
        timeout=60,
    )
    me = client.get("/api/v1/tenants/me").json()
    cities = client.get(f"/api/v1/tenants/{me['id']}/children").json()
    city = next(c for c in cities if c["code"] == "411300")
    counties = client.get(f"/api/v1/tenants/{city['id']}/children").json()
    county = next(c for c in counties if c["code"] == "411303")
    body = {
        "name": "可观测",
        "gender": "女",
        "phone": "0377－63073372",
        "employer": "卧龙区科协",
        "categories": ["青少年科普"],
        "tenant_id": county["id"],
    }
    deadline = time.monotonic() + 30
    while True:  # the talent service learns the tree from identity.events
        r = client.post("/api/v1/talents", json=body, headers={"X-Request-Id": "telemetry-1"})
        # 403/404 until the read model has the county; anything else is the answer.
        if r.status_code not in (403, 404) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 201, r.text
    return r


def _wait(found: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError(f"not received within {timeout:.0f} s: {what}")


def _tree(spans: list[Span]) -> str:
    by_parent: dict[str, list[Span]] = {}
    ids = {s.span_id for s in spans}
    for s in spans:
        by_parent.setdefault(s.parent_id if s.parent_id in ids else "", []).append(s)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for s in by_parent.get(parent, []):
            lines.append(f"{'  ' * depth}{s.service} {s.kind} {s.name}")
            walk(s.span_id, depth + 1)

    walk("", 0)
    return "\n".join(lines)


def test_one_action_is_one_trace_from_the_gateway_to_the_consumers(
    receiver: Receiver, action: httpx.Response
) -> None:
    trace_id = action.headers["traceparent"].split("-")[1]

    def spans() -> list[Span]:
        return receiver.received.trace(trace_id)

    def consumed_and_whole() -> bool:
        got = spans()
        ids = {s.span_id for s in got}
        orphans = [s for s in got if s.parent_id and s.parent_id not in ids]
        return any(s.kind == "CONSUMER" for s in got) and not orphans

    _wait(consumed_and_whole, "the consumer spans of the talent event, every parent exported")
    got = spans()
    print("\n" + _tree(got))  # noqa: T201 - the span tree an operator sees (pytest -s)
    server = next(s for s in got if s.service == "kepu-gateway" and s.kind == "SERVER")
    assert server.attributes["http.route"] == "/api/v1/talents"
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["http.response.status_code"] == 201
    assert server.attributes["kepu.request.id"] == "telemetry-1"
    tenant = server.attributes["kepu.tenant.id"]
    assert tenant and server.attributes["user.id"]
    client = next(s for s in got if s.service == "kepu-gateway" and s.kind == "CLIENT")
    assert client.attributes["rpc.system"] == "grpc"
    rpc = next(s for s in got if s.service == "kepu-talent" and s.kind == "SERVER")
    assert rpc.parent_id == client.span_id
    assert rpc.attributes["kepu.tenant.id"] == tenant
    assert rpc.attributes["kepu.request.id"] == "telemetry-1"
    queries = [s for s in got if s.service == "kepu-talent" and s.kind == "CLIENT"]
    assert any(s.attributes.get("db.system.name") == "postgresql" for s in queries)
    sent = next(s for s in got if s.kind == "PRODUCER")
    assert sent.name == "send talent.events" and sent.attributes["messaging.system"] == "kafka"
    process = [s for s in got if s.kind == "CONSUMER"]
    assert all(s.parent_id == sent.span_id for s in process)
    assert all(s.attributes["messaging.destination.name"] == "talent.events" for s in process)
    assert any(s.attributes.get("kepu.tenant.id") for s in process)


METRICS = {
    "http.server.request.duration": "kepu-gateway",
    "rpc.client.call.duration": "kepu-gateway",
    "rpc.server.call.duration": "kepu-talent",
    "db.client.connections.usage": "kepu-talent",
    "kepu.outbox.backlog": "kepu-talent",
    "kepu.outbox.oldest_age": "kepu-talent",
    "kepu.relay.published": "kepu-talent",
    "kepu.dlq.size": "kepu-talent",
    "kepu.consumer.lag": "kepu-identity",
    "kepu.consumer.events": "kepu-identity",
}


def test_the_metrics_arrive_over_otlp_and_on_metrics_endpoints(
    stack: Stack, receiver: Receiver, action: httpx.Response
) -> None:
    def arrived() -> bool:
        got = receiver.received.metrics
        return all(service in got.get(name, set()) for name, service in METRICS.items())

    _wait(arrived, f"metrics {sorted(METRICS)}")
    # Whichever of the gateway's worker processes answers the scrape, the page holds every
    # worker's figures (the request above may have been served by another one), by worker.
    gateway = httpx.get(f"{stack.gateway_url}/metrics", timeout=10)
    assert gateway.status_code == 200
    workers = set(re.findall(r'process_cpu_seconds_total\{worker="(\d+)"\}', gateway.text))
    assert len(workers) == 2, workers  # GATEWAY_WORKERS defaults to 2
    assert "http_server_request_duration_seconds_bucket{" in gateway.text
    assert 'http_route="/api/v1/talents"' in gateway.text
    assert "rpc_client_call_duration_seconds_count" in gateway.text
    relay = httpx.get(f"http://127.0.0.1:{stack.metrics_ports['talent-relay']}/metrics")
    assert "kepu_outbox_backlog{" in relay.text and "kepu_outbox_oldest_age_seconds{" in relay.text
    assert "kepu_relay_published_total{" in relay.text and "kepu_dlq_size{" in relay.text
    worker = httpx.get(f"http://127.0.0.1:{stack.metrics_ports['identity-worker']}/metrics")
    assert "kepu_consumer_lag{" in worker.text and "kepu_consumer_events_total{" in worker.text
    # Not for the Internet: through the ingress there is nothing to see.
    proxied = httpx.get(
        f"{stack.gateway_url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
    )
    assert proxied.status_code == 404


def test_every_log_line_of_every_process_is_json_with_the_trace_id(
    stack: Stack, receiver: Receiver, action: httpx.Response
) -> None:
    trace_id = action.headers["traceparent"].split("-")[1]
    logs = [p for p in (stack.var_dir / "logs").glob("*.log") if p.stem not in FOREIGN_LOGS]
    assert len(logs) >= 16  # migrate and seed, serve/relay/worker of five services, gateway
    bad: list[str] = []
    for path in logs:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                bad.append(f"{path.name}: {line[:200]}")
                continue
            missing = {"timestamp", "level", "logger", "event", "service"} - entry.keys()
            if missing:
                bad.append(f"{path.name}: no {sorted(missing)} in {line[:200]}")
    assert not bad, "\n".join(bad[:20])
    access = [
        json.loads(line)
        for line in (stack.var_dir / "logs" / "gateway.log").read_text().splitlines()
        if '"kepu.gateway.access"' in line and "telemetry-1" in line
    ]
    created = next(a for a in access if a["status"] == 201)
    assert created["route"] == "/api/v1/talents" and created["method"] == "POST"
    assert created["trace_id"] == trace_id and created["request_id"] == "telemetry-1"
    assert created["tenant_id"] and created["duration_ms"] > 0

    # The same line over OTLP, tied to the trace.
    def exported() -> bool:
        with receiver.received.lock:
            return any(
                service == "kepu-gateway" and tid == trace_id and "kepu.gateway.access" in body
                for service, tid, body in receiver.received.logs
            )

    _wait(exported, "the access log record over OTLP")
