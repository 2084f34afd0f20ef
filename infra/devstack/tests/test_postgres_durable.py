"""``make run``'s PostgreSQL is durable: a write acknowledged just before the server is killed
is still there after it restarts (issue 11: with fsync off it was gone 5 of 5 times)."""

import tempfile
from pathlib import Path

import psycopg
import pytest
from kepu_devstack.postgres import EmbeddedPostgres


def settings(url: str) -> dict[str, str]:
    with psycopg.connect(url) as c:
        names = ("fsync", "synchronous_commit", "full_page_writes")
        return {n: c.execute(f"SHOW {n}").fetchone()[0] for n in names}


@pytest.mark.integration  # starts its own engine, not through a fixture
def test_an_acknowledged_write_survives_a_killed_server():
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="kepu-durable-")) / "pgdata")
    pg.start()
    try:
        assert settings(pg.superuser_url()) == {
            "fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
        }  # fmt: skip
        with psycopg.connect(pg.superuser_url(), autocommit=True) as c:
            c.execute("CREATE TABLE activities (title text)")
            for n in range(50):
                c.execute("INSERT INTO activities VALUES (%s)", (f"科普讲座 {n}",))
        pg.kill()  # right after the last acknowledgement
        pg.start()
        with psycopg.connect(pg.superuser_url()) as c:
            assert c.execute("SELECT count(*) FROM activities").fetchone()[0] == 50
    finally:
        pg.stop()


def test_the_test_cluster_turns_durability_off_explicitly(embedded_pg):
    assert embedded_pg.durable is False
    assert settings(embedded_pg.superuser_url())["fsync"] == "off"
