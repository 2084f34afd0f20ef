"""A relay or worker started while Kafka cannot be reached says so once, in one line naming Kafka
and ``KAFKA_BOOTSTRAP_SERVERS`` (no traceback), keeps retrying instead of dying, and carries on by
itself once a broker answers at that address.
"""

import subprocess
import sys
from pathlib import Path

from conftest import MIGRATIONS
from event_load import create_applied_by, effect_counts, wait_for, write_note
from kepu_common.db import Database
from kepu_devstack.broker import EmbeddedBroker
from kepu_devstack.ports import free_port

WORKER = Path(__file__).with_name("event_load.py")
TOPIC = "late.events"
UNREACHABLE = "无法连接 Kafka"
BACK = "已重新连接 Kafka"


def test_relay_and_worker_name_kafka_and_the_setting_once_then_carry_on_when_it_answers(
    service_database, tmp_path
):
    owner_url, app_url = service_database("common_unreachable", MIGRATIONS)
    create_applied_by(owner_url)
    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there yet
    logs = {cmd: tmp_path / f"{cmd}.log" for cmd in ("relay", "worker")}
    procs = {
        cmd: subprocess.Popen(
            [sys.executable, str(WORKER), cmd, app_url, bootstrap, TOPIC, "late-effects", cmd],
            stdout=open(log, "wb"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for cmd, log in logs.items()
    }

    def said(cmd: str, text: str) -> list[str]:
        return [line for line in logs[cmd].read_text().splitlines() if text in line]

    db = Database(app_url)
    try:
        assert wait_for(lambda: all(said(cmd, UNREACHABLE) for cmd in procs), timeout=120), {
            cmd: logs[cmd].read_text()[-2000:] for cmd in procs
        }
        for cmd, proc in procs.items():
            (line,) = said(cmd, UNREACHABLE)  # once, however many retries
            assert f"KAFKA_BOOTSTRAP_SERVERS={bootstrap}" in line
            assert "Traceback" not in logs[cmd].read_text()
            assert proc.poll() is None, f"{cmd} must keep retrying, not exit"

        broker = EmbeddedBroker(port=int(bootstrap.rsplit(":", 1)[1]))
        broker.start()
        try:
            assert wait_for(lambda: all(said(cmd, BACK) for cmd in procs), timeout=120), {
                cmd: logs[cmd].read_text()[-2000:] for cmd in procs
            }
            event = write_note(db, TOPIC, 0)
            assert wait_for(lambda: effect_counts(db, [event]) == {event: 1}, timeout=120), {
                cmd: logs[cmd].read_text()[-3000:] for cmd in procs
            }
        finally:
            broker.stop()
    finally:
        db.dispose()
        for proc in procs.values():
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
