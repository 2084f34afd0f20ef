"""Tables of the identity service (SQLAlchemy Core) and the row shapes read from them.

The DDL and RLS policies are in ``migrations/versions``; ``metadata`` is the migrations'
``target_metadata`` and ``tests/test_identity_models.py`` keeps it equal to a migrated database.

``tenants``, ``users``, ``password_history``, ``credential_batches/items``, ``partners``,
``webhook_deliveries`` and ``audit_log`` carry ``tenant_path ltree`` under row-level security;
``signing_keys``, ``clients``, ``auth_codes`` and ``sso_sessions`` are the embedded OpenID
Connect provider's mechanism tables, read in the system scope only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kepu_common.tables import Ltree, outbox_tables
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from . import passwords

# Tables: what the migrations create (tests/test_identity_models.py keeps the two equal).
metadata = MetaData()

outbox, processed_events, relay_state = outbox_tables(metadata)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("tenant_path", Ltree, nullable=False),
    Column("action", Text, nullable=False),
    Column("username", Text, nullable=False, server_default=""),
    Column("actor", Text, nullable=False, server_default=""),
    Column("client_ip", Text, nullable=False, server_default=""),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("object", Text, nullable=False, server_default=""),
)


auth_codes = Table(
    "auth_codes",
    metadata,
    Column("code_hash", Text, primary_key=True),
    Column("client_id", Text, nullable=False),
    Column("user_id", UUID(as_uuid=False), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", Text),
    Column("code_challenge_method", Text),
    Column("scope", Text, nullable=False),
    Column("nonce", Text),
    Column("session_id", UUID(as_uuid=False), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used", Boolean, nullable=False, server_default=text("false")),
)


clients = Table(
    "clients",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("public", Boolean, nullable=False),
    Column("secret_hash", Text),
    Column("redirect_uris", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("grant_types", ARRAY(Text), nullable=False),
    Column("scopes", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("tenant_id", UUID(as_uuid=False)),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
)


credential_batches = Table(
    "credential_batches",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("scope", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="running"),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
)


credential_items = Table(
    "credential_items",
    metadata,
    Column("batch_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_path", Ltree, nullable=False),
    Column("username", Text, nullable=False),
    Column("sealed_password", LargeBinary),
    Column("status", Text, nullable=False, server_default="pending"),
)


partners = Table(
    "partners",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("name", Text, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("webhook_url", Text, nullable=False, server_default=""),
    Column("events", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("webhook_secret", LargeBinary, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("secret_rotated_at", DateTime(timezone=True)),
    Column("disabled_at", DateTime(timezone=True)),
)


password_history = Table(
    "password_history",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", Text, primary_key=True),
    Column("alg", Text, nullable=False),
    Column("private_key", LargeBinary, nullable=False),
    Column("public_jwk", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


sso_sessions = Table(
    "sso_sessions",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("user_id", UUID(as_uuid=False), nullable=False),
    Column("client_id", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("refresh_hash", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_refresh", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked", Boolean, nullable=False, server_default=text("false")),
)


tenants = Table(
    "tenants",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("parent_id", UUID(as_uuid=False)),
    Column("tenant_path", Ltree, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", UUID(as_uuid=False), nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("username", Text, nullable=False),
    Column("display_name", Text, nullable=False, server_default=""),
    Column("email", Text),
    Column("password_hash", Text, nullable=False),
    Column("must_change_password", Boolean, nullable=False, server_default=text("true")),
    Column("roles", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("is_tenant_admin", Boolean, nullable=False, server_default=text("false")),
    Column("failed_count", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True)),
    Column("totp_secret", LargeBinary),
    Column("totp_enabled", Boolean, nullable=False, server_default=text("false")),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("external_id", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("password_changed_at", DateTime(timezone=True)),
)


webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("client_id", Text, nullable=False),
    Column("tenant_path", Ltree, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_status_code", Integer),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
)


# Row shapes read from the tables.


@dataclass(frozen=True)
class Tenant:  # 单位（租户）: a province, city, county, township, learned society or department
    id: str
    code: str
    name: str
    kind: str
    path: str
    parent_id: str = ""
    status: str = "active"
    has_admin: bool = False
    child_count: int = 0


@dataclass(frozen=True)
class User:  # 账号: a person of a tenant (its admin, reviewer, reporter or viewer)
    id: str
    tenant_id: str
    tenant_path: str
    username: str
    display_name: str
    email: str | None
    password_hash: str
    must_change_password: bool
    roles: list[str]
    is_tenant_admin: bool
    failed_count: int
    locked_until: datetime | None
    locked: bool
    totp_secret: bytes | None
    totp_enabled: bool
    enabled: bool
    tenant_kind: str
    tenant_name: str
    tenant_code: str


@dataclass(frozen=True)
class Client:  # an OAuth2 client of the realm: kepu-portal, kepu-cli or a partner
    client_id: str
    public: bool
    secret_hash: str | None
    redirect_uris: list[str]
    grant_types: list[str]
    tenant_id: str | None
    scopes: list[str] = field(default_factory=list)  # partner scopes granted at registration

    def allows_redirect(self, uri: str) -> bool:
        """Exact matches only: a registered ``*`` pattern matches nothing (no wildcards)."""
        return bool(uri) and uri in self.redirect_uris

    def check_secret(self, secret: str | None) -> bool:
        if self.public:
            return True
        return bool(
            secret and self.secret_hash and passwords.verify_password(self.secret_hash, secret)
        )


@dataclass(frozen=True)
class Partner:  # 合作机构 (a bank of 银会合作), registered by a province or city
    client_id: str
    name: str
    tenant_id: str
    tenant_path: str
    scopes: list[str]
    webhook_url: str
    events: list[str]
    enabled: bool
    created_at: datetime
    secret_rotated_at: datetime | None
    tenant_name: str


@dataclass(frozen=True)
class WebhookTarget:  # where an enabled partner's notices go, with its sealed secret
    client_id: str
    tenant_path: str
    webhook_url: str
    webhook_secret: bytes
    events: list[str]


@dataclass(frozen=True)
class CredentialItem:  # one account of a distribution batch (账号分配)
    tenant_id: str
    path: str
    username: str
    code: str
    name: str
    kind: str
    sealed_password: bytes | None = None


@dataclass(frozen=True)
class AuditEntry:  # 审计日志 one entry
    id: str
    occurred_at: datetime
    action: str
    username: str
    actor: str
    client_ip: str
    object: str
    tenant_path: str
    details: str  # JSON text


@dataclass(frozen=True)
class AuthCode:  # a one-time authorization code of the browser login
    client_id: str
    user_id: str
    redirect_uri: str
    code_challenge: str | None
    scope: str
    nonce: str | None
    session_id: str


@dataclass(frozen=True)
class SsoSession:  # an SSO session (refresh token family)
    id: str
    user_id: str
    client_id: str
    scope: str
    revoked: bool
    idle: float  # seconds since the last refresh
