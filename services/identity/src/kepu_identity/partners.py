"""Partners 合作机构 (banks, seed 000 "银会合作"): confidential OAuth2 clients of a tenant.

A province or city admin registers a partner with the scopes it may use and, optionally, a
webhook for the events it subscribes to. The client secret (argon2 hash) and the webhook
secret (sealed with the service key) are shown once. Partners are tenant-owned rows
(``partners``, RLS on ``tenant_path``); the matching ``clients`` row carries the tenant id,
so that a client-credentials token carries the registering tenant's claims.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from kepu.identity.v1 import identity_pb2 as pb
from kepu.identity.v1 import identity_pb2_grpc as pbg
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from kepu_common.grpcio import Servicer, bearer
from kepu_common.tenancy import Principal, is_descendant_or_self
from kepu_common.times import shanghai_iso
from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from . import passwords
from . import repository as repo
from .crypto import Sealer
from .egress import Egress

SCOPES = ("partner:talents:read", "partner:projects:read", "partner:financing:write")
EVENTS = ("talent.certified", "talent.revoked", "project.approved")
REGISTERING_KINDS = frozenset({"province", "city"})
CLIENT_ID_RE = re.compile(r"^partner-[0-9a-z]{4,12}-[0-9a-f]{8}$")

PARTNER_COLS = (
    "p.client_id, p.name, p.tenant_id::text AS tenant_id, p.tenant_path::text AS tenant_path,"
    " p.scopes, p.webhook_url, p.events, p.enabled, p.created_at, p.secret_rotated_at,"
    " t.name AS tenant_name"
)


@dataclass(frozen=True)
class Registration:  # 合作机构登记（已校验）
    name: str
    scopes: list[str]
    webhook_url: str
    events: list[str]


@dataclass(frozen=True)
class Issued:
    partner: Row[Any]
    client_secret: str
    webhook_secret: str


def validate(name: str, scopes: list[str], webhook_url: str, events: list[str]) -> Registration:
    """The registration rules, without I/O (every message in Chinese)."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 100:
        raise InvalidArgument("请填写合作机构名称（2到100个字）。")
    if not scopes:
        raise InvalidArgument("请至少选择一项接口权限（scopes）。")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidArgument(
            f"接口权限“{'、'.join(unknown)}”不允许；只能是 {'、'.join(SCOPES)} 中的若干项。"
        )
    bad_events = [e for e in events if e not in EVENTS]
    if bad_events:
        raise InvalidArgument(
            f"订阅事件“{'、'.join(bad_events)}”不存在；只能是 {'、'.join(EVENTS)} 中的若干项。"
        )
    url = (webhook_url or "").strip()
    if url:
        check_webhook_url(url)
    if events and not url:
        raise InvalidArgument("订阅事件需要同时提供回调地址（webhook_url）。")
    return Registration(
        name, [s for s in SCOPES if s in scopes], url, [e for e in EVENTS if e in events]
    )


def check_webhook_url(url: str) -> None:
    if len(url) > 500:
        raise InvalidArgument("回调地址过长（不超过500个字符）。")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidArgument("回调地址格式不正确。") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument("回调地址必须是 http:// 或 https:// 开头的完整网址。")
    if parts.username or parts.password:
        raise InvalidArgument("回调地址中不能包含用户名或密码。")
    if parts.fragment or any(c.isspace() for c in url):
        raise InvalidArgument("回调地址格式不正确（不能含空格或 # 片段）。")
    if port == 0:
        raise InvalidArgument("回调地址的端口不正确。")


def new_client_id(tenant_code: str) -> str:
    return f"partner-{tenant_code.lower()}-{secrets.token_hex(4)}"


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def seal_context(client_id: str) -> bytes:
    return f"webhook:{client_id}".encode()


def get_partner(s: Session, client_id: str) -> Row[Any] | None:
    """A partner by client id, as far as the transaction's scope (RLS) and the caller see."""
    return s.execute(
        text(
            f"SELECT {PARTNER_COLS} FROM partners p JOIN tenants t ON t.id = p.tenant_id"
            " WHERE p.client_id = :c"
        ),
        {"c": client_id},
    ).first()


def webhook_target(s: Session, client_id: str) -> Row[Any] | None:
    """Webhook URL, sealed secret and subscriptions of an enabled partner (worker, system scope)."""
    return s.execute(
        text(
            "SELECT client_id, tenant_path::text AS tenant_path, webhook_url, webhook_secret, events"
            " FROM partners WHERE client_id = :c AND enabled"
        ),
        {"c": client_id},
    ).first()


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


