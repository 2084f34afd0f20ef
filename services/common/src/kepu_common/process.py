"""The process entry point every service shares.

A service's ``__main__`` reads its settings and hands the pieces to :func:`run`, which
gives every service the same contract (the launcher and the Helm charts rely on it)::

    python -m kepu_<svc> migrate | serve | relay | worker

- ``migrate`` upgrades the service's database as the owner role and exits;
- ``serve`` starts the gRPC server built by ``serve()`` and stops it gracefully on
  SIGINT/SIGTERM;
- ``relay`` publishes the outbox on ``relay_topics``;
- ``worker`` runs every consumer from ``consumers(db)`` in its own thread, plus an
  optional ``worker_loop(db, stop)`` in the main thread (a scheduler); it exits 0 at
  once when there is nothing to run.

Any other command prints the usage on stderr and returns 2.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc

from . import telemetry
from .catchup import CatchUp
from .consumer import IdempotentConsumer
from .db import Database
from .health import HealthWatch
from .migrations import upgrade
from .outbox import OutboxRelay
from .transient import backoff, is_transient

log = logging.getLogger("kepu_common.process")

COMMANDS = ("migrate", "serve", "relay", "worker")
SERVER_GRACE_SECONDS = 3.0
THREAD_JOIN_SECONDS = 10.0


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: the one way a service process is asked to stop."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _no_consumers(_db: Database) -> list[IdempotentConsumer]:
    return []


def run(
    name: str,
    argv: Sequence[str],
    *,
    migrations: Path,
    migration_url: str,
    app_role: str,
    database_url: str,
    kafka_bootstrap: str,
    serve: Callable[[], tuple[grpc.Server, int]],
    relay_topics: Sequence[str],
    consumers: Callable[[Database], list[IdempotentConsumer]] = _no_consumers,
    worker_loop: Callable[[Database, threading.Event], None] | None = None,
    default_command: str | None = None,
    read_model: tuple[str, str] | None = None,
) -> int:
    """Run the command in ``argv[1]`` for the service ``name``; returns the exit code.

    ``serve`` builds the gRPC server with its servicers added but not started and returns
    it with its bound port (as :func:`kepu_common.grpcio.make_server` does). ``consumers``
    and ``worker_loop`` receive the app-role :class:`Database` the worker opens on
    ``database_url``; the outbox relay is named ``name``. ``default_command`` is used when
    ``argv`` has no command (otherwise that is a usage error). ``read_model`` is
    ``(consumer group, topic)`` of a read model ``serve`` answers from: the serve process is
    NOT_SERVING until that group has caught up (:class:`~kepu_common.catchup.CatchUp`).
    """
    command = argv[1] if len(argv) > 1 else (default_command or "")
    if command not in COMMANDS:
        sys.stderr.write(f"usage: python -m kepu_{name} {'|'.join(COMMANDS)}\n")
        return 2
    telemetry.setup(name, role=command)
    if command == "migrate":
        upgrade(migrations, migration_url, app_role)
        return 0
    stop = stop_on_signals()
    if command == "serve":
        caught_up = None
        if read_model is not None:
            caught_up = CatchUp(kafka_bootstrap, group=read_model[0], topic=read_model[1])
            caught_up.start(stop)
        _serve(name, serve, stop, caught_up)
        return 0
    db = Database(database_url)
    try:
        if command == "relay":
            OutboxRelay(db, kafka_bootstrap, name=name, topics=list(relay_topics)).run(stop)
            return 0
        return _work(consumers(db), worker_loop, db, stop)
    finally:
        db.dispose()


def _serve(
    name: str,
    serve: Callable[[], tuple[grpc.Server, int]],
    stop: threading.Event,
    caught_up: Callable[[], bool] | None = None,
) -> None:
    server, port = serve()
    # NOT_SERVING while the service's database is unreachable or its read model is filling
    HealthWatch(caught_up=caught_up).start(stop)
    server.start()
    log.info("%s gRPC serving on port %d", name, port)
    try:
        stop.wait()
    finally:
        server.stop(grace=SERVER_GRACE_SECONDS).wait()


def _keep_running(
    loop: Callable[[Database, threading.Event], None], db: Database, stop: threading.Event
) -> None:
    """Run the worker's scheduler loop until ``stop``; when it fails (the database restarting,
    say) wait with backoff and run it again, instead of letting the whole worker die."""
    failures = 0
    while not stop.is_set():
        try:
            loop(db, stop)
            return
        except Exception as exc:  # noqa: BLE001 - retried; the loop is a scheduler
            failures += 1
            if is_transient(exc):
                log.warning("worker loop: %s unavailable (%s); retrying", "database/broker", exc)
            else:
                log.exception("worker loop failed; running it again")
            stop.wait(backoff(failures, cap=30.0))


def _work(
    runners: list[IdempotentConsumer],
    loop: Callable[[Database, threading.Event], None] | None,
    db: Database,
    stop: threading.Event,
) -> int:
    """Run the consumers until ``stop``; a consumer that crashes stops the whole worker
    (exit 1) so the supervisor restarts it, rather than leaving a half-alive process."""
    if not runners and loop is None:
        return 0
    failed: list[str] = []

    def guarded(consumer: IdempotentConsumer) -> None:
        try:
            consumer.run(stop)
        except Exception:
            log.exception("consumer %s crashed; stopping the worker", consumer.name)
            failed.append(consumer.name)
            stop.set()

    threads = [
        threading.Thread(target=guarded, args=(c,), name=c.name, daemon=True) for c in runners
    ]
    for t in threads:
        t.start()
    if loop is not None:
        _keep_running(loop, db, stop)
    else:
        stop.wait()
    for t in threads:
        t.join(timeout=THREAD_JOIN_SECONDS)
    return 1 if failed else 0
