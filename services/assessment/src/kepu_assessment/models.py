"""Row shapes of the assessment tables (the DDL and RLS policies are in ``migrations``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .domain import Indicator
from .scoring import TieResolution


@dataclass(frozen=True)
class Tenant:  # 单位（租户）read model fed by identity.tenant.changed
    id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    status: str


@dataclass
class Scheme:  # 考核方案（年度）
    id: str
    year: int
    name: str
    owner_path: str
    owner_tenant_id: str
    status: str
    indicators: tuple[Indicator, ...]
    honours_top_n: int
    honours_min_score: float
    created_by: str
    created_at: datetime | None = None
    closed_at: datetime | None = None
    published_at: datetime | None = None
    honours_tie: TieResolution | None = None  # the owner's choice at the honours boundary
