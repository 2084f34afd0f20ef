"""Helpers of the reporting tests: a small Henan tree fed through the tenants consumer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from kepu_common.db import Database, Scope
from kepu_devstack.tenant_tree import Node as Node  # re-exported for the tests
from kepu_devstack.tenant_tree import Tree, TreeRows
from kepu_devstack.tenant_tree import feed_tree as shared_feed_tree
from kepu_reporting import consumers
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_reporting" / "migrations"
SH = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")

# code, name, kind, parent code
TREE = [
    ("410000", "河南省科协", "province", None),
    ("411300", "南阳市科协", "city", "410000"),
    ("410200", "开封市科协", "city", "410000"),
    ("411303", "卧龙区科协", "county", "411300"),
    ("411302", "宛城区科协", "county", "411300"),
    ("411303001", "七一乡科协", "township", "411303"),
    ("411303002", "蒲山镇科协", "township", "411303"),
    ("411303S01", "卧龙区农学会", "society", "411303"),
    ("411302001", "汉冶街道科协", "township", "411302"),
]


def sh(*args: int) -> datetime:
    """A moment in Asia/Shanghai."""
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def feed_tree(db: Database, rows: TreeRows = TREE) -> Tree:
    return shared_feed_tree(
        db, rows, consumer=consumers.TENANTS_CONSUMER, handler=consumers.handle_identity_event
    )


def system(db: Database) -> Any:
    return db.unit_of_work(Scope.system_scope())


def outbox_types(s: Session) -> list[str]:
    from sqlalchemy import text

    return list(s.execute(text("SELECT type FROM outbox ORDER BY id")).scalars())
