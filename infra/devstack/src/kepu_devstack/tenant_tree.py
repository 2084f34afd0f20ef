"""Test helper: a small tenant tree fed to a service's tenants read model through its real
consumer handler (``identity.tenant.changed`` envelopes), as identity would publish it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from kepu.events.v1 import envelope_pb2
from kepu_common.consumer import Handler, handle_once
from kepu_common.db import Database
from kepu_common.directory import TENANT_CHANGED
from kepu_common.outbox import build_envelope
from kepu_common.tenancy import Principal

# code, name, kind, parent code (parents first)
TreeRows = Sequence[tuple[str, str, str, str | None]]


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


def feed_tree(db: Database, rows: TreeRows, *, consumer: str, handler: Handler) -> Tree:
    """Create ``rows`` with fresh ids and apply each tenant event with ``handler``."""
    tree = Tree()
    for code, name, kind, parent in rows:
        parent_node = tree.get(parent) if parent else None
        path = f"{parent_node.path}.{code}" if parent_node else code
        node = Node(str(uuid.uuid4()), code, name, kind, path)
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
            event_type=TENANT_CHANGED,
            tenant_id=node.id,
            tenant_path=node.path,
            actor="system",
            payload=msg,
        )
        handle_once(db, consumer, env, handler)
    return tree
