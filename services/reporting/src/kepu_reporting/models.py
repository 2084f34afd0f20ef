"""Row shapes of the reporting tables (the DDL is in ``migrations/versions``).

Every table carries ``tenant_path ltree`` under row-level security; ``report_types`` is
readable by the owner's descendants as well (a type is defined for a subtree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Tenant:  # 单位（租户）read model fed by identity.tenant.changed
    id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    status: str
    contact_email: str | None = None


@dataclass
class Report:  # 报告（月报、季报、年度计划、年度总结）
    id: str
    tenant_id: str
    tenant_path: str
    tenant_kind: str
    type_code: str
    period: str
    status: str
    values: dict[str, Any] = field(default_factory=dict)  # its area's figures (本地区)
    deadline: date | None = None
    submitted_at: datetime | None = None
    on_time: bool | None = None
    return_reason: str = ""
    accepted_at: datetime | None = None
    reviewed_by: str = ""
    updated_by: str = ""
    version: int = 1
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Activity:  # 在线科普活动
    id: str
    tenant_id: str
    tenant_path: str
    title: str
    day: date
    place: str
    form: str
    target: str
    participants: int
    talents: list[str]
    photos: list[str]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Notification:  # 站内提醒
    id: str
    tenant_id: str
    kind: str
    type_code: str
    period: str
    subject_tenant_id: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    email_to: str | None = None
    email_sent_at: datetime | None = None


@dataclass(frozen=True)
class ChildRow:
    tenant: Tenant
    report: Report | None


@dataclass(frozen=True)
class SumSource:  # a brief counted in a roll-up (see domain.rollup_sources)
    tenant: Tenant
    report_id: str
    status: str
    submitted_at: datetime | None
    covers: int  # submitted briefs below it, already contained in its figures


@dataclass(frozen=True)
class Rollup:  # 汇总: the numeric fields over a subtree, each branch counted once
    sums: dict[str, int | float]
    sources: list[SumSource]

    @property
    def briefs(self) -> int:
        """The briefs the sums include: the sources and the ones they cover."""
        return len(self.sources) + sum(x.covers for x in self.sources)
