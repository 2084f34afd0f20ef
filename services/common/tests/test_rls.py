"""Row-level security backs up every tenant filter (SPEC section 1)."""

import pytest
from kepu_common.db import Scope
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

NANYANG = "410000.411300"
WOLONG = "410000.411300.411303"
KAIFENG = "410000.410200"


@pytest.fixture(scope="module", autouse=True)
def notes(db):
    with db.unit_of_work(Scope.system_scope()) as s:
        for path, body in ((NANYANG, "nanyang"), (WOLONG, "wolong"), (KAIFENG, "kaifeng")):
            s.execute(
                text("INSERT INTO notes (tenant_path, body) VALUES (CAST(:p AS ltree), :b)"),
                {"p": path, "b": body},
            )


def test_a_query_without_tenant_filter_sees_nothing_of_a_sibling(db):
    with db.unit_of_work(Scope.tenant(NANYANG)) as s:
        bodies = set(s.execute(text("SELECT body FROM notes")).scalars())
    assert bodies == {"nanyang", "wolong"}


def test_a_county_does_not_see_its_city(db):
    with db.unit_of_work(Scope.tenant(WOLONG)) as s:
        assert set(s.execute(text("SELECT body FROM notes")).scalars()) == {"wolong"}


def test_without_a_scope_nothing_is_visible(db):
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0


def test_a_tenant_cannot_write_into_a_sibling(db):
    with pytest.raises(ProgrammingError, match="row-level security"):
        with db.unit_of_work(Scope.tenant(NANYANG)) as s:
            s.execute(
                text("INSERT INTO notes (tenant_path, body) VALUES (CAST(:p AS ltree), 'x')"),
                {"p": KAIFENG},
            )


def test_a_tenant_cannot_move_its_row_into_a_sibling(db):
    with pytest.raises(ProgrammingError, match="row-level security"):
        with db.unit_of_work(Scope.tenant(NANYANG)) as s:
            s.execute(
                text("UPDATE notes SET tenant_path = CAST(:p AS ltree) WHERE body = 'wolong'"),
                {"p": KAIFENG},
            )


def test_the_app_role_neither_owns_nor_bypasses(db):
    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT r.rolbypassrls, r.rolsuper, t.tableowner = current_user AS owns"
                " FROM pg_roles r, pg_tables t WHERE r.rolname = current_user AND t.tablename = 'notes'"
            )
        ).one()
    assert (row.rolbypassrls, row.rolsuper, row.owns) == (False, False, False)


def test_the_scope_does_not_leak_to_the_next_transaction_on_a_pooled_connection(db):
    with db.unit_of_work(Scope.tenant(KAIFENG)) as s:
        assert s.execute(text("SELECT count(*) FROM notes")).scalar() == 1
    with db.engine.connect() as conn:  # same pool, no scope set
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0
