"""SQLAlchemy Core pieces every service's ``models.py`` shares.

``Ltree`` is PostgreSQL's ``ltree`` (every tenant-scoped row's ``tenant_path``);
``tenants_read_model`` the tenant tree a service keeps from identity's events;
``outbox_tables`` declares the tables ``kepu_common.outbox.ddl`` creates in each service's
first migration, so a service's ``metadata`` describes its whole schema. ``drift`` compares a
migrated database with a ``MetaData`` (the test that keeps ``models.py`` true to migrations).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import UserDefinedType


class Ltree(UserDefinedType[str]):
    """PostgreSQL ``ltree``; parameters are cast explicitly (psycopg sends text)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "LTREE"

    def bind_expression(self, bindvalue: Any) -> Any:
        return func.text2ltree(bindvalue)

    def column_expression(self, col: Any) -> Any:
        return func.ltree2text(col)


def tenants_read_model(metadata: MetaData, *extra: Column[Any]) -> Table:
    """``tenants``: a service's read model of identity's tenant tree (``kepu_common.directory``
    keeps it from identity.events), with the service's ``extra`` columns."""
    return Table(
        "tenants",
        metadata,
        Column("id", UUID(as_uuid=False), primary_key=True),
        Column("code", Text, nullable=False),
        Column("name", Text, nullable=False),
        Column("kind", Text, nullable=False),
        Column("parent_id", UUID(as_uuid=False)),
        Column("tenant_path", Ltree, nullable=False),
        Column("status", Text, nullable=False, server_default="active"),
        *extra,
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def outbox_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """``outbox``, ``processed_events`` and ``relay_state`` (see ``kepu_common.outbox.ddl``)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True),
        Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
        Column("topic", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("tenant_path", Ltree, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
    )
    processed_events = Table(
        "processed_events",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("event_id", UUID(as_uuid=False), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    relay_state = Table(
        "relay_state",
        metadata,
        Column("name", Text, primary_key=True),
        Column("broker_epoch", Text, nullable=False),
    )
    return outbox, processed_events, relay_state


# What ``drift`` reports: tables and columns that exist on one side only, and columns whose
# type or nullability differ. Left out on purpose: indexes, unique/foreign-key constraints
# (partial and expression indexes are in the migrations only; Alembic reflects them poorly)
# and server defaults (Alembic compares their rendered SQL text, e.g. ``''::text`` against
# ``''``, and reports differences that are none).
_TABLE_AND_COLUMN_OPS = {
    "add_table",
    "remove_table",
    "add_column",
    "remove_column",
    "modify_type",
    "modify_nullable",
}


def drift(connection: Any, metadata: MetaData) -> list[str]:
    """Differences in tables and columns between the database and ``metadata`` (none: ``[]``).

    One line per difference: ``add_table x`` (in ``metadata`` only), ``remove_column x.y``
    (in the database only), ``modify_type x.y: TEXT -> INTEGER`` (database -> ``metadata``)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.dialects.postgresql.base import ischema_names

    # reflect ltree columns as Ltree (unknown to SQLAlchemy, they would reflect as NullType,
    # which Alembic does not compare with anything)
    ischema_names.setdefault("ltree", Ltree)
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    found: list[str] = []
    for diff in compare_metadata(context, metadata):
        # one op is a tuple ("add_table", table); column modifications come as a list of them
        for op in diff if isinstance(diff, list) else [diff]:
            if op[0] in ("add_table", "remove_table"):
                found.append(f"{op[0]} {op[1].name}")
            elif op[0] in ("add_column", "remove_column"):
                found.append(f"{op[0]} {op[2]}.{op[3].name}")
            elif op[0] in _TABLE_AND_COLUMN_OPS:  # (name, schema, table, column, info, old, new)
                found.append(f"{op[0]} {op[2]}.{op[3]}: {op[5]} -> {op[6]}")
    return sorted(found)
