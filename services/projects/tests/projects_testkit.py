"""Helpers of the projects tests: a small Henan tree fed through the tenants consumer."""

from __future__ import annotations

import base64
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kepu_common.db import Database, Scope
from kepu_common.tenancy import Principal
from kepu_devstack.tenant_tree import Node as Node  # re-exported for the tests
from kepu_devstack.tenant_tree import Tree, TreeRows
from kepu_devstack.tenant_tree import feed_tree as shared_feed_tree
from kepu_identity.crypto import Sealer
from kepu_identity.partners import Partners
from kepu_projects import consumers
from sqlalchemy import text
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_projects" / "migrations"
SH = ZoneInfo("Asia/Shanghai")

# code, name, kind, parent code
TREE = [
    ("410000", "河南省科协", "province", None),
    ("410500", "安阳市科协", "city", "410000"),
    ("410300", "洛阳市科协", "city", "410000"),
    ("410502", "文峰区科协", "county", "410500"),
    ("410503", "北关区科协", "county", "410500"),
    ("410302", "老城区科协", "county", "410300"),
    ("410502001", "东大街街道科协", "township", "410502"),
    ("410502002", "宝莲寺镇科协", "township", "410502"),
]


def sh(*args: int) -> datetime:
    """A moment in Asia/Shanghai."""
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


class Clock:
    """A settable "now" for deadline rules."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def feed_tree(db: Database, rows: TreeRows = TREE) -> Tree:
    return shared_feed_tree(
        db, rows, consumer=consumers.TENANTS_CONSUMER, handler=consumers.handle_identity_event
    )


def form(**over: Any) -> dict[str, Any]:
    """A valid 入库表."""
    data: dict[str, Any] = {
        "name": "殷墟文化科普进社区",
        "applicant_unit": "文峰区科协",
        "completing_unit": "文峰区科技馆",
        "contact_person": "王敏",
        "contact_phone": "13812345678",
        "category": "科普活动",
        "start_month": "2026-03",
        "end_month": "2026-11",
        "content": "在辖区社区开展殷墟考古科普讲座与展览。",
        "expected_performance": "举办讲座20场，受众5000人次。",
        "budget": "85000",
        "call_id": "",
    }
    data.update(over)
    return data


def system_rows(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.unit_of_work(Scope.system_scope()) as s:
        return list(s.execute(text(sql), params).all())


def snapshot(s: Session) -> tuple[Any, ...]:
    """Everything the service writes, to prove a refused action changed nothing."""
    return tuple(
        tuple(s.execute(text(q)).all())
        for q in (
            "SELECT id, status, version, name, budget, awaiting_path::text FROM projects ORDER BY id",
            "SELECT id FROM calls ORDER BY id",
            "SELECT count(*) FROM opinions",
            "SELECT project_id, reviewer, total FROM expert_scores ORDER BY 1, 2",
            "SELECT count(*) FROM progress_reports",
            "SELECT count(*) FROM outbox",
            "SELECT count(*) FROM reveal_audit",
        )
    )


def partner_registry(service_database: Any) -> Partners:
    """A real identity partner registry (its own migrated database, the Henan tree seeded):
    the gateway asks identity's ResolvePartner on every /partner/v1 request."""
    import kepu_identity
    from kepu_identity import seed

    migrations = Path(kepu_identity.__file__).parent / "migrations"
    _owner, url = service_database("identity_partners", migrations)
    db = Database(url)
    seed.seed_tree(db)
    return Partners(db, Sealer(base64.b64encode(os.urandom(32)).decode()))


def register_bank(registry: Partners, node: Node, name: str = "邮储银行") -> str:
    """Register a bank as the admin of ``node`` in identity; returns its client id."""
    with registry.db.unit_of_work(Scope.system_scope()) as s:
        tenant_id = s.execute(
            text("SELECT id::text FROM tenants WHERE code = :c"), {"c": node.code}
        ).scalar_one()
    admin = Principal(
        subject=f"admin-{node.code}",
        username=f"admin-{node.code}",
        tenant_id=tenant_id,
        tenant_path=node.path,
        tenant_kind=node.kind,
        roles=frozenset({"admin"}),
    )
    issued = registry.register(admin, name, ["partner:projects:read"], "", [])
    return str(issued.partner.client_id)
