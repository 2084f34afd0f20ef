"""Fixtures: a migrated projects database per test module and a small Henan tree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from kepu_common.db import Database, Scope
from kepu_projects.crypto import KeyRing
from projects_testkit import MIGRATIONS, Clock, Node, Tree, feed_tree, sh

T = TypeVar("T")


@pytest.fixture(scope="module")
def db(service_database: Any, request: pytest.FixtureRequest) -> Iterator[Database]:
    name = "prj_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    _owner, app_url = service_database(name, MIGRATIONS)
    database = Database(app_url)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def tree(db: Database) -> Tree:
    return feed_tree(db)


@pytest.fixture
def clock() -> Clock:
    return Clock(sh(2026, 3, 1, 9, 0))


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.from_config()


@pytest.fixture
def act(db: Database) -> Callable[..., Any]:
    """Run a use case as ``node`` in one unit of work (what the gRPC edge does)."""

    def run(
        node: Node,
        fn: Callable[..., T],
        *args: Any,
        roles: tuple[str, ...] = ("admin",),
        **kwargs: Any,
    ) -> T:
        p = node.principal(*roles)
        with db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            return fn(s, p, *args, **kwargs)

    return run
