"""Apache Kafka (KRaft, one combined broker + controller) as a local process, log kept on disk.

The production broker, for the tests that must see what Tansu cannot show (a log that survives
a crash, real consumer-group rebalances) and for ``KEPU_BROKER=kafka make run``. The runtime
class path comes from :func:`kepu_devstack.engines.kafka_libs`. Layout of ``data_dir``::

    server.properties   written on every start (ports may change between runs)
    log4j2.properties   INFO to stdout, which goes to ``log_path``
    log/                the Kafka log (formatted once; a restart keeps every message)

The event topics are created at start with the chart's settings
(:func:`kepu_common.bus.event_topics`). Same ``start``/``stop``/``restart``/``bootstrap``
interface as :class:`~kepu_devstack.broker.EmbeddedBroker`, plus ``kill`` for fault tests.

Like every child of the launcher, Kafka gets SIGTERM when the *thread* that started it ends
(``PR_SET_PDEATHSIG``): start it from the main thread, or from one that outlives it.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import engines
from .ports import die_with_parent, free_port

if TYPE_CHECKING:
    from kafka import KafkaAdminClient

NODE_ID = 1
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
# A small heap and the quick-starting JIT tier: the tests run Kafka next to PostgreSQL and
# a dozen Python processes on two cores.
JVM_OPTIONS = ("-Xmx512m", "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")

LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
# the full config dump at every start and the per-request chatter drown the log
logger.config.name = org.apache.kafka.common.config
logger.config.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
"""


class Broker(Protocol):
    """What callers need from a local broker (Tansu or Kafka)."""

    @property
    def bootstrap(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def kill(self) -> None: ...

    def restart(self) -> None: ...


class KafkaUnavailable(RuntimeError):
    """Kafka did not start or did not become ready (the message names the log file)."""


def server_properties(*, port: int, controller_port: int, log_dir: Path) -> str:
    """One node that is both broker and controller, single-replica internal topics.

    The controller quorum is static (``controller.quorum.voters``): nothing about the ports is
    stored in the log, so a later run may use other free ports on the same data.
    """
    settings = {
        "process.roles": "broker,controller",
        "node.id": NODE_ID,
        "controller.quorum.voters": f"{NODE_ID}@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 3,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 3,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        # A consumer group forms at once instead of waiting 3 s for more members.
        "group.initial.rebalance.delay.ms": 0,
        # After a SIGKILL the controller rejects the restarted broker until the dead one's
        # session expires (DUPLICATE_BROKER_REGISTRATION): keep that wait short (default 9 s).
        "broker.heartbeat.interval.ms": 500,
        "broker.session.timeout.ms": 2000,
        # Two cores: fewer threads than the defaults sized for a server.
        "num.network.threads": 2,
        "num.io.threads": 2,
        "background.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "group.coordinator.threads": 1,
        "log.cleaner.threads": 1,
    }
    return "".join(f"{k}={v}\n" for k, v in settings.items())


class KafkaServer:
    """Start (formatting the storage on first use), stop, kill and restart one Kafka node."""

    def __init__(
        self, data_dir: Path, port: int | None = None, log_path: Path | None = None
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.controller_port = free_port()
        self.log_path = log_path or self.data_dir / "kafka.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_in: float | None = None  # seconds the last start() took

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    def _java(self, *args: str) -> list[str]:
        libs = engines.kafka_libs()
        return [
            engines.java(),
            *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp",
            f"{libs}/*",
            *args,
        ]

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "log4j2.properties").write_text(LOG4J2, encoding="utf-8")
        config = self.data_dir / "server.properties"
        config.write_text(
            server_properties(
                port=self.port, controller_port=self.controller_port, log_dir=self.log_dir
            ),
            encoding="utf-8",
        )
        return config

    def _format_once(self, config: Path) -> None:
        if (self.log_dir / "meta.properties").exists():
            return
        cluster_id = _cluster_id()
        with open(self.log_path, "ab") as out:
            r = subprocess.run(
                self._java(
                    "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)
                ),
                stdout=out,
                stderr=out,
                check=False,
            )
        if r.returncode != 0:
            raise KafkaUnavailable(
                f"Apache Kafka 存储格式化失败（{self.log_dir}），日志：{self.log_path}\n"
                + self._log_tail()
            )

    def start(self) -> None:
        """Start Kafka (formatting its storage the first time) and return once it serves
        metadata and the event topics exist; raises :class:`KafkaUnavailable` otherwise."""
        if self.proc is not None and self.proc.poll() is None:
            return
        t0 = time.monotonic()
        config = self._write_config()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._format_once(config)
        out = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        try:
            self.proc = subprocess.Popen(
                self._java("kafka.Kafka", str(config)),
                stdout=out,
                stderr=out,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        finally:
            out.close()  # the child holds its own descriptor
        try:
            self._wait_ready()
            from kepu_common.bus import ensure_topics, event_topics

            ensure_topics(self.bootstrap, [t.name for t in event_topics()])
        except BaseException:
            self.kill()
            raise
        self.started_in = time.monotonic() - t0

    def _wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until the broker answers metadata requests, is unfenced and every partition it
        already holds has a leader (after a crash it recovers its log first)."""
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise KafkaUnavailable(
                    f"Apache Kafka 启动后退出（exit {self.proc.returncode}），日志：{self.log_path}\n"
                    + self._log_tail()
                )
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap,
                    bootstrap_timeout_ms=2000,
                    request_timeout_ms=5000,
                    reconnect_backoff_max_ms=200,
                )
            except KafkaError as exc:
                last = repr(exc)
                time.sleep(0.2)
                continue
            try:
                brokers = admin.describe_cluster()["brokers"]
                if not brokers or any(b.get("is_fenced") for b in brokers):
                    last = f"broker not registered yet: {brokers}"
                else:
                    pending = _leaderless(admin)
                    if not pending:
                        return
                    last = f"partitions without a leader: {pending[:5]}"
            except KafkaError as exc:
                last = repr(exc)
            finally:
                admin.close()
            time.sleep(0.2)
        raise KafkaUnavailable(
            f"Apache Kafka 在 {timeout:.0f} 秒内未就绪（{self.bootstrap}：{last}），"
            f"日志：{self.log_path}\n" + self._log_tail()
        )

    def _log_tail(self, chars: int = 2000) -> str:
        """The log's first ERROR (the cause) and last one (the outcome), each with the exception
        line under it; else the log's tail."""
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        errors = []
        for i, line in enumerate(lines):
            if "] ERROR " in line:
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                errors.append(line if nxt.startswith(("[", "\t")) else f"{line}\n{nxt}")
        if not errors:
            return "\n".join(lines)[-chars:]
        return "\n".join(dict.fromkeys([errors[0], errors[-1]]))

    def stop(self) -> None:
        """SIGTERM (a controlled shutdown), then SIGKILL after ``STOP_TIMEOUT`` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL, no shutdown at all: a crashed broker (fault tests)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same ports with the same log."""
        self.stop()
        self.start()


def _cluster_id() -> str:
    """A new cluster id as ``StorageTool random-uuid`` makes one (URL-safe base64 of a random
    UUID, never starting with '-'), without starting a JVM for it."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _leaderless(admin: KafkaAdminClient) -> list[str]:
    pending = []
    for topic in admin.describe_topics():
        for p in topic.get("partitions") or []:
            if p.get("error_code", 0) != 0 or p.get("leader_id", -1) < 0:
                pending.append(f"{topic['name']}-{p.get('partition_index')}")
    return pending
