"""Two worker processes of one consumer group share a topic's partitions on Apache Kafka; one is
killed with SIGKILL mid-stream. After the rebalance the survivor owns every partition, and every
event's effect is applied exactly once (the dead worker's applied-but-uncommitted events come
again and are skipped by ``processed_events``).
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import MIGRATIONS
from event_load import (
    Writer,
    applied_by_worker,
    create_applied_by,
    effect_counts,
    published,
    wait_for,
)
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from kepu_common.db import Database
from kepu_common.outbox import OutboxRelay

TOPIC = "shared.events"  # 6 partitions, like every event topic
GROUP = "shared-effects"
WRITE_INTERVAL = 0.005
WORKER = Path(__file__).with_name("event_load.py")


@pytest.fixture(scope="module")
def group_db(service_database):
    owner_url, app_url = service_database("common_group_rebalance", MIGRATIONS)
    create_applied_by(owner_url)
    database = Database(app_url)
    yield database, app_url
    database.dispose()


def start_worker(name: str, app_url: str, bootstrap: str, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        [sys.executable, str(WORKER), "worker", app_url, bootstrap, TOPIC, GROUP, name],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def assignment(bootstrap: str) -> list[int]:
    """How many partitions each member of the group holds, sorted (``[]`` while rebalancing)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        group = admin.describe_groups([GROUP])[GROUP]
    except KafkaError:  # no coordinator yet (the offsets topic is being created)
        return []
    finally:
        admin.close()
    if group["group_state"] != "Stable":
        return []
    return sorted(
        sum(len(a["partitions"]) for a in m["member_assignment"]["assigned_partitions"])
        for m in group["members"]
    )


def test_a_worker_killed_mid_stream_hands_its_partitions_over_and_nothing_applies_twice(
    group_db, real_kafka, tmp_path
):
    db, app_url = group_db
    relay = OutboxRelay(
        db, real_kafka.bootstrap, name="shared-relay", topics=[TOPIC], epoch_check_seconds=1
    )
    relay.check_epoch()  # creates the topic before the workers subscribe
    workers = {
        name: start_worker(name, app_url, real_kafka.bootstrap, tmp_path) for name in ("a", "b")
    }
    writer = Writer(db, TOPIC, WRITE_INTERVAL)
    stop = threading.Event()
    threads = [threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True)]
    for t in threads:
        t.start()
    writer.start()
    try:
        # Both processes hold half of the partitions and are applying effects.
        shared = wait_for(
            lambda: (
                assignment(real_kafka.bootstrap) == [3, 3]
                and all(applied_by_worker(db).get(w, 0) >= 50 for w in workers)
            ),
            timeout=120,
        )
        assert shared, (
            f"workers did not share the stream: {assignment(real_kafka.bootstrap)},"
            f" {applied_by_worker(db)}\n" + logs(tmp_path)
        )
        before_kill = applied_by_worker(db)
        os.kill(workers["a"].pid, signal.SIGKILL)
        workers["a"].wait()
        killed_at = time.monotonic()
        # The stream goes on while the group notices the death (session timeout) and rebalances.
        assert wait_for(lambda: assignment(real_kafka.bootstrap) == [6], timeout=120)
        handed_over_at = time.monotonic()
        time.sleep(1)
        ids = writer.stop()

        ok = wait_for(lambda: len(effect_counts(db, ids)) == len(ids), timeout=180)
        assert ok, (
            f"{len(ids) - len(effect_counts(db, ids))} of {len(ids)} events have no effect\n"
            + logs(tmp_path)
        )
        recovered_at = time.monotonic()
        time.sleep(3)  # let any late redelivery arrive
        counts = effect_counts(db, ids)
        doubles = {e: c for e, c in counts.items() if c != 1}
        by_worker = applied_by_worker(db)
        print(  # noqa: T201 - the figures the closing note quotes (pytest -s)
            f"\nrebalance: accepted {len(ids)} events, published {published(db, ids)},"
            f" effects {len(counts)}, applied twice {len(doubles)}; applied by a (killed)"
            f" {by_worker.get('a', 0)}, by b {by_worker.get('b', 0)} (a {before_kill.get('a')},"
            f" b {before_kill.get('b')} when a was killed); b owned all 6 partitions"
            f" {handed_over_at - killed_at:.1f} s after the kill, every effect applied"
            f" {recovered_at - killed_at:.1f} s after it"
        )
        assert len(counts) == len(ids)  # no loss
        assert doubles == {}  # no double
        assert sum(by_worker.values()) == len(ids)  # one application per event, by either worker
        assert workers["b"].poll() is None, "the survivor must still run\n" + logs(tmp_path)
    finally:
        writer.stop()
        stop.set()
        for t in threads:
            t.join(30)
        for proc in workers.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def logs(log_dir: Path) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in log_dir.glob("*.log")
    )
