"""gRPC servicers of the identity service: proto <-> use cases, nothing else.

The edge owns the transaction: ``_run`` verifies the caller and opens one unit of work in
the caller's tenant scope (``kepu_common.grpcio.Servicer.in_tenant``). Two calls differ on
purpose: ``DistributeCredentials`` runs a batch that commits chunk by chunk (``credentials``),
and ``ResolvePartner`` reads under the root of the caller's tree (ancestors' partners).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import grpc
from kepu.identity.v1 import identity_pb2 as pb
from kepu.identity.v1 import identity_pb2_grpc as pbg
from kepu_common import metrics
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.errors import InvalidArgument, PermissionDenied
from kepu_common.grpcio import Servicer, bearer
from kepu_common.tenancy import Principal
from kepu_common.times import SHANGHAI
from sqlalchemy.orm import Session

from . import domain, service
from . import repository as repo
from .credentials import CredentialDistributor
from .messages import audit_entry_msg, credentials_msg, partner_msg, tenant_msg, user_msg
from .service import RealmUsers

if TYPE_CHECKING:
    from .partners import Partners

T = TypeVar("T")


class _Edge(Servicer):
    def __init__(self, verifier: TokenVerifier, db: Database) -> None:
        super().__init__(verifier)
        self.db = db

    def _run(self, context: grpc.ServicerContext, fn: Callable[[Session, Principal], T]) -> T:
        return self.in_tenant(context, self.db, fn)


class TenantServicer(_Edge, pbg.TenantServiceServicer):
    def GetMyTenant(
        self, request: pb.GetMyTenantRequest, context: grpc.ServicerContext
    ) -> pb.Tenant:
        return self._run(context, lambda s, p: tenant_msg(service.get_tenant(s, p, p.tenant_id)))

    def GetTenant(self, request: pb.GetTenantRequest, context: grpc.ServicerContext) -> pb.Tenant:
        return self._run(
            context, lambda s, p: tenant_msg(service.get_tenant(s, p, request.tenant_id))
        )

    def ListChildren(
        self, request: pb.ListChildrenRequest, context: grpc.ServicerContext
    ) -> pb.ListChildrenResponse:
        return self._run(
            context,
            lambda s, p: pb.ListChildrenResponse(
                tenants=[tenant_msg(r) for r in service.children(s, p, request.tenant_id)]
            ),
        )

    def ListSubtree(
        self, request: pb.ListSubtreeRequest, context: grpc.ServicerContext
    ) -> pb.ListChildrenResponse:
        return self._run(
            context,
            lambda s, p: pb.ListChildrenResponse(
                tenants=[
                    tenant_msg(r)
                    for r in service.subtree(s, p, request.tenant_id, request.max_depth)
                ]
            ),
        )

    def CreateTenant(
        self, request: pb.CreateTenantRequest, context: grpc.ServicerContext
    ) -> pb.Tenant:
        return self._run(
            context,
            lambda s, p: tenant_msg(
                service.create_tenant(
                    s, p, request.parent_id, request.code, request.name, request.kind
                )
            ),
        )


class CredentialServicer(Servicer, pbg.CredentialServiceServicer):
    """A distribution is a batch committed chunk by chunk (an interrupted one resumes), so the
    distributor opens its own units of work; this edge only verifies and translates."""

    def __init__(self, verifier: TokenVerifier, distributor: CredentialDistributor) -> None:
        super().__init__(verifier)
        self.distributor = distributor

    def DistributeCredentials(
        self, request: pb.DistributeCredentialsRequest, context: grpc.ServicerContext
    ) -> pb.DistributeCredentialsResponse:
        def run() -> pb.DistributeCredentialsResponse:
            caller = self.principal(context)
            domain.check_visible_id(request.tenant_id)
            for rid in request.reset_tenant_ids:
                domain.check_visible_id(rid)
            if request.branch_tenant_id:
                domain.check_visible_id(request.branch_tenant_id)
            with metrics.timed(metrics.distribution_duration, scope=request.scope or "subtree"):
                res = self.distributor.distribute(
                    caller,
                    request.tenant_id,
                    request.scope or "subtree",
                    list(request.reset_tenant_ids),
                    branch_tenant_id=request.branch_tenant_id,
                )
            return pb.DistributeCredentialsResponse(
                batch_id=res.batch_id,
                skipped=res.skipped,
                sheet_xlsx=res.sheet,
                slips_docx=res.slips,
                issued=[
                    pb.IssuedCredential(
                        tenant_id=tid,
                        tenant_code=r.tenant_code,
                        tenant_name=r.tenant_name,
                        username=r.username,
                        initial_password=r.password,
                    )
                    for tid, r in zip(res.issued_ids, res.issued, strict=True)
                ],
            )

        return self.call(context, run)


class UserServicer(_Edge, pbg.UserServiceServicer):
    def __init__(
        self, verifier: TokenVerifier, db: Database, realm: RealmUsers | None = None
    ) -> None:
        super().__init__(verifier, db)
        self.realm = realm  # Keycloak: roles and lockouts live there too

    def UnlockUser(self, request: pb.UnlockUserRequest, context: grpc.ServicerContext) -> pb.User:
        return self._run(
            context, lambda s, p: user_msg(service.unlock_user(s, p, request.user_id, self.realm))
        )

    def ListUsers(
        self, request: pb.ListUsersRequest, context: grpc.ServicerContext
    ) -> pb.ListUsersResponse:
        return self._run(
            context,
            lambda s, p: pb.ListUsersResponse(
                users=[user_msg(r) for r in service.list_users(s, p, request.tenant_id)]
            ),
        )

    def SetRoles(self, request: pb.SetRolesRequest, context: grpc.ServicerContext) -> pb.User:
        return self._run(
            context,
            lambda s, p: user_msg(
                service.set_roles(s, p, request.user_id, list(request.roles), self.realm)
            ),
        )

    def ListAudit(
        self, request: pb.ListAuditRequest, context: grpc.ServicerContext
    ) -> pb.ListAuditResponse:
        def run(s: Session, p: Principal) -> pb.ListAuditResponse:
            f = repo.AuditFilter(
                action=request.action.strip(),
                username=request.username.strip(),
                since=_audit_time(request.since, "起始时间"),
                until=_audit_time(request.until, "截止时间"),
                limit=min(max(request.limit or 100, 1), 1000),
                offset=max(request.offset, 0),
            )
            rows, total = service.audit_entries(s, p, request.tenant_id, f)
            return pb.ListAuditResponse(entries=[audit_entry_msg(r) for r in rows], total=total)

        return self._run(context, run)


def _audit_time(value: str, label: str) -> datetime | None:
    """An ISO 8601 filter time; without an offset it is read as Asia/Shanghai."""
    if not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidArgument(
            f"{label}格式不正确，请使用 ISO 8601（如 2026-12-01T08:00:00+08:00）。"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=SHANGHAI)


class PartnerServicer(_Edge, pbg.PartnerServiceServicer):
    """gRPC: proto <-> the partner use cases, with the registry's key, realm and egress."""

    def __init__(self, verifier: TokenVerifier, partners: Partners) -> None:
        super().__init__(verifier, partners.db)
        self.kit = partners

    def RegisterPartner(
        self, request: pb.RegisterPartnerRequest, context: grpc.ServicerContext
    ) -> pb.PartnerCredentials:
        return self._run(
            context,
            lambda s, p: credentials_msg(
                service.register_partner(
                    s,
                    p,
                    self.kit,
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
        return self._run(
            context,
            lambda s, p: pb.ListPartnersResponse(
                partners=[partner_msg(r) for r in service.list_partners(s, p)]
            ),
        )

    def RotatePartnerSecret(
        self, request: pb.PartnerRef, context: grpc.ServicerContext
    ) -> pb.PartnerCredentials:
        return self._run(
            context,
            lambda s, p: credentials_msg(
                service.rotate_partner_secret(s, p, self.kit, request.client_id)
            ),
        )

    def DisablePartner(self, request: pb.PartnerRef, context: grpc.ServicerContext) -> pb.Partner:
        return self._run(
            context,
            lambda s, p: partner_msg(service.disable_partner(s, p, self.kit, request.client_id)),
        )

    def ResolvePartner(self, request: pb.PartnerRef, context: grpc.ServicerContext) -> pb.Partner:
        """Staff resolve a partner of their lineage; a partner resolves itself (the gateway
        asks this with the partner's own token on every /partner/v1 request)."""

        def run() -> pb.Partner:
            # The base verification, without the staff-only refusal of StaffTokenVerifier.
            caller = TokenVerifier.principal(self.verifier, bearer(context))
            if "partner" not in caller.roles:
                with self.db.unit_of_work(Scope.tenant(service.lineage_scope(caller))) as s:
                    return partner_msg(service.resolve_partner(s, caller, request.client_id))
            if request.client_id and request.client_id != caller.client_id:
                raise PermissionDenied("合作机构不能查询其他合作机构。")
            with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
                return partner_msg(service.current_partner(s, caller))

        return self.call(context, run)
