"""The shared ``python -m kepu_<svc>`` entry point: dispatch, exit codes, graceful stop."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kepu_common import grpcio, process

MIGRATIONS = Path(__file__).parent / "migrations"


@pytest.fixture
def restore_signals():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _run(argv: list[str], **overrides) -> int:
    def no_server() -> tuple[grpc.Server, int]:
        raise AssertionError("serve must not be built for this command")

    kwargs = {
        "migrations": MIGRATIONS,
        "migration_url": "postgresql://nobody@127.0.0.1:1/none",
        "app_role": "kepu_app",
        "database_url": "postgresql://nobody@127.0.0.1:1/none",
        "kafka_bootstrap": "127.0.0.1:1",
        "serve": no_server,
        "relay_topics": ["demo.events"],
    }
    kwargs.update(overrides)
    return process.run("demo", argv, **kwargs)


def test_unknown_or_missing_command_prints_usage_and_exits_2(capsys):
    assert _run(["prog", "serve-forever"]) == 2
    assert _run(["prog"]) == 2
    assert "usage: python -m kepu_demo migrate|serve|relay|worker" in capsys.readouterr().err


def test_worker_without_consumers_exits_0_at_once(restore_signals):
    assert _run(["prog", "worker"]) == 0


def test_serve_is_the_default_when_asked_and_stops_gracefully_on_sigterm(restore_signals):
    built: list[int] = []

    def serve() -> tuple[grpc.Server, int]:
        server, port = grpcio.make_server(0, host="127.0.0.1")
        built.append(port)
        return server, port

    def probe_then_terminate() -> None:
        while not built:
            threading.Event().wait(0.05)
        target = f"127.0.0.1:{built[0]}"
        grpcio.wait_ready(target, timeout=10)
        with grpc.insecure_channel(target) as ch:
            reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
            served.append(reply.status)
        os.kill(os.getpid(), signal.SIGTERM)

    served: list[int] = []
    prober = threading.Thread(target=probe_then_terminate, daemon=True)
    prober.start()
    assert _run(["prog"], serve=serve, default_command="serve") == 0
    prober.join(timeout=5)
    assert served == [health_pb2.HealthCheckResponse.SERVING]
    # After the graceful stop nothing listens on the port any more.
    with grpc.insecure_channel(f"127.0.0.1:{built[0]}") as ch, pytest.raises(grpc.RpcError):
        health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1)
