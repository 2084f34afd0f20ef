"""Fixtures: a migrated assessment database per test module and a small Henan tree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from assessment_testkit import MIGRATIONS, Node, Tree, feed_tree
from kepu_common.db import Database, Scope

T = TypeVar("T")


@pytest.fixture(scope="module")
def db(service_database: Any, request: pytest.FixtureRequest) -> Iterator[Database]:
    name = "asm_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    _owner, app_url = service_database(name, MIGRATIONS)
    database = Database(app_url)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def tree(db: Database) -> Tree:
    return feed_tree(db)


@pytest.fixture
def act(db: Database) -> Callable[..., Any]:
    """Run a use case as ``node`` in one unit of work (what the gRPC edge does)."""

    def run(
        node: Node,
        fn: Callable[..., T],
        *args: Any,
        roles: tuple[str, ...] = ("admin",),
        now: bool = False,
        **kwargs: Any,
    ) -> T:
        p = node.principal(*roles)
        with db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            if now:
                return fn(s, p, *args, datetime.now(UTC), **kwargs)
            return fn(s, p, *args, **kwargs)

    return run