class Partners:
    """Registration, rotation and disabling; with Keycloak (``realm``), each change is made
    there inside the same transaction, so a refused Keycloak call leaves no partner behind."""

    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        realm: PartnerRealm | None = None,
        egress: Egress | None = None,
    ) -> None:
        self.db = db
        self.sealer = sealer
        self.realm = realm
        self.egress = egress or Egress()  # webhooks to public addresses only unless allowed

    @staticmethod
    def require_admin(caller: Principal) -> None:
        if "partner" in caller.roles:
            raise PermissionDenied("合作机构不能管理合作机构。")
        if not caller.has_role("admin"):
            raise PermissionDenied("只有管理员可以管理合作机构。")

    def register(
        self,
        caller: Principal,
        name: str,
        scopes: list[str],
        webhook_url: str,
        events: list[str],
    ) -> Issued:
        self.require_admin(caller)
        if caller.tenant_kind not in REGISTERING_KINDS:
            raise PermissionDenied("只有省级或市级科协可以登记合作机构。")
        reg = validate(name, scopes, webhook_url, events)
        if reg.webhook_url:
            self.egress.check_url(reg.webhook_url)
        secret, webhook_secret = new_client_secret(), new_webhook_secret()
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            tenant = repo.get_tenant(s, caller.tenant_id)
            if tenant is None or tenant.path != caller.tenant_path:
                raise NotFound("本单位不存在。")
            client_id = new_client_id(tenant.code)
            s.execute(
                text(
                    "INSERT INTO clients (client_id, name, public, secret_hash, redirect_uris,"
                    " grant_types, scopes, tenant_id) VALUES (:c, :n, false, :h, '{}',"
                    " '{client_credentials}', :s, CAST(:t AS uuid))"
                ),
                {
                    "c": client_id,
                    "n": reg.name,
                    "h": passwords.hash_password(secret),
                    "s": reg.scopes,
                    "t": tenant.id,
                },
            )
            s.execute(
                text(
                    "INSERT INTO partners (client_id, tenant_id, tenant_path, name, scopes,"
                    " webhook_url, events, webhook_secret, created_by) VALUES (:c, CAST(:t AS uuid),"
                    " CAST(:p AS ltree), :n, :s, :u, :e, :w, :by)"
                ),
                {
                    "c": client_id,
                    "t": tenant.id,
                    "p": tenant.path,
                    "n": reg.name,
                    "s": reg.scopes,
                    "u": reg.webhook_url,
                    "e": reg.events,
                    "w": self.sealer.seal(webhook_secret.encode(), seal_context(client_id)),
                    "by": caller.username,
                },
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
            if self.realm is not None:
                self.realm.ensure_partner_client(
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
            row = get_partner(s, client_id)
        assert row is not None
        return Issued(row, secret, webhook_secret)

    def list(self, caller: Principal) -> list[Row[Any]]:
        """The partners registered by the caller's own tenant."""
        self.require_admin(caller)
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            return list(
                s.execute(
                    text(
                        f"SELECT {PARTNER_COLS} FROM partners p JOIN tenants t ON t.id = p.tenant_id"
                        " WHERE p.tenant_path = CAST(:p AS ltree) ORDER BY p.created_at"
                    ),
                    {"p": caller.tenant_path},
                )
            )

    def _own(self, s: Session, caller: Principal, client_id: str) -> Row[Any]:
        row = get_partner(s, client_id) if CLIENT_ID_RE.match(client_id or "") else None
        if row is None or row.tenant_path != caller.tenant_path:
            raise NotFound("合作机构不存在，或不是本单位登记的。")
        return row

    def rotate_secret(self, caller: Principal, client_id: str) -> Issued:
        self.require_admin(caller)
        secret = new_client_secret()
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            row = self._own(s, caller, client_id)
            if not row.enabled:
                raise NotFound("合作机构已停用，不能重置密钥。")
            s.execute(
                text("UPDATE clients SET secret_hash = :h WHERE client_id = :c"),
                {"h": passwords.hash_password(secret), "c": client_id},
            )
            s.execute(
                text("UPDATE partners SET secret_rotated_at = now() WHERE client_id = :c"),
                {"c": client_id},
            )
            repo.audit(
                s,
                tenant_id=row.tenant_id,
                tenant_path=row.tenant_path,
                action="partner_secret_rotated",
                actor=caller.username,
                details={"client_id": client_id, "name": row.name},
            )
            if self.realm is not None:
                self.realm.set_client_secret(client_id, secret)
            after = get_partner(s, client_id)
        assert after is not None
        return Issued(after, secret, "")

    def disable(self, caller: Principal, client_id: str) -> Row[Any]:
        self.require_admin(caller)
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            row = self._own(s, caller, client_id)
            s.execute(
                text("UPDATE clients SET enabled = false WHERE client_id = :c"), {"c": client_id}
            )
            s.execute(
                text(
                    "UPDATE partners SET enabled = false, disabled_at = coalesce(disabled_at, now())"
                    " WHERE client_id = :c"
                ),
                {"c": client_id},
            )
            if row.enabled:
                repo.audit(
                    s,
                    tenant_id=row.tenant_id,
                    tenant_path=row.tenant_path,
                    action="partner_disabled",
                    actor=caller.username,
                    details={"client_id": client_id, "name": row.name},
                )
            if self.realm is not None:
                self.realm.disable_client(client_id)
            after = get_partner(s, client_id)
        assert after is not None
        return after

    def current(self, caller: Principal) -> Row[Any]:
        """The calling partner's own registration, asked on every partner request: a
        disabled (or unknown) client's tokens stop working at once, whoever issued them
        (embedded provider or Keycloak; the client id is the token's ``azp``)."""
        client_id = caller.client_id
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            row = get_partner(s, client_id) if CLIENT_ID_RE.match(client_id or "") else None
        if row is None or not row.enabled or row.tenant_path != caller.tenant_path:
            raise Unauthenticated(
                "贵机构的接入已停用或未登记，访问令牌已失效；请联系登记贵机构的科协。"
            )
        return row

    def resolve(self, caller: Principal, client_id: str) -> Row[Any]:
        """An enabled partner of the caller's lineage: registered by the caller's tenant, an
        ancestor (a county records consent for the province's bank) or a descendant."""
        if "partner" in caller.roles:
            raise PermissionDenied("合作机构不能查询合作机构。")
        root = caller.tenant_path.split(".")[0]
        with self.db.unit_of_work(Scope.tenant(root)) as s:
            row = get_partner(s, client_id) if CLIENT_ID_RE.match(client_id or "") else None
        if (
            row is None
            or not row.enabled
            or not (
                is_descendant_or_self(caller.tenant_path, row.tenant_path)
                or is_descendant_or_self(row.tenant_path, caller.tenant_path)
            )
        ):
            raise NotFound("合作机构不存在、已停用，或不是本单位及上级科协登记的。")
        return row


class StaffTokenVerifier(TokenVerifier):
    """The identity service's verifier: a partner's token only works on the partner API."""

    def principal(self, token: str) -> Principal:
        p = super().principal(token)
        if "partner" in p.roles:
            raise PermissionDenied("合作机构的令牌只能访问 /partner/v1 接口。")
        return p


def partner_msg(r: Any) -> pb.Partner:
    return pb.Partner(
        client_id=r.client_id,
        name=r.name,
        tenant_id=r.tenant_id,
        tenant_path=r.tenant_path,
        tenant_name=r.tenant_name,
        scopes=list(r.scopes),
        webhook_url=r.webhook_url,
        events=list(r.events),
        enabled=bool(r.enabled),
        created_at=shanghai_iso(r.created_at),
        secret_rotated_at=shanghai_iso(r.secret_rotated_at),
    )


def credentials_msg(issued: Issued) -> pb.PartnerCredentials:
    return pb.PartnerCredentials(
        partner=partner_msg(issued.partner),
        client_secret=issued.client_secret,
        webhook_secret=issued.webhook_secret,
    )


class PartnerServicer(Servicer, pbg.PartnerServiceServicer):
    """gRPC: proto <-> ``Partners``."""

    def __init__(self, verifier: TokenVerifier, partners_: Partners) -> None:
        super().__init__(verifier)
        self.partners = partners_

    def RegisterPartner(
        self, request: pb.RegisterPartnerRequest, context: grpc.ServicerContext
    ) -> pb.PartnerCredentials:
        return self.call(
            context,
            lambda: credentials_msg(
                self.partners.register(
                    self.principal(context),
                    request.name,
                    list(request.scopes),
                    request.webhook_url,
                    list(request.events),
                )
            ),
        )

    def ListPartners(
        self, request: pb.ListPartnersRequest, context: grpc.ServicerContext
    ) -> pb.ListPartnersResponse:
        return self.call(
            context,
            lambda: pb.ListPartnersResponse(
                partners=[partner_msg(r) for r in self.partners.list(self.principal(context))]
            ),
        )

    def RotatePartnerSecret(
        self, request: pb.PartnerRef, context: grpc.ServicerContext
    ) -> pb.PartnerCredentials:
        return self.call(
            context,
            lambda: credentials_msg(
                self.partners.rotate_secret(self.principal(context), request.client_id)
            ),
        )

    def DisablePartner(self, request: pb.PartnerRef, context: grpc.ServicerContext) -> pb.Partner:
        return self.call(
            context,
            lambda: partner_msg(self.partners.disable(self.principal(context), request.client_id)),
        )

    def ResolvePartner(self, request: pb.PartnerRef, context: grpc.ServicerContext) -> pb.Partner:
        """Staff resolve a partner of their lineage; a partner resolves itself (the gateway
        asks this with the partner's own token on every /partner/v1 request)."""

        def run() -> pb.Partner:
            # The base verification, without the staff-only refusal of StaffTokenVerifier.
            caller = TokenVerifier.principal(self.verifier, bearer(context))
            if "partner" not in caller.roles:
                return partner_msg(self.partners.resolve(caller, request.client_id))
            if request.client_id and request.client_id != caller.client_id:
                raise PermissionDenied("合作机构不能查询其他合作机构。")
            return partner_msg(self.partners.current(caller))

        return self.call(context, run)
