"""A gRPC server owns its port alone (issue 11 item 5): with SO_REUSEPORT, a second server on a
taken port would bind too and the kernel would split connections between the two silently (a
stale process and its restart, or two services after a port pick went wrong)."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kepu_common import grpcio


def test_a_second_server_on_a_taken_port_fails_loudly_and_the_first_keeps_it():
    first, port = grpcio.make_server(0, host="127.0.0.1")
    first.start()
    try:
        with pytest.raises(grpcio.PortInUse, match=f"127.0.0.1:{port}.*已被别的进程占用"):
            grpcio.make_server(port, host="127.0.0.1")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            answer = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        first.stop(0).wait()
