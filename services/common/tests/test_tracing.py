"""One user action is one trace: caller -> gRPC server -> outbox -> Kafka -> consumer (SPEC 11)."""

import threading
import time

import grpc
import pytest
from kepu.events.v1 import envelope_pb2
from kepu_common import grpcio
from kepu_common.consumer import IdempotentConsumer
from kepu_common.db import Scope
from kepu_common.outbox import OutboxRelay, record_event
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

PATH = "410000.411000"
TOPIC = "traced.events"


@pytest.fixture(scope="module")
def spans():
    exporter = InMemorySpanExporter()
    # The global provider can be set once per process; this module's fixtures are set up
    # again for each broker of ``any_broker``, so the second time joins the first provider.
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_a_user_action_is_one_trace_from_the_gateway_to_the_consumer(broker_db, any_broker, spans):

    def write(request: bytes, context) -> bytes:
        with broker_db.unit_of_work(Scope.tenant(PATH)) as s:
            record_event(
                s,
                topic=TOPIC,
                event_type="traced",
                tenant_id="t",
                tenant_path=PATH,
                actor="a",
                payload=envelope_pb2.AuditRecorded(action="traced"),
            )
        return b"ok"

    server, port = grpcio.make_server(0)
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "kepu.test.Traced", {"Write": grpc.unary_unary_rpc_method_handler(write)}
            )
        ]
    )
    server.start()
    try:
        channel = grpcio.channel(f"127.0.0.1:{port}")
        call = channel.unary_unary("/kepu.test.Traced/Write")
        with trace.get_tracer("test").start_as_current_span("POST /api/v1/something") as root:
            assert call(b"", timeout=10, metadata=grpcio.metadata("token")) == b"ok"
        trace_id = root.get_span_context().trace_id
    finally:
        server.stop(0)

    server_spans = [s for s in spans.get_finished_spans() if s.name == "/kepu.test.Traced/Write"]
    assert server_spans and server_spans[0].context.trace_id == trace_id
    assert server_spans[0].kind == trace.SpanKind.SERVER
    client_spans = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.CLIENT]
    assert any(s.context.span_id == server_spans[0].parent.span_id for s in client_spans)
    with broker_db.unit_of_work(Scope.system_scope()) as s:
        headers = s.execute(
            text("SELECT headers FROM outbox WHERE topic = :t"), {"t": TOPIC}
        ).scalar_one()
    assert format(trace_id, "032x") in headers["traceparent"]

    relay = OutboxRelay(broker_db, any_broker.bootstrap, name="traced-relay", topics=[TOPIC])
    relay.check_epoch()
    assert relay.publish_batch() == 1
    stop = threading.Event()
    consumer = IdempotentConsumer(
        broker_db,
        any_broker.bootstrap,
        name="traced-consumer",
        topics=[TOPIC],
        handler=lambda session, env: None,
    )
    t = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and consumer.applied == 0:
            time.sleep(0.2)
    finally:
        stop.set()
        t.join(30)
    finished = spans.get_finished_spans()
    sent = [s for s in finished if s.name == f"send {TOPIC}"]
    assert sent and sent[0].context.trace_id == trace_id
    assert sent[0].kind == trace.SpanKind.PRODUCER
    assert sent[0].attributes["messaging.destination.name"] == TOPIC
    assert sent[0].attributes["kepu.tenant.id"] == "t"
    consumed = [s for s in finished if s.name == f"process {TOPIC}"]
    assert consumed and consumed[0].context.trace_id == trace_id
    assert consumed[0].kind == trace.SpanKind.CONSUMER
    assert consumed[0].parent.span_id == sent[0].context.span_id  # continued from the producer
    assert consumed[0].attributes["messaging.consumer.group.name"] == "traced-consumer"
    assert consumed[0].attributes["kepu.tenant.id"] == "t"
