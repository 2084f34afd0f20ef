"""Use cases of certified bases. Each takes the unit of work's session first, applies the
domain rules and writes the outbox; the gRPC edge owns the transaction.

Selection in a certification call (``kepu_projects.service.select``) certifies each chosen
project here; the certifier reviews its bases every year; every level reads the registry of
its subtree against the targets it (or a level above) set."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kepu.projects.v1 import bases_pb2
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal
from kepu_common.times import SHANGHAI
from sqlalchemy.orm import Session

from .. import repository as base_repo
from ..models import Call, Project, Tenant
from . import domain
from . import repository as repo
from .domain import Base

TOPIC = "projects.events"
NOT_VISIBLE = "未找到该基地，或不在您的管辖范围内。"


def _uuid(value: str, what: str, at: str = "") -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument(f"{what}编号格式不正确。", field=at) from exc


def today(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def _changed(s: Session, p: Principal, b: Base, year: int) -> None:
    record_event(
        s, topic=TOPIC, event_type=f"projects.base.{b.status}", tenant_id=b.tenant_id,
        tenant_path=b.tenant_path, actor=p.subject,
        payload=bases_pb2.BaseChanged(
            base_id=b.id, tenant_id=b.tenant_id, tenant_path=b.tenant_path, kind=b.kind,
            number=b.number, status=b.status, year=year,
        ),
    )  # fmt: skip


def _tenant(s: Session, p: Principal) -> Tenant:
    t = base_repo.tenant_by_path(s, p.tenant_path)
    if t is not None:
        return t
    code = p.tenant_path.rsplit(".", 1)[-1]
    return Tenant(p.tenant_id, code, code, p.tenant_kind, None, p.tenant_path, "active")


def certify(s: Session, p: Principal, call: Call, project: Project, now: datetime) -> Base:
    """认定: the project selected in a certification call becomes a base of the call's kind."""
    day = today(now)
    prefix = domain.number(_tenant(s, p).code, call.base_kind, day.year, 0)[:-3]
    b = Base(
        id=str(uuid.uuid4()), tenant_id=project.tenant_id, tenant_path=project.tenant_path,
        tenant_name=project.tenant_name, kind=call.base_kind, name=project.name,
        project_id=project.id, call_id=call.id, certifier_path=call.tenant_path,
        number=f"{prefix}{repo.numbers_with_prefix(s, prefix) + 1:03d}", certified_on=day,
        valid_until=domain.valid_until(day, call.validity_years),
    )  # fmt: skip
    repo.insert(s, b)
    _changed(s, p, b, day.year)
    return b


def load(s: Session, p: Principal, base_id: str, *, lock: bool = False) -> Base:
    b = repo.get(s, p.tenant_path, _uuid(base_id, "基地", "base_id"), lock=lock)
    if b is None:
        raise NotFound(NOT_VISIBLE)
    b.reviews = repo.reviews_of(s, [b.id]).get(b.id, [])
    return b


def list_bases(
    s: Session, p: Principal, now: datetime, kind: str, status: str, tenant_id: str
) -> list[Base]:
    if kind and kind not in domain.KINDS:
        raise InvalidArgument("基地类型不正确。", field="kind")
    if status and status not in domain.STATUS_CN:
        raise InvalidArgument("基地状态不正确。", field="status")
    scope = _scope(s, p, tenant_id).path
    rows = repo.list_bases(s, scope, kind, status, today(now))
    reviews = repo.reviews_of(s, [b.id for b in rows])
    for b in rows:
        b.reviews = reviews.get(b.id, [])
    return rows


def review(
    s: Session, p: Principal, now: datetime, base_id: str, year: int, outcome: str, opinion: str
) -> Base:
    """年度复核 by the certifier: passed, or failed and the base loses its title."""
    if not domain.REVIEW_ROLES & p.roles:
        raise PermissionDenied("当前账号没有复核基地的权限。")
    b = load(s, p, base_id, lock=True)
    day = today(now)
    status = domain.check_review(
        b, p.tenant_path, year, outcome, opinion, day, (r[1] for r in b.reviews)
    )
    repo.insert_review(
        s, b,
        {"id": str(uuid.uuid4()), "y": year, "o": outcome, "op": opinion.strip()[:1000],
         "by": p.subject},
    )  # fmt: skip
    if status != b.status:
        b.status, b.revoked_on = status, day
        repo.save(s, b)
        _changed(s, p, b, day.year)
    return load(s, p, b.id)


def _scope(s: Session, p: Principal, tenant_id: str) -> Tenant:
    if not tenant_id or tenant_id == p.tenant_id:
        return _tenant(s, p)
    t = base_repo.get_tenant(s, p.tenant_path, _uuid(tenant_id, "单位", "tenant_id"))
    if t is None:
        raise NotFound("单位不存在，或不在您的管辖范围内。")
    return t


@dataclass(frozen=True)
class RegistryRow:
    tenant: Tenant
    certified: dict[str, int]
    targets: dict[str, int]


def registry(
    s: Session, p: Principal, now: datetime, tenant_id: str
) -> tuple[RegistryRow, list[RegistryRow]]:
    """Bases holding their title in a tenant's subtree and in each child's, by kind, beside
    the targets set for them (the province's plan when its own are not set)."""
    root = _scope(s, p, tenant_id)
    by_child = repo.certified_by_child(s, root.path, today(now))
    kids = base_repo.children(s, root)
    goals = repo.targets(s, [root.id, *(k.id for k in kids)])
    total: dict[str, int] = {}
    for counts in by_child.values():
        for kind, n in counts.items():
            total[kind] = total.get(kind, 0) + n
    own_goals = goals.get(root.id) or (domain.PROVINCE_TARGETS if root.kind == "province" else {})
    return RegistryRow(root, total, dict(own_goals)), [
        RegistryRow(k, dict(by_child.get(k.path, {})), goals.get(k.id, {})) for k in kids
    ]


def set_targets(
    s: Session, p: Principal, now: datetime, tenant_id: str, items: list[dict[str, Any]]
) -> tuple[RegistryRow, list[RegistryRow]]:
    """A tenant's targets per kind (e.g. 惠济: 2 / 6 / 7), set by its own admin or above."""
    if "admin" not in p.roles:
        raise PermissionDenied("只有管理员可以设置基地建设目标。")
    tenant = _scope(s, p, tenant_id)
    for kind, n in domain.clean_targets(items).items():
        repo.save_target(s, tenant.id, tenant.path, kind, n)
    return registry(s, p, now, tenant.id)
