"""Row shapes of the identity tables (the DDL is in ``migrations/versions``).

``tenants``, ``users``, ``password_history``, ``credential_batches/items``, ``partners``,
``webhook_deliveries`` and ``audit_log`` carry ``tenant_path ltree`` under row-level security;
``signing_keys``, ``clients``, ``auth_codes`` and ``sso_sessions`` are the embedded OpenID
Connect provider's mechanism tables, read in the system scope only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from . import passwords


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
