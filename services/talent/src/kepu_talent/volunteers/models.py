"""Tables of i科普 科技志愿服务 (SQLAlchemy Core; DDL and RLS policies in migration 0004)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from ..models import Ltree, metadata

volunteers = Table(  # 科技志愿者：人才库中的人 + 注册承诺
    "volunteers",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column(
        "seq",
        BigInteger,
        nullable=False,
        unique=True,
        server_default=text("nextval('volunteers_seq_seq'::regclass)"),
    ),  # 志愿者编号的流水号
    Column("talent_id", UUID(as_uuid=False), ForeignKey("talents.id"), nullable=False, unique=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("phone_enc", LargeBinary),  # 服务联系电话 (kepu_common.crypto, bound to the row)
    Column("phone_masked", Text, nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("consent_version", Text, nullable=False),  # 承诺书版本
    Column("consent_sha256", Text, nullable=False),  # hash of the very text agreed to
    Column("consented_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("consented_by", Text, nullable=False),
    Column("consented_by_username", Text, nullable=False),
    Column("status", Text, nullable=False),
)

volunteer_orgs = Table(  # 志愿服务队
    "volunteer_orgs",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("name", Text, nullable=False),
    Column("contact_name", Text, nullable=False),
    Column("contact_phone_enc", LargeBinary),
    Column("contact_phone_masked", Text, nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

volunteer_records = Table(  # 志愿服务记录 (under the team's tenant path)
    "volunteer_records",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("org_id", UUID(as_uuid=False), ForeignKey("volunteer_orgs.id"), nullable=False),
    Column("volunteer_id", UUID(as_uuid=False), ForeignKey("volunteers.id"), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("served_on", Date, nullable=False),
    Column("place", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("hours", Numeric(4, 1), nullable=False),
    Column("beneficiaries", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("entered_by", Text, nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_by", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True)),
)

volunteer_days = Table(  # a volunteer's hours per day over all teams (the 24-hour rule)
    "volunteer_days",
    metadata,
    Column("volunteer_id", UUID(as_uuid=False), ForeignKey("volunteers.id"), primary_key=True),
    Column("served_on", Date, primary_key=True),
    Column("tenant_path", Ltree, nullable=False),  # the volunteer's
    Column("hours", Numeric(5, 1), nullable=False),
)
