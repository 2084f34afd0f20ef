"""Tables of the talent service (SQLAlchemy Core; DDL and RLS policies are in migrations/).

``volunteers/models.py`` adds the volunteer tables to the same ``metadata``; the migrations'
``target_metadata`` is it, and ``tests/test_talent_models.py`` keeps it equal to a migrated
database."""

from __future__ import annotations

from kepu.partner.v1 import consent_pb2
from kepu_common.consent import ConsentLedger
from kepu_common.tables import Ltree, outbox_tables
from sqlalchemy import (
    BigInteger,
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
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

outbox, processed_events, relay_state = outbox_tables(metadata)

tenants = Table(  # 科协（租户）的只读模型，由 identity.events 维护
    "tenants",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("parent_id", UUID(as_uuid=False)),
    Column("path", Ltree, nullable=False),
    Column("status", Text, nullable=False),
    Column("talent_quota", Integer),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

talents = Table(  # 科普人才（推荐表）
    "talents",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("province", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("gender", Text, nullable=False),
    Column("birth_month", Text, nullable=False),
    Column("ethnicity", Text, nullable=False),
    Column("political_status", Text, nullable=False),
    Column("education", Text, nullable=False),
    Column("industry", Text, nullable=False),
    Column("specialty", Text, nullable=False),
    Column("employer", Text, nullable=False),
    Column("position", Text, nullable=False),
    Column("categories", ARRAY(Text), nullable=False),
    Column("biography", Text, nullable=False),
    Column("experience", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("phone_enc", LargeBinary),
    Column("phone_masked", Text, nullable=False),
    Column("email_enc", LargeBinary),
    Column("email_masked", Text, nullable=False),
    Column("im_enc", LargeBinary),
    Column("im_masked", Text, nullable=False),
    Column("id_number_enc", LargeBinary),
    Column("id_number_masked", Text, nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("id_number_hash", Text),
    Column("name_phone_hash", Text, nullable=False),
    Column("recommend_opinion", Text, nullable=False, default=""),
    Column("city_opinion", Text, nullable=False, default=""),
    Column("province_opinion", Text, nullable=False, default=""),
    Column("reject_reason", Text, nullable=False, default=""),
    Column("certificate_no", Text),
    Column("certified_at", DateTime(timezone=True)),
    Column("source", Text, nullable=False),
    Column("import_id", UUID(as_uuid=False)),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

talent_counts = Table(  # 人才数（每个科协、每种状态；状态 '' 为全部），由 talents 的触发器维护
    "talent_counts",
    metadata,
    Column("status", Text, primary_key=True),
    Column("tenant_path", Ltree, primary_key=True),
    Column("n", BigInteger, nullable=False),
)

talent_reviews = Table(  # 审核记录：每一步的人、单位、时间、意见
    "talent_reviews",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("talent_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("step", Text, nullable=False),
    Column("from_status", Text, nullable=False),
    Column("to_status", Text, nullable=False),
    Column("opinion", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("actor_username", Text, nullable=False),
    Column("actor_tenant_path", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

talent_reveals = Table(  # 个人信息查看审计
    "talent_reveals",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("talent_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("fields", ARRAY(Text), nullable=False),
    Column("actor", Text, nullable=False),
    Column("actor_username", Text, nullable=False),
    Column("actor_tenant_path", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

talent_archive_entries = Table(  # 电子档案：继续教育、开展的活动、开发的资源
    "talent_archive_entries",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("talent_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("occurred_on", Date),
    Column("hours", Numeric(6, 1)),
    Column("description", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

talent_attachments = Table(  # 电子档案附件（文字、图片、视频）
    "talent_attachments",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("talent_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

talent_imports = Table(  # 汇总表导入任务（进度与逐行错误）
    "talent_imports",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("filename", Text, nullable=False),
    Column("layout", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("total", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("error_count", Integer, nullable=False),
    Column("errors", JSONB, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
)

financing_outcomes = Table(
    "financing_outcomes",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("talent_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("partner_client_id", Text, nullable=False),
    Column("consent_id", UUID(as_uuid=False), nullable=False),
    Column("product", Text, nullable=False),
    Column("amount_yuan", Numeric(14, 2), nullable=False),
    Column("status", Text, nullable=False),
    Column("decided_at", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("idempotency_key", Text),
)

partner_access_log = Table(
    "partner_access_log",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("talent_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("partner_client_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The consent ledger of talents (kepu_common.consent): its table, with the notice's status.
CONSENTS = ConsentLedger("talent_consents", "talent_id", "talents", consent_pb2.SUBJECT_TYPE_TALENT)
talent_consents = CONSENTS.core_table(
    metadata, Column("notified_status", Text, nullable=False, server_default="")
)
