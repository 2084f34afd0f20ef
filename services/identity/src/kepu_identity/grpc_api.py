"""gRPC servicers of the identity service: proto <-> use cases, nothing else."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import grpc
from kepu.identity.v1 import identity_pb2 as pb
from kepu.identity.v1 import identity_pb2_grpc as pbg
from kepu_common import metrics
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.grpcio import Servicer
from kepu_common.times import SHANGHAI, shanghai_iso

from . import audit
from . import repository as repo
from .credentials import CredentialDistributor
from .tenants import Tenants, _uuid

ROLES = {"admin", "reviewer", "reporter", "viewer"}


def tenant_msg(r: Any) -> pb.Tenant:
    return pb.Tenant(
        id=r.id,
        code=r.code,
        name=r.name,
        kind=r.kind,
        parent_id=r.parent_id,
        path=r.path,
        status=r.status,
        has_admin=bool(r.has_admin),
        child_count=int(r.child_count),
    )


class TenantServicer(Servicer, pbg.TenantServiceServicer):
    def __init__(self, verifier: TokenVerifier, tenants: Tenants) -> None:
        super().__init__(verifier)
        self.tenants = tenants

    def GetMyTenant(
        self, request: pb.GetMyTenantRequest, context: grpc.ServicerContext
    ) -> pb.Tenant:
        return self.call(context, lambda: tenant_msg(self.tenants.me(self.principal(context))))

    def GetTenant(self, request: pb.GetTenantRequest, context: grpc.ServicerContext) -> pb.Tenant:
        return self.call(
            context,
            lambda: tenant_msg(self.tenants.get(self.principal(context), request.tenant_id)),
        )

    def ListChildren(
        self, request: pb.ListChildrenRequest, context: grpc.ServicerContext
    ) -> pb.ListChildrenResponse:
        def run() -> pb.ListChildrenResponse:
            rows = self.tenants.children(self.principal(context), request.tenant_id)
            return pb.ListChildrenResponse(tenants=[tenant_msg(r) for r in rows])

        return self.call(context, run)

    def ListSubtree(
        self, request: pb.ListSubtreeRequest, context: grpc.ServicerContext
    ) -> pb.ListChildrenResponse:
        def run() -> pb.ListChildrenResponse:
            rows = self.tenants.subtree(
                self.principal(context), request.tenant_id, request.max_depth
            )
            return pb.ListChildrenResponse(tenants=[tenant_msg(r) for r in rows])

        return self.call(context, run)

    def CreateTenant(
        self, request: pb.CreateTenantRequest, context: grpc.ServicerContext
    ) -> pb.Tenant:
        return self.call(
            context,
            lambda: tenant_msg(
                self.tenants.create(
                    self.principal(context),
                    request.parent_id,
                    request.code,
                    request.name,
                    request.kind,
                )
            ),
        )


class CredentialServicer(Servicer, pbg.CredentialServiceServicer):
    def __init__(self, verifier: TokenVerifier, distributor: CredentialDistributor) -> None:
        super().__init__(verifier)
        self.distributor = distributor

    def DistributeCredentials(
        self, request: pb.DistributeCredentialsRequest, context: grpc.ServicerContext
    ) -> pb.DistributeCredentialsResponse:
        def run() -> pb.DistributeCredentialsResponse:
            caller = self.principal(context)
            _uuid(request.tenant_id)
            for rid in request.reset_tenant_ids:
                _uuid(rid)
            if request.branch_tenant_id:
                _uuid(request.branch_tenant_id)
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


class RealmUsers(Protocol):
    """What user management needs of Keycloak (``KeycloakProvisioner``) in Keycloak mode."""

    def set_roles(self, username: str, roles: Sequence[str]) -> None: ...

    def unlock(self, username: str) -> None: ...


def user_msg(row: Any) -> pb.User:
    return pb.User(
        id=row.id,
        tenant_id=row.tenant_id,
        username=row.username,
        roles=list(row.roles),
        must_change_password=row.must_change_password,
        locked=bool(row.locked),
        display_name=row.display_name,
    )


class UserServicer(Servicer, pbg.UserServiceServicer):
    def __init__(
        self,
        verifier: TokenVerifier,
        db: Database,
        tenants: Tenants,
        realm: RealmUsers | None = None,
    ) -> None:
        super().__init__(verifier)
        self.db = db
        self.tenants = tenants
        self.realm = realm  # Keycloak: roles and lockouts live there too

    def UnlockUser(self, request: pb.UnlockUserRequest, context: grpc.ServicerContext) -> pb.User:
        def run() -> pb.User:
            caller = self.principal(context)
            if not caller.has_role("admin"):
                raise PermissionDenied("只有管理员可以解除账号锁定。")
            _uuid(request.user_id)
            with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
                row = repo.user_by_id(s, request.user_id)  # RLS: the caller's subtree only
                if row is None:
                    raise NotFound("用户不存在，或不在您的管辖范围内。")
                if row.id == caller.subject:
                    raise PermissionDenied("不能为自己解除锁定，请联系上级单位管理员。")
                repo.reset_failures(s, row.id)
                if self.realm is not None:  # in the transaction: a refusal there undoes ours
                    self.realm.unlock(row.username)
                repo.audit(
                    s,
                    tenant_id=row.tenant_id,
                    tenant_path=row.tenant_path,
                    action="account_unlocked",
                    username=row.username,
                    actor=caller.username,
                    client_ip=caller.client_ip,
                )
                row = repo.user_by_id(s, request.user_id)
            assert row is not None
            return user_msg(row)

        return self.call(context, run)

    def ListUsers(
        self, request: pb.ListUsersRequest, context: grpc.ServicerContext
    ) -> pb.ListUsersResponse:
        def run() -> pb.ListUsersResponse:
            caller = self.principal(context)
            t = self.tenants.get(caller, request.tenant_id or caller.tenant_id)
            with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
                rows = repo.users_of_tenant(s, t.id)
            return pb.ListUsersResponse(
                users=[
                    pb.User(
                        id=r.id,
                        tenant_id=r.tenant_id,
                        username=r.username,
                        roles=list(r.roles),
                        must_change_password=r.must_change_password,
                        locked=bool(r.locked),
                        display_name=r.display_name,
                    )
                    for r in rows
                ]
            )

        return self.call(context, run)

    def SetRoles(self, request: pb.SetRolesRequest, context: grpc.ServicerContext) -> pb.User:
        def run() -> pb.User:
            caller = self.principal(context)
            if not caller.has_role("admin"):
                raise PermissionDenied("只有管理员可以调整角色。")
            roles = sorted(set(request.roles))
            if not roles or not set(roles) <= ROLES:
                raise InvalidArgument(
                    "角色只能是 admin、reviewer、reporter、viewer 中的一个或多个。"
                )
            _uuid(request.user_id)
            from sqlalchemy import text

            with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
                row = repo.user_by_id(s, request.user_id)
                if row is None:
                    raise NotFound("用户不存在，或不在您的管辖范围内。")
                if row.id == caller.subject:
                    raise PermissionDenied("不能修改自己的角色。")
                s.execute(
                    text("UPDATE users SET roles = :r WHERE id = CAST(:i AS uuid)"),
                    {"r": roles, "i": row.id},
                )
                if self.realm is not None:  # Keycloak's tokens carry its roles, not ours
                    self.realm.set_roles(row.username, roles)
                repo.audit(
                    s,
                    tenant_id=row.tenant_id,
                    tenant_path=row.tenant_path,
                    action="role_changed",
                    username=row.username,
                    actor=caller.username,
                    details={"from": ",".join(row.roles), "to": ",".join(roles)},
                )
                row = repo.user_by_id(s, request.user_id)
            assert row is not None
            return pb.User(
                id=row.id,
                tenant_id=row.tenant_id,
                username=row.username,
                roles=list(row.roles),
                must_change_password=row.must_change_password,
                locked=bool(row.locked),
                display_name=row.display_name,
            )

        return self.call(context, run)

    def ListAudit(
        self, request: pb.ListAuditRequest, context: grpc.ServicerContext
    ) -> pb.ListAuditResponse:
        def run() -> pb.ListAuditResponse:
            caller = self.principal(context)
            t = self.tenants.get(caller, request.tenant_id or caller.tenant_id)
            f = repo.AuditFilter(
                action=request.action.strip(),
                username=request.username.strip(),
                since=_audit_time(request.since, "起始时间"),
                until=_audit_time(request.until, "截止时间"),
                limit=min(max(request.limit or 100, 1), 1000),
                offset=max(request.offset, 0),
            )
            with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
                rows, total = repo.audit_entries(s, t.path, f)
            entries = []
            for r in rows:
                details = json.loads(r.details or "{}")
                entries.append(
                    pb.AuditEntry(
                        id=r.id,
                        occurred_at=shanghai_iso(r.occurred_at),
                        action=r.action,
                        username=r.username,
                        tenant_path=r.tenant_path,
                        details_json=r.details,
                        actor=r.actor or r.username,
                        client_ip=r.client_ip,
                        object=r.object,
                        summary=audit.describe(r.action, r.username, details),
                    )
                )
            return pb.ListAuditResponse(entries=entries, total=total)

        return self.call(context, run)


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
