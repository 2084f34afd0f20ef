"""Tables of the projects service (SQLAlchemy Core) and the row shapes read from them.

The DDL and RLS policies are in ``migrations/versions``; ``metadata`` is the migrations'
``target_metadata`` and ``tests/test_projects_models.py`` keeps it equal to a migrated database.

Every table carries ``tenant_path ltree`` under row-level security; ``calls`` is readable by
the owner's descendants as well (a call is opened for a subtree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from kepu.partner.v1 import consent_pb2
from kepu_common.consent import ConsentLedger
from kepu_common.tables import Ltree, outbox_tables, tenants_read_model
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

# Tables: what the migrations create (tests/test_projects_models.py keeps the two equal).
metadata = MetaData()

outbox, processed_events, relay_state = outbox_tables(metadata)

base_reviews = Table(
    "base_reviews",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("base_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("year", Integer, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("opinion", Text, nullable=False, server_default=""),
    Column("reviewed_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


base_targets = Table(
    "base_targets",
    metadata,
    Column("tenant_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("kind", Text, primary_key=True),
    Column("target", Integer, nullable=False),
)


bases = Table(
    "bases",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("tenant_name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("project_id", UUID(as_uuid=False), nullable=False),
    Column("call_id", UUID(as_uuid=False), nullable=False),
    Column("certifier_path", Ltree, nullable=False),
    Column("number", Text, nullable=False),
    Column("certified_on", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("status", Text, nullable=False),
    Column("revoked_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


calls = Table(
    "calls",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("owner_name", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("programme", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("quota", Integer),
    Column("criteria", JSONB, nullable=False),
    Column("min_reviewers", Integer, nullable=False, server_default=text("1")),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("outcome", Text, nullable=False, server_default="funding"),
    Column("base_kind", Text, nullable=False, server_default=""),
    Column("validity_years", Integer, nullable=False, server_default=text("3")),
)


expert_score_history = Table(
    "expert_score_history",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("project_id", UUID(as_uuid=False), nullable=False),
    Column("call_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("scores", JSONB, nullable=False),
    Column("total", Numeric(5, 2), nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("correction", Boolean, nullable=False, server_default=text("false")),
    Column("reason", Text, nullable=False, server_default=""),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


expert_scores = Table(
    "expert_scores",
    metadata,
    Column("project_id", UUID(as_uuid=False), primary_key=True),
    Column("call_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("reviewer", Text, primary_key=True),
    Column("scores", JSONB, nullable=False),
    Column("total", Numeric(5, 2), nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


opinions = Table(
    "opinions",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("project_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("reviewer_tenant_id", UUID(as_uuid=False), nullable=False),
    Column("reviewer_tenant_name", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("opinion", Text, nullable=False, server_default=""),
    Column("actor", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


partner_access_log = Table(
    "partner_access_log",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("project_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("partner_client_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


progress_reports = Table(
    "progress_reports",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("project_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("content", Text, nullable=False),
    Column("percent", Integer, nullable=False),
    Column("actor", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# The consent ledger of projects (kepu_common.consent): its table, with the notice's time.
# (Migration 0002 made created_by_username without the ledger's DEFAULT ''; nothing omits it.)
CONSENTS = ConsentLedger(
    "project_consents", "project_id", "projects", consent_pb2.SUBJECT_TYPE_PROJECT
)
project_consents = CONSENTS.core_table(metadata, Column("notified_at", DateTime(timezone=True)))


projects = Table(
    "projects",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("tenant_name", Text, nullable=False),
    Column("call_id", UUID(as_uuid=False)),
    Column("name", Text, nullable=False),
    Column("applicant_unit", Text, nullable=False),
    Column("completing_unit", Text, nullable=False),
    Column("contact_person", Text, nullable=False),
    Column("phone_sealed", LargeBinary),
    Column("phone_masked", Text, nullable=False, server_default=""),
    Column("category", Text, nullable=False),
    Column("start_month", Text, nullable=False),
    Column("end_month", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("expected_performance", Text, nullable=False),
    Column("budget", Numeric(14, 2)),
    Column("status", Text, nullable=False),
    Column("awaiting_path", Ltree),
    Column("submitted_at", DateTime(timezone=True)),
    Column("approved_at", DateTime(timezone=True)),
    Column("library_no", Text),
    Column("rejected_at", DateTime(timezone=True)),
    Column("reject_reason", Text, nullable=False, server_default=""),
    Column("completed_at", DateTime(timezone=True)),
    Column("completion_summary", Text, nullable=False, server_default=""),
    Column("evaluated_at", DateTime(timezone=True)),
    Column("evaluation_score", Numeric(5, 2)),
    Column("evaluation_grade", Text, nullable=False, server_default=""),
    Column("evaluation_comment", Text, nullable=False, server_default=""),
    Column("award_recommended", Boolean, nullable=False, server_default=text("false")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("returned_at", DateTime(timezone=True)),
    Column("return_reason", Text, nullable=False, server_default=""),
)


resource_downloads = Table(
    "resource_downloads",
    metadata,
    Column("resource_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("downloads", BigInteger, nullable=False, server_default=text("0")),
)


resource_files = Table(
    "resource_files",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("resource_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


resources = Table(
    "resources",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("tenant_name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("theme", Text, nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
    Column(
        "author_ids",
        ARRAY(UUID(as_uuid=False)),
        nullable=False,
        server_default=text("'{}'::uuid[]"),
    ),
    Column("share_scope", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("return_reason", Text, nullable=False, server_default=""),
    Column("submitted_at", DateTime(timezone=True)),
    Column("published_at", DateTime(timezone=True)),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


reveal_audit = Table(
    "reveal_audit",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("project_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("viewer_subject", Text, nullable=False),
    Column("viewer_username", Text, nullable=False),
    Column("field", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


talents = Table(
    "talents",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("status", Text, nullable=False),
)


tenants = tenants_read_model(metadata)


# Row shapes read from the tables.


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
