"""Helpers of the reporting tests: a small Henan tree fed through the tenants consumer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from kepu.events.v1 import envelope_pb2
from kepu_common.consumer import handle_once
from kepu_common.db import Database, Scope
from kepu_common.outbox import build_envelope
from kepu_common.tenancy import Principal
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


@dataclass(frozen=True)
class Node:
    id: str
    code: str
    name: str
    kind: str
    path: str

    def principal(self, *roles: str) -> Principal:
        return Principal(
            subject=f"user-{self.code}",
            username=f"admin{self.code}",
            tenant_id=self.id,
            tenant_path=self.path,
            tenant_kind=self.kind,
            roles=frozenset(roles or ("admin",)),
        )


class Tree(dict[str, Node]):
    pass


def feed_tree(db: Database) -> Tree:
    tree = Tree()
    for code, name, kind, parent in TREE:
        parent_node = tree.get(parent) if parent else None
        node = Node(
            str(uuid.uuid4()),
            code,
            name,
            kind,
            f"{parent_node.path}.{code}" if parent_node else code,
        )
        tree[code] = node
        msg = envelope_pb2.TenantChanged(
            tenant_id=node.id,
            code=code,
            name=name,
            kind=kind,
            parent_id=parent_node.id if parent_node else "",
            path=node.path,
            status="active",
        )
        env = build_envelope(
            event_type=consumers.TENANT_CHANGED,
            tenant_id=node.id,
            tenant_path=node.path,
            actor="system",
            payload=msg,
        )
        handle_once(db, consumers.TENANTS_CONSUMER, env, consumers.handle_identity_event)
    return tree


def system(db: Database) -> Any:
    return db.unit_of_work(Scope.system_scope())


def outbox_types(s: Session) -> list[str]:
    from sqlalchemy import text

    return list(s.execute(text("SELECT type FROM outbox ORDER BY id")).scalars())
