"""A serve process's gRPC health goes NOT_SERVING while its PostgreSQL is stopped and SERVING
again once it is back (issue 13: readiness stayed healthy while the database was down)."""

import tempfile
import threading
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kepu_common import grpcio
from kepu_common.db import Database
from kepu_common.health import HealthWatch
from kepu_devstack.postgres import EmbeddedPostgres


def status_of(target: str, service: str = "") -> int:
    with grpc.insecure_channel(target) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def eventually(target: str, wanted: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if status_of(target) == wanted:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.integration  # starts its own PostgreSQL
def test_health_follows_the_database():
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="kepu-health-")) / "pgdata", durable=False)
    pg.start()
    db = Database(pg.superuser_url())
    server, port = grpcio.make_server(0)
    stop = threading.Event()
    HealthWatch(check=db.reachable, fresh=2.0).start(stop)
    server.start()
    target = f"127.0.0.1:{port}"
    try:
        assert eventually(target, health_pb2.HealthCheckResponse.SERVING)
        pg.kill()
        assert eventually(target, health_pb2.HealthCheckResponse.NOT_SERVING)
        # liveness stays cheap and true: the pod leaves rotation, it is not restarted
        assert status_of(target, grpcio.LIVENESS_SERVICE) == health_pb2.HealthCheckResponse.SERVING
        pg.start()
        assert eventually(target, health_pb2.HealthCheckResponse.SERVING)
        with db.engine.connect() as c:  # the pool replaced its dead connections (pre-ping)
            assert c.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        stop.set()
        server.stop(0)
        grpcio.HEALTH.clear()
        db.dispose()
        pg.stop()


def test_not_ready_until_the_read_model_has_caught_up(kafka_broker):
    """A service answering from the tenant directory is not ready while identity's events are
    still being applied (a city would get a 403 for a tenant it does not know yet)."""
    import uuid

    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.structs import OffsetAndMetadata
    from kepu_common.catchup import CatchUp

    topic, group = f"catchup-{uuid.uuid4().hex[:6]}", f"svc-{uuid.uuid4().hex[:6]}.tenants"
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    for i in range(3):
        producer.send(topic, value=f"tenant {i}".encode(), partition=0).get(30)
    producer.close()

    server, port = grpcio.make_server(0)
    stop = threading.Event()
    caught_up = CatchUp(kafka_broker.bootstrap, group=group, topic=topic)
    caught_up.start(stop)
    HealthWatch(check=lambda: True, caught_up=caught_up).start(stop)
    server.start()
    target = f"127.0.0.1:{port}"
    try:
        time.sleep(2)  # events waiting, nothing applied: not ready, however long it takes
        assert status_of(target) == health_pb2.HealthCheckResponse.NOT_SERVING
        # the worker applies two of three: still not ready
        consumer = KafkaConsumer(
            bootstrap_servers=kafka_broker.bootstrap, group_id=group, enable_auto_commit=False
        )
        tp = TopicPartition(topic, 0)
        consumer.commit({tp: OffsetAndMetadata(2, "", -1)})
        time.sleep(2)
        assert status_of(target) == health_pb2.HealthCheckResponse.NOT_SERVING
        consumer.commit({tp: OffsetAndMetadata(3, "", -1)})
        assert eventually(target, health_pb2.HealthCheckResponse.SERVING)
        consumer.close()
    finally:
        stop.set()
        server.stop(0)
        grpcio.HEALTH.clear()
