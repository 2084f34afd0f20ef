"""Engines and the unit of work.

The edge (a gRPC call or a consumed event) owns the transaction: it opens one
unit of work, which begins a transaction and sets the row-level-security scope
with ``set_config(..., true)`` (transaction-local, so a pooled connection never
carries one caller's tenant to the next). Services only add and flush.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from . import telemetry
from .tenancy import validate_path


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create a SQLAlchemy engine for psycopg 3 (``postgresql+psycopg://``)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # pre-ping: after a database restart every pooled connection is dead; the ping (a loopback
    # round trip per checkout) replaces it instead of failing the next request with a 500.
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=10, pool_recycle=600, pool_pre_ping=True
    )
    telemetry.instrument_engine(engine)
    return engine


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
        self.engine = make_engine(url, pool_size=pool_size)
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
        with self._sessions() as session, session.begin():
            set_scope(session, scope)
            yield session

    def dispose(self) -> None:
        _open.discard(self)
        self.engine.dispose()


_open: weakref.WeakSet[Database] = weakref.WeakSet()


def open_databases() -> list[Database]:
    """Every :class:`Database` this process has open (what its health depends on)."""
    return list(_open)


def set_scope(session: Session, scope: Scope) -> None:
    session.execute(
        text(
            "SELECT set_config('app.tenant_path', :path, true),"
            " set_config('app.system', :system, true)"
        ),
        {"path": scope.tenant_path or "", "system": "on" if scope.system else "off"},
    )


def affected(result: object) -> int:
    """Rows changed by an UPDATE/DELETE result (``CursorResult.rowcount``)."""
    return int(getattr(result, "rowcount", 0) or 0)
