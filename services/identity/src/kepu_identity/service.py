"""Use cases of the identity service: tenants, users, the audit log and partners.

Each takes the session first and opens no unit of work: the edge (``grpc_api``'s servicers,
``partners.Partners`` for in-process callers) opens one per call in the caller's tenant scope,
and commits or rolls back. Rules come from ``domain``, SQL from ``repository``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kepu_common.errors import AlreadyExists, NotFound, PermissionDenied, Unauthenticated
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import domain, passwords
from . import repository as repo
from .crypto import Sealer
from .egress import Egress
from .models import AuditEntry, Partner, Tenant, User

USER_NOT_VISIBLE = "用户不存在，或不在您的管辖范围内。"

# ---- tenants 单位 ----------------------------------------------------------------------------


def get_tenant(s: Session, caller: Principal, tenant_id: str) -> Tenant:
    """A tenant of the caller's subtree (anything else reads as not found)."""
    domain.check_visible_id(tenant_id)
    row = repo.get_tenant(s, tenant_id)
    if row is None:
        raise NotFound(domain.NOT_VISIBLE)
    return row


def children(s: Session, caller: Principal, tenant_id: str) -> list[Tenant]:
    return repo.children(s, get_tenant(s, caller, tenant_id).id)


def subtree(s: Session, caller: Principal, tenant_id: str, max_depth: int) -> list[Tenant]:
    return repo.subtree(s, get_tenant(s, caller, tenant_id).path, max_depth or None)


def create_tenant(
    s: Session, caller: Principal, parent_id: str, code: str, name: str, kind: str
) -> Tenant:
    """A township, learned society (学会) or member department (成员单位) under the caller's
    own tenant, and its ``identity.tenant.changed`` event."""
    domain.require_admin(caller, "只有本单位管理员可以新建下级单位。")
    parent = get_tenant(s, caller, parent_id)
    new = domain.check_new_tenant(
        caller,
        parent_id=parent.id,
        parent_kind=parent.kind,
        parent_code=parent.code,
        parent_name=parent.name,
        code=code,
        name=name,
        kind=kind,
    )
    if repo.get_tenant_by_code(s, new.code) is not None:
        raise AlreadyExists(f"单位代码 {new.code} 已存在。")
    tid = repo.insert_tenant(
        s,
        code=new.code,
        name=new.name,
        kind=new.kind,
        parent_id=parent.id,
        path=f"{parent.path}.{new.code}",
        actor=caller.subject,
    )
    row = repo.get_tenant(s, tid)
    assert row is not None
    return row


# ---- users 账号 and the audit log 审计日志 ---------------------------------------------------


class RealmUsers(Protocol):
    """What user management needs of Keycloak (``KeycloakProvisioner``) in Keycloak mode."""

    def set_roles(self, username: str, roles: Sequence[str]) -> None: ...

    def unlock(self, username: str) -> None: ...


def _other_user(s: Session, caller: Principal, user_id: str, refusal: str) -> User:
    """A user of the caller's subtree (RLS) who is not the caller."""
    domain.check_visible_id(user_id)  # (a malformed id has always read as the unit 404)
    row = repo.user_by_id(s, user_id)
    if row is None:
        raise NotFound(USER_NOT_VISIBLE)
    if row.id == caller.subject:
        raise PermissionDenied(refusal)
    return row


def unlock_user(
    s: Session, caller: Principal, user_id: str, realm: RealmUsers | None = None
) -> User:
    """Lift a lockout (the failed sign-ins are forgotten); Keycloak's too, in the transaction:
    a refusal there undoes ours."""
    domain.require_admin(caller, "只有管理员可以解除账号锁定。")
    row = _other_user(s, caller, user_id, "不能为自己解除锁定，请联系上级单位管理员。")
    repo.reset_failures(s, row.id)
    if realm is not None:
        realm.unlock(row.username)
    repo.audit(
        s,
        tenant_id=row.tenant_id,
        tenant_path=row.tenant_path,
        action="account_unlocked",
        username=row.username,
        actor=caller.username,
        client_ip=caller.client_ip,
    )
    after = repo.user_by_id(s, row.id)
    assert after is not None
    return after


