"""Tables of the assessment service (SQLAlchemy Core) and the row shapes read from them.

The DDL and RLS policies are in ``migrations/versions``; ``metadata`` is the migrations'
``target_metadata`` and ``tests/test_assessment_models.py`` keeps it equal to a migrated database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kepu_common.tables import Ltree, outbox_tables, tenants_read_model
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from .domain import Indicator
from .scoring import TieResolution

# Tables: what the migrations create (tests/test_assessment_models.py keeps the two equal).
metadata = MetaData()

outbox, processed_events, relay_state = outbox_tables(metadata)

allocation_totals = Table(
    "allocation_totals",
    metadata,
    Column("scheme_id", UUID(as_uuid=False), primary_key=True),
    Column("indicator_code", Text, primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("parent_quota", Double, nullable=False),
)


allocations = Table(
    "allocations",
    metadata,
    Column("scheme_id", UUID(as_uuid=False), primary_key=True),
    Column("indicator_code", Text, primary_key=True),
    Column("quota_key", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("tenant_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("quota", Double, nullable=False),
)


entries = Table(
    "entries",
    metadata,
    Column("scheme_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), primary_key=True),
    Column("indicator_code", Text, primary_key=True),
    Column("score", Double),
    Column("value", Double),
    Column("evidence", Text, nullable=False, server_default=""),
    Column("tenant_path", Ltree, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


metric_counters = Table(
    "metric_counters",
    metadata,
    Column("tenant_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("year", Integer, primary_key=True),
    Column("metric", Text, primary_key=True),
    Column("value", Double, nullable=False, server_default=text("0")),
)


metric_facts = Table(
    "metric_facts",
    metadata,
    Column("metric", Text, primary_key=True),
    Column("subject_id", Text, primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("year", Integer, nullable=False),
    Column("value", Double, nullable=False),
)


plan_evidence = Table(
    "plan_evidence",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("plan_id", UUID(as_uuid=False), nullable=False),
    Column("progress_id", UUID(as_uuid=False), nullable=False),
    Column("unit_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


plan_progress = Table(
    "plan_progress",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("plan_id", UUID(as_uuid=False), nullable=False),
    Column("task_id", UUID(as_uuid=False), nullable=False),
    Column("unit_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("quarter", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("figures", JSONB, nullable=False),
    Column("attachments", JSONB, nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("on_time", Boolean, nullable=False),
)


plan_scores = Table(
    "plan_scores",
    metadata,
    Column("plan_id", UUID(as_uuid=False), primary_key=True),
    Column("task_id", UUID(as_uuid=False), primary_key=True),
    Column("unit_id", UUID(as_uuid=False), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("result", Text, nullable=False),
    Column("score", Double, nullable=False),
)


plan_supervisions = Table(
    "plan_supervisions",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("plan_id", UUID(as_uuid=False), nullable=False),
    Column("task_id", UUID(as_uuid=False)),
    Column("unit_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("visited_on", Date, nullable=False),
    Column("findings", Text, nullable=False),
    Column("rectify_by", Date),
    Column("rectified", Boolean, nullable=False, server_default=text("false")),
    Column("rectified_on", Date),
    Column("rectify_note", Text, nullable=False, server_default=""),
    Column("created_by", Text, nullable=False),
)


plan_tasks = Table(
    "plan_tasks",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("plan_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("section", Text, nullable=False, server_default=""),
    Column("text", Text, nullable=False),
    Column("lead_unit_id", UUID(as_uuid=False), nullable=False),
    Column(
        "participant_ids",
        ARRAY(UUID(as_uuid=False)),
        nullable=False,
        server_default=text("'{}'::uuid[]"),
    ),
    Column("unit_paths", ARRAY(Ltree), nullable=False),
    Column("milestones", JSONB, nullable=False),
    Column("targets", JSONB, nullable=False),
)


plans = Table(
    "plans",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("owner_tenant_id", UUID(as_uuid=False), nullable=False),
    Column("title", Text, nullable=False),
    Column("start_year", Integer, nullable=False),
    Column("end_year", Integer, nullable=False),
    Column("phases", JSONB, nullable=False),
    Column("sections", JSONB, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


results = Table(
    "results",
    metadata,
    Column("scheme_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("total", Double, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("honoured", Boolean, nullable=False, server_default=text("false")),
    Column("details", JSONB, nullable=False),
    Column("published", Boolean, nullable=False, server_default=text("false")),
)


schemes = Table(
    "schemes",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("owner_tenant_id", UUID(as_uuid=False), nullable=False),
    Column("status", Text, nullable=False),
    Column("indicators", JSONB, nullable=False),
    Column("honours_top_n", Integer, nullable=False, server_default=text("0")),
    Column("honours_min_score", Double, nullable=False, server_default=text("0")),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),
    Column("published_at", DateTime(timezone=True)),
    Column("honours_tie", JSONB),
)


showcase_items = Table(
    "showcase_items",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("scheme_id", UUID(as_uuid=False), nullable=False),
    Column("year", Integer, nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("kind", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("subject_tenant_id", UUID(as_uuid=False), nullable=False),
    Column("name", Text, nullable=False),
    Column("unit_name", Text, nullable=False, server_default=""),
    Column("citation", Text, nullable=False),
    Column("photo_key", Text),
    Column("photo_type", Text),
    Column("photo_sha256", Text),
    Column("position", Integer, nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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
