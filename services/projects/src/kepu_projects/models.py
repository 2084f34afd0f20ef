"""Row shapes of the projects tables (the DDL is in ``migrations/versions``).

Every table carries ``tenant_path ltree`` under row-level security; ``calls`` is readable by
the owner's descendants as well (a call is opened for a subtree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Tenant:  # 单位（租户）read model fed by identity.tenant.changed
    id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    status: str


@dataclass(frozen=True)
class Call:  # 申报批次
    id: str
    tenant_id: str
    tenant_path: str
    owner_name: str
    title: str
    programme: str
    year: int
    description: str
    deadline: datetime
    quota: int | None
    criteria: tuple[tuple[str, float], ...]
    min_reviewers: int
    created_at: datetime
    approved: int = 0
    outcome: str = "funding"  # funding | certification (认定: selection makes a base)
    base_kind: str = (
        ""  # certification: 科普教育基地 | 科普示范社区 | 农村中学科技馆 | 现代农业科普园
    )
    validity_years: int = 3


@dataclass
class Project:  # 重点项目（入库表）
    id: str
    tenant_id: str
    tenant_path: str
    tenant_name: str
    call_id: str | None
    name: str
    applicant_unit: str
    completing_unit: str
    contact_person: str
    phone_sealed: bytes | None
    phone_masked: str
    category: str
    start_month: str
    end_month: str
    content: str
    expected_performance: str
    budget: Decimal | None
    status: str
    awaiting_path: str | None = None
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    library_no: str | None = None
    rejected_at: datetime | None = None
    reject_reason: str = ""
    completed_at: datetime | None = None
    completion_summary: str = ""
    evaluated_at: datetime | None = None
    evaluation_score: Decimal | None = None
    evaluation_grade: str = ""
    evaluation_comment: str = ""
    award_recommended: bool = False
    returned_at: datetime | None = None
    return_reason: str = ""
    version: int = 1
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # joined for display, not stored on the row
    call_title: str = ""
    programme: str = ""
    call_owner_path: str = ""  # the tenant that published the call
    phone_revealed: str = field(default="", compare=False)


@dataclass(frozen=True)
class Opinion:  # 逐级审核意见
    tenant_id: str
    tenant_name: str
    decision: str
    opinion: str
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class ProgressReport:  # 实施进展
    content: str
    percent: int
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class ScoreRevision:  # one entry of an expert's score history (first score or a correction)
    scores: dict[str, float]
    total: float
    recorded_by: str
    recorded_at: datetime
    correction: bool
    reason: str


@dataclass(frozen=True)
class ExpertScore:  # 专家评分 (the current one; ``history`` oldest first)
    project_id: str
    reviewer: str
    scores: dict[str, float]
    total: float
    history: tuple[ScoreRevision, ...] = ()


@dataclass(frozen=True)
class Counts:
    submitted: int = 0
    approved: int = 0
    completed: int = 0
    evaluated: int = 0