def list_users(s: Session, caller: Principal, tenant_id: str) -> list[User]:
    return repo.users_of_tenant(s, get_tenant(s, caller, tenant_id or caller.tenant_id).id)


def set_roles(
    s: Session,
    caller: Principal,
    user_id: str,
    roles: list[str],
    realm: RealmUsers | None = None,
) -> User:
    """Another user's roles; Keycloak's tokens carry its roles, so they are set there too."""
    domain.require_admin(caller, "只有管理员可以调整角色。")
    wanted = domain.checked_roles(roles)
    row = _other_user(s, caller, user_id, "不能修改自己的角色。")
    repo.set_roles(s, row.id, wanted)
    if realm is not None:
        realm.set_roles(row.username, wanted)
    repo.audit(
        s,
        tenant_id=row.tenant_id,
        tenant_path=row.tenant_path,
        action="role_changed",
        username=row.username,
        actor=caller.username,
        details={"from": ",".join(row.roles), "to": ",".join(wanted)},
    )
    after = repo.user_by_id(s, row.id)
    assert after is not None
    return after


def audit_entries(
    s: Session, caller: Principal, tenant_id: str, f: repo.AuditFilter
) -> tuple[list[AuditEntry], int]:
    """A page of the audit log of a tenant's subtree, and how many entries match."""
    t = get_tenant(s, caller, tenant_id or caller.tenant_id)
    return repo.audit_entries(s, t.path, f)


# ---- partners 合作机构 -----------------------------------------------------------------------


class PartnerRealm(Protocol):
    """The partner clients in Keycloak mode (``KeycloakProvisioner``)."""

    def ensure_partner_client(
        self,
        client_id: str,
        name: str,
        secret: str,
        scopes: Sequence[str],
        *,
        tenant_id: str,
        tenant_path: str,
        tenant_kind: str,
        tenant_code: str,
        tenant_name: str,
    ) -> None: ...

    def set_client_secret(self, client_id: str, secret: str) -> None: ...

    def disable_client(self, client_id: str) -> None: ...


@dataclass
class PartnerKit:
    """What the partner use cases need besides the session: the service key (webhook secrets
    are sealed with it), Keycloak in Keycloak mode (each change is made there inside the same
    transaction, so a refused call leaves no partner behind) and the webhook egress rules."""

    sealer: Sealer
    realm: PartnerRealm | None = None
    egress: Egress = field(default_factory=Egress)  # public addresses only unless allowed


@dataclass(frozen=True)
class Issued:
    partner: Partner
    client_secret: str
    webhook_secret: str


def register_partner(
    s: Session,
    caller: Principal,
    kit: PartnerKit,
    name: str,
    scopes: list[str],
    webhook_url: str,
    events: list[str],
) -> Issued:
    """A partner of the caller's tenant; its client secret and webhook secret are shown once."""
    domain.require_partner_admin(caller)
    domain.require_registering_tenant(caller)
    reg = domain.validate_partner(name, scopes, webhook_url, events)
    if reg.webhook_url:
        kit.egress.check_url(reg.webhook_url)
    secret, webhook_secret = domain.new_client_secret(), domain.new_webhook_secret()
    tenant = repo.get_tenant(s, caller.tenant_id)
    if tenant is None or tenant.path != caller.tenant_path:
        raise NotFound("本单位不存在。")
    client_id = domain.new_client_id(tenant.code)
    repo.insert_partner(
        s,
        client_id=client_id,
        tenant_id=tenant.id,
        tenant_path=tenant.path,
        name=reg.name,
        scopes=reg.scopes,
        webhook_url=reg.webhook_url,
        events=reg.events,
        secret_hash=passwords.hash_password(secret),
        sealed_webhook_secret=kit.sealer.seal(
            webhook_secret.encode(), domain.seal_context(client_id)
        ),
        by=caller.username,
    )
    repo.audit(
        s,
        tenant_id=tenant.id,
        tenant_path=tenant.path,
        action="partner_registered",
        actor=caller.username,
        details={
            "client_id": client_id,
            "name": reg.name,
            "scopes": ",".join(reg.scopes),
            "events": ",".join(reg.events),
            "webhook_url": reg.webhook_url,
        },
    )
    if kit.realm is not None:
        kit.realm.ensure_partner_client(
            client_id,
            reg.name,
            secret,
            reg.scopes,
            tenant_id=tenant.id,
            tenant_path=tenant.path,
            tenant_kind=tenant.kind,
            tenant_code=tenant.code,
            tenant_name=tenant.name,
        )
    row = repo.get_partner(s, client_id)
    assert row is not None
    return Issued(row, secret, webhook_secret)


