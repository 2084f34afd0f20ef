"""Engines and the unit of work.

The edge (a gRPC call or a consumed event) owns the transaction: it opens one
unit of work, which begins a transaction and sets the row-level-security scope
with ``set_config(..., true)`` (transaction-local, so a pooled connection never
carries one caller's tenant to the next). Services only add and flush.

A :class:`Database`'s connections are in autocommit at the driver and each transaction's
``BEGIN`` is sent by us: a unit of work sends ``BEGIN; SELECT set_config(...), set_config(...)``
as one simple query, so opening it costs one round trip (it was three: the pool's ping, the
driver's ``BEGIN``, the ``set_config``). That first round trip is the ping too: when it finds the
connection dead (a database restart), the unit of work starts again once on a fresh one.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from psycopg import sql
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from . import telemetry
from .tenancy import validate_path


def make_engine(url: str, *, pool_size: int = 5, our_begin: bool = False) -> Engine:
    """Create a SQLAlchemy engine for psycopg 3 (``postgresql+psycopg://``).

    ``our_begin``: the driver autocommits and every transaction's ``BEGIN`` is sent by us (a
    unit of work sends it with its scope); no ping on checkout, the first round trip is it.
    Otherwise, pre-ping: after a database restart every pooled connection is dead; the ping (a
    loopback round trip per checkout) replaces it instead of failing the next request."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    options = {"isolation_level": "AUTOCOMMIT"} if our_begin else {"pool_pre_ping": True}
    engine = create_engine(url, pool_size=pool_size, max_overflow=10, pool_recycle=600, **options)
    if our_begin:
        event.listen(engine, "begin", _begin)
    telemetry.instrument_engine(engine)
    return engine


# A connection whose transaction a unit of work begins itself (with its scope).
_SCOPED = "kepu_scoped_begin"


def _begin(conn: Connection) -> None:
    """Every transaction on a ``our_begin`` engine but a unit of work's: a plain ``BEGIN``."""
    if not conn.get_execution_options().get(_SCOPED):
        conn.exec_driver_sql("BEGIN")


@dataclass(frozen=True)
class Scope:
    """What rows a transaction may see: a tenant subtree, or the system scope.

    The system scope is for mechanisms that act across tenants on behalf of no
    user (sign-in lookup, the outbox relay, consumers); it is never derived from
    a token.
    """

    tenant_path: str | None
    system: bool = False

    @classmethod
    def tenant(cls, path: str) -> Scope:
        return cls(tenant_path=validate_path(path))

    @classmethod
    def system_scope(cls) -> Scope:
        return cls(tenant_path=None, system=True)


class Database:
    """A service's database: an engine plus units of work bound to a scope."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.engine = make_engine(url, pool_size=pool_size, our_begin=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        _open.add(self)

    def reachable(self) -> bool:
        """True when a query gets through now (the readiness check of ``kepu_common.health``)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False

    @contextmanager
    def unit_of_work(self, scope: Scope) -> Iterator[Session]:
        """Open a transaction scoped by ``scope``; commit on success, roll back on error."""
        with self._begun(scope) as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()

    def _begun(self, scope: Scope) -> Session:
        """A session whose transaction has begun with ``scope`` set, in one round trip; a dead
        pooled connection (found by that round trip) is replaced once."""
        statement = begin_statement(scope)
        for attempt in (1, 2):
            session = self._sessions()
            try:
                conn = session.connection(execution_options={_SCOPED: True})
                conn.exec_driver_sql(statement, execution_options={"no_parameters": True})
                return session
            except DBAPIError as exc:
                session.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        _open.discard(self)
        self.engine.dispose()


_open: weakref.WeakSet[Database] = weakref.WeakSet()


def open_databases() -> list[Database]:
    """Every :class:`Database` this process has open (what its health depends on)."""
    return list(_open)


def set_scope(session: Session, scope: Scope) -> None:
    """Set the RLS scope inside a transaction that has begun (``scope_within``)."""
    session.execute(
        text(
            "SELECT set_config('app.tenant_path', :path, true),"
            " set_config('app.system', :system, true)"
        ),
        {"path": scope.tenant_path or "", "system": "on" if scope.system else "off"},
    )


def begin_statement(scope: Scope) -> str:
    """``BEGIN`` and the transaction-local RLS scope, one simple query (values as literals)."""
    return (
        sql.SQL(
            "BEGIN; SELECT set_config('app.tenant_path', {}, true), set_config('app.system', {}, true)"
        )
        .format(sql.Literal(scope.tenant_path or ""), sql.Literal("on" if scope.system else "off"))
        .as_string()
    )


@contextmanager
def scope_within(session: Session, scope: Scope) -> Iterator[Session]:
    """Run the block's statements in ``scope`` inside the caller's transaction, then put the
    transaction's own scope back: one read across tenants (a province-wide duplicate check
    that returns keyed hashes only) without a second connection or transaction."""
    saved = session.execute(
        text(
            "SELECT coalesce(current_setting('app.tenant_path', true), '') AS path,"
            " coalesce(current_setting('app.system', true), 'off') AS system"
        )
    ).one()
    set_scope(session, scope)
    try:
        yield session
    finally:
        try:
            session.execute(
                text(
                    "SELECT set_config('app.tenant_path', :path, true),"
                    " set_config('app.system', :system, true)"
                ),
                {"path": saved.path, "system": saved.system},
            )
        except SQLAlchemyError:  # the transaction failed: its rollback drops the scope with it
            pass


def affected(result: object) -> int:
    """Rows changed by an UPDATE/DELETE result (``CursorResult.rowcount``)."""
    return int(getattr(result, "rowcount", 0) or 0)
