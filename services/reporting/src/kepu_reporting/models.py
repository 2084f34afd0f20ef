"""Tables of the reporting service (SQLAlchemy Core) and the row shapes read from them.

The DDL and RLS policies are in ``migrations/versions``; ``metadata`` is the migrations'
``target_metadata`` and ``tests/test_reporting_models.py`` keeps it equal to a migrated database.

Every table carries ``tenant_path ltree`` under row-level security; ``report_types`` is
readable by the owner's descendants as well (a type is defined for a subtree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kepu_common.tables import Ltree, outbox_tables, tenants_read_model
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

# Tables: what the migrations create (tests/test_reporting_models.py keeps the two equal).
metadata = MetaData()

outbox, processed_events, relay_state = outbox_tables(metadata)

activities = Table(
    "activities",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("title", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("place", Text, nullable=False, server_default=""),
    Column("form", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("participants", Integer, nullable=False),
    Column("talents", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("photos", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

activity_counts = Table(  # 活动数（每个科协、每个期间；期间 '' 为全部），由 activities 的触发器维护
    "activity_counts",
    metadata,
    Column("period", Text, primary_key=True),
    Column("tenant_path", Ltree, primary_key=True),
    Column("n", BigInteger, nullable=False),
)


coverage_denominators = Table(
    "coverage_denominators",
    metadata,
    Column("tenant_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("year", Integer, primary_key=True),
    Column("communities", Integer, nullable=False),
    Column("schools", Integer, nullable=False),
    Column("villages", Integer, nullable=False),
)


notifications = Table(
    "notifications",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("kind", Text, nullable=False),
    Column("type_code", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("subject_tenant_id", UUID(as_uuid=False), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("dedupe_key", Text, nullable=False),
    Column("email_to", Text),
    Column("email_sent_at", DateTime(timezone=True)),
    Column("email_error", Text),
    Column("read_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


report_types = Table(
    "report_types",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("period_kind", Text, nullable=False),
    Column("fields", JSONB, nullable=False),
    Column("due_rules", JSONB, nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("owner_tenant_id", UUID(as_uuid=False), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


reports = Table(
    "reports",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("tenant_kind", Text, nullable=False),
    Column("type_code", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("values", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("deadline", Date),
    Column("submitted_at", DateTime(timezone=True)),
    Column("on_time", Boolean),
    Column("return_reason", Text, nullable=False, server_default=""),
    Column("accepted_at", DateTime(timezone=True)),
    Column("reviewed_by", Text, nullable=False, server_default=""),
    Column("updated_by", Text, nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


resource_facts = Table(
    "resource_facts",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("kind", Text, nullable=False),
    Column("day", Date, nullable=False),
)


station_activities = Table(
    "station_activities",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("station_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("day", Date, nullable=False),
    Column("title", Text, nullable=False),
    Column("participants", Integer, nullable=False),
    Column("created_by", Text, nullable=False),
)


station_counts = Table(
    "station_counts",
    metadata,
    Column("tenant_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("kind", Text, primary_key=True),
    Column("certified", Integer, nullable=False),
)


station_evidence = Table(
    "station_evidence",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("station_id", UUID(as_uuid=False), nullable=False),
    Column("condition", Text, nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


station_schedules = Table(
    "station_schedules",
    metadata,
    Column("station_id", UUID(as_uuid=False), primary_key=True),
    Column("month", Text, primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("items", JSONB, nullable=False),
)


stations = Table(
    "stations",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("host", Text, nullable=False),
    Column("conditions", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("plaque_no", Text),
    Column("informant_ids", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("opinion", Text, nullable=False, server_default=""),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("certified_at", DateTime(timezone=True)),
)


talents = Table(
    "talents",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("status", Text, nullable=False),
)


tenants = tenants_read_model(metadata, Column("contact_email", Text))


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
