"""Tenant use cases: visibility (own tenant and descendants) and creation under one's own tenant."""

from __future__ import annotations

from typing import Any

from kepu_common.db import Database, Scope
from kepu_common.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from kepu_common.tenancy import Principal
from sqlalchemy import Row

from . import divisions
from . import repository as repo

NOT_VISIBLE = "单位不存在，或不在您的管辖范围内。"
CHILD_KINDS = {
    "province": {"city", "society", "department"},
    "city": {"county", "society", "department"},
    "county": {"township", "society", "department"},
    "department": set(),  # 成员单位 (市教育局 …): works on the plan tasks assigned to it
    "township": set(),
    "society": set(),
}


class Tenants:
    def __init__(self, db: Database) -> None:
        self.db = db

    def me(self, caller: Principal) -> Row[Any]:
        return self.get(caller, caller.tenant_id)

    def get(self, caller: Principal, tenant_id: str) -> Row[Any]:
        _uuid(tenant_id)
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            row = repo.get_tenant(s, tenant_id)
        if row is None:
            raise NotFound(NOT_VISIBLE)
        return row

    def children(self, caller: Principal, tenant_id: str) -> list[Row[Any]]:
        parent = self.get(caller, tenant_id)
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            return repo.children(s, parent.id)

    def subtree(self, caller: Principal, tenant_id: str, max_depth: int) -> list[Row[Any]]:
        root = self.get(caller, tenant_id)
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            return repo.subtree(s, root.path, max_depth or None)

    def create(
        self, caller: Principal, parent_id: str, code: str, name: str, kind: str
    ) -> Row[Any]:
        """Create a township, learned society (学会) or member department (成员单位) under the
        caller's own tenant."""
        if not caller.has_role("admin"):
            raise PermissionDenied("只有本单位管理员可以新建下级单位。")
        parent = self.get(caller, parent_id)
        if parent.id != caller.tenant_id:
            raise PermissionDenied("只能在本单位之下新建下级单位。")
        code, name = code.strip(), name.strip()
        if not name or len(name) > 100:
            raise InvalidArgument("单位名称不能为空，且不超过 100 个字。")
        if kind not in CHILD_KINDS.get(parent.kind, set()):
            raise InvalidArgument(f"“{parent.name}”之下不能新建该类型的单位。")
        reason = divisions.validate_child_code(kind, code, parent.code)
        if reason:
            raise InvalidArgument(reason)
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            if repo.get_tenant_by_code(s, code) is not None:
                raise AlreadyExists(f"单位代码 {code} 已存在。")
            tid = repo.insert_tenant(
                s,
                code=code,
                name=name,
                kind=kind,
                parent_id=parent.id,
                path=f"{parent.path}.{code}",
                actor=caller.subject,
            )
            row = repo.get_tenant(s, tid)
        assert row is not None
        return row


def _uuid(value: str) -> None:
    import uuid

    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise NotFound(NOT_VISIBLE) from None
