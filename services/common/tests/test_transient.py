"""Which failures a consumer waits out (never dead-letters) and which it may dead-letter."""

import psycopg
import pytest
from kepu_common.db import Database, Scope
from kepu_common.transient import is_transient
from kepu_devstack.ports import free_port
from sqlalchemy import text


def test_an_unreachable_database_is_transient():
    db = Database(f"postgresql://kepu_app:kepu@127.0.0.1:{free_port()}/nowhere")
    with pytest.raises(Exception) as caught:
        with db.unit_of_work(Scope.system_scope()) as s:
            s.execute(text("SELECT 1"))
    assert is_transient(caught.value)
    db.dispose()


def test_a_bug_in_a_handler_is_not(embedded_pg):
    with psycopg.connect(embedded_pg.superuser_url()) as c:
        with pytest.raises(psycopg.Error) as caught:
            c.execute("SELECT * FROM no_such_table")
    assert not is_transient(caught.value)
    assert not is_transient(ValueError("bad payload"))