def list_partners(s: Session, caller: Principal) -> list[Partner]:
    """The partners registered by the caller's own tenant."""
    domain.require_partner_admin(caller)
    return repo.partners_of(s, caller.tenant_path)


def _own_partner(s: Session, caller: Principal, client_id: str) -> Partner:
    row = repo.get_partner(s, client_id) if domain.is_client_id(client_id) else None
    if row is None or row.tenant_path != caller.tenant_path:
        raise NotFound(domain.PARTNER_NOT_OWN)
    return row


def rotate_partner_secret(s: Session, caller: Principal, kit: PartnerKit, client_id: str) -> Issued:
    domain.require_partner_admin(caller)
    secret = domain.new_client_secret()
    row = _own_partner(s, caller, client_id)
    if not row.enabled:
        raise NotFound("合作机构已停用，不能重置密钥。")
    repo.set_partner_secret(s, client_id, passwords.hash_password(secret))
    repo.audit(
        s,
        tenant_id=row.tenant_id,
        tenant_path=row.tenant_path,
        action="partner_secret_rotated",
        actor=caller.username,
        details={"client_id": client_id, "name": row.name},
    )
    if kit.realm is not None:
        kit.realm.set_client_secret(client_id, secret)
    after = repo.get_partner(s, client_id)
    assert after is not None
    return Issued(after, secret, "")


def disable_partner(s: Session, caller: Principal, kit: PartnerKit, client_id: str) -> Partner:
    domain.require_partner_admin(caller)
    row = _own_partner(s, caller, client_id)
    repo.disable_partner(s, client_id)
    if row.enabled:
        repo.audit(
            s,
            tenant_id=row.tenant_id,
            tenant_path=row.tenant_path,
            action="partner_disabled",
            actor=caller.username,
            details={"client_id": client_id, "name": row.name},
        )
    if kit.realm is not None:
        kit.realm.disable_client(client_id)
    after = repo.get_partner(s, client_id)
    assert after is not None
    return after


def current_partner(s: Session, caller: Principal) -> Partner:
    """The calling partner's own registration, asked on every partner request: a disabled (or
    unknown) client's tokens stop working at once, whoever issued them (embedded provider or
    Keycloak; the client id is the token's ``azp``)."""
    client_id = caller.client_id
    row = repo.get_partner(s, client_id) if domain.is_client_id(client_id) else None
    if row is None or not row.enabled or row.tenant_path != caller.tenant_path:
        raise Unauthenticated(
            "贵机构的接入已停用或未登记，访问令牌已失效；请联系登记贵机构的科协。"
        )
    return row


def resolve_partner(s: Session, caller: Principal, client_id: str) -> Partner:
    """An enabled partner of the caller's lineage: registered by the caller's tenant, an
    ancestor (a county records consent for the province's bank) or a descendant. ``s`` is
    scoped to the caller's root (``lineage_scope``), so ancestors' partners are visible."""
    if "partner" in caller.roles:
        raise PermissionDenied("合作机构不能查询合作机构。")
    row = repo.get_partner(s, client_id) if domain.is_client_id(client_id) else None
    if (
        row is None
        or not row.enabled
        or not domain.same_lineage(caller.tenant_path, row.tenant_path)
    ):
        raise NotFound("合作机构不存在、已停用，或不是本单位及上级科协登记的。")
    return row


def lineage_scope(caller: Principal) -> str:
    """The tenant path a partner look-up runs under: the root of the caller's tree."""
    return caller.tenant_path.split(".")[0]
