"""Tenants, users, audit and credential distribution (identity service)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from kepu.identity.v1 import identity_pb2 as pb
from kepu.identity.v1 import identity_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..files import BINARY, XLSX
from ..grpc_clients import call, stub

router = APIRouter(tags=["tenants"])
CallerDep = Annotated[Caller, Depends(current_caller)]


class TenantOut(BaseModel):
    id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    status: str
    has_admin: bool
    child_count: int


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(
        min_length=1,
        max_length=20,
        description="乡镇 9 位代码，学会代码（上级代码+S+序号）或成员单位代码（上级代码+D+序号）",
    )
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["township", "society", "department"] = Field(
        description="township 乡镇（街道） / society 学会 / department 成员单位（如市教育局）"
    )


class DistributeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: Literal["children", "subtree", "branch"] = Field(
        "subtree",
        title="分配范围",
        description="children 直属下级；subtree 全部下级；branch 指定下级单位及其全部下级",
    )
    branch_tenant_id: str = Field(
        "", max_length=40, title="下级单位", description="scope=branch 时选择的下级单位 id"
    )
    reset_tenant_ids: list[str] = Field(default_factory=list, max_length=5000)


class IssuedOut(BaseModel):
    tenant_id: str
    tenant_code: str
    tenant_name: str
    username: str
    initial_password: str


class DistributedOut(BaseModel):
    """The JSON form of one credential distribution (``Accept: application/json``)."""

    batch_id: str
    skipped: int
    issued: list[IssuedOut]
    sheet_xlsx_base64: str
    slips_docx_base64: str


class UserOut(BaseModel):
    id: str
    tenant_id: str
    username: str
    display_name: str
    roles: list[str]
    must_change_password: bool
    locked: bool


class AuditEntryOut(BaseModel):
    id: str
    occurred_at: str
    action: str
    username: str
    actor: str
    client_ip: str
    object: str
    summary: str
    tenant_path: str
    details: dict[str, Any]


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Literal["admin", "reviewer", "reporter", "viewer"]] = Field(
        min_length=1, max_length=4
    )


def tenant_out(t: pb.Tenant) -> TenantOut:
    return TenantOut(
        id=t.id,
        code=t.code,
        name=t.name,
        kind=t.kind,
        parent_id=t.parent_id or None,
        path=t.path,
        status=t.status,
        has_admin=t.has_admin,
        child_count=t.child_count,
    )


def _tenants() -> pbg.TenantServiceStub:
    return stub("identity", pbg.TenantServiceStub)


@router.get("/api/v1/tenants/me", response_model=TenantOut, summary="我的单位")
async def my_tenant(caller: CallerDep) -> TenantOut:
    return tenant_out(await call(_tenants().GetMyTenant, pb.GetMyTenantRequest(), caller))


@router.get("/api/v1/tenants/{tenant_id}", response_model=TenantOut, summary="单位详情")
async def get_tenant(tenant_id: str, caller: CallerDep) -> TenantOut:
    return tenant_out(
        await call(_tenants().GetTenant, pb.GetTenantRequest(tenant_id=tenant_id), caller)
    )


@router.get(
    "/api/v1/tenants/{tenant_id}/children", response_model=list[TenantOut], summary="直属下级单位"
)
async def children(tenant_id: str, caller: CallerDep) -> list[TenantOut]:
    res = await call(_tenants().ListChildren, pb.ListChildrenRequest(tenant_id=tenant_id), caller)
    return [tenant_out(t) for t in res.tenants]


@router.get(
    "/api/v1/tenants/{tenant_id}/subtree", response_model=list[TenantOut], summary="全部下级单位"
)
async def subtree(
    tenant_id: str, caller: CallerDep, max_depth: Annotated[int, Query(ge=0, le=5)] = 0
) -> list[TenantOut]:
    res = await call(
        _tenants().ListSubtree,
        pb.ListSubtreeRequest(tenant_id=tenant_id, max_depth=max_depth),
        caller,
    )
    return [tenant_out(t) for t in res.tenants]


@router.post(
    "/api/v1/tenants/{tenant_id}/children",
    response_model=TenantOut,
    status_code=201,
    summary="新建下级单位（乡镇/学会）",
)
async def create_child(tenant_id: str, body: TenantCreate, caller: CallerDep) -> TenantOut:
    req = pb.CreateTenantRequest(
        parent_id=tenant_id, code=body.code, name=body.name, kind=body.kind
    )
    return tenant_out(await call(_tenants().CreateTenant, req, caller))


@router.post(
    "/api/v1/tenants/{tenant_id}/credentials",
    summary="分配下级登录账号（返回一次性账号表）",
    response_class=Response,
    responses={
        200: {
            "description": "一次性账号表：xlsx（默认）、zip（Accept: application/zip，含凭据条 docx）"
            "或 JSON（Accept: application/json）",
            "model": DistributedOut,
            "content": {m: BINARY for m in (XLSX, "application/zip")},
        }
    },
)
async def distribute(
    tenant_id: str, request: Request, caller: CallerDep, body: DistributeIn | None = None
) -> Response:
    """Issue admin accounts for descendants lacking one. The sheet is returned once and never stored.

    ``Accept: application/zip`` returns the xlsx sheet and the printable slips (docx);
    ``Accept: application/json`` returns both base64-encoded with the list (for scripts).
    """
    body = body or DistributeIn()
    req = pb.DistributeCredentialsRequest(
        tenant_id=tenant_id,
        scope=body.scope,
        reset_tenant_ids=body.reset_tenant_ids,
        branch_tenant_id=body.branch_tenant_id,
    )
    res = await call(
        stub("identity", pbg.CredentialServiceStub).DistributeCredentials, req, caller, timeout=900
    )
    return await run_in_threadpool(_distributed, res, request.headers.get("accept", ""))


def _distributed(res: pb.DistributeCredentialsResponse, accept: str) -> Response:
    """The answer of a distribution in the format asked for (off the event loop: the zip is
    compressed, the JSON holds both documents in base64)."""
    headers = {
        "Cache-Control": "no-store",
        "X-Issued-Count": str(len(res.issued)),
        "X-Skipped-Count": str(res.skipped),
        "X-Batch-Id": res.batch_id,
    }
    if "application/json" in accept:
        payload: dict[str, Any] = {
            "batch_id": res.batch_id,
            "skipped": res.skipped,
            "issued": [
                {
                    "tenant_id": c.tenant_id,
                    "tenant_code": c.tenant_code,
                    "tenant_name": c.tenant_name,
                    "username": c.username,
                    "initial_password": c.initial_password,
                }
                for c in res.issued
            ],
            "sheet_xlsx_base64": base64.b64encode(res.sheet_xlsx).decode(),
            "slips_docx_base64": base64.b64encode(res.slips_docx).decode(),
        }
        return Response(
            json.dumps(payload, ensure_ascii=False), media_type="application/json", headers=headers
        )
    if "application/zip" in accept:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("账号分配表.xlsx", res.sheet_xlsx)
            z.writestr("账号凭据条.docx", res.slips_docx)
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('账号分配.zip')}"
        return Response(buf.getvalue(), media_type="application/zip", headers=headers)
    headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('账号分配表.xlsx')}"
    return Response(
        res.sheet_xlsx,
        headers=headers,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@router.get("/api/v1/tenants/{tenant_id}/users", response_model=list[UserOut], summary="单位用户")
async def users(tenant_id: str, caller: CallerDep) -> list[UserOut]:
    res = await call(
        stub("identity", pbg.UserServiceStub).ListUsers,
        pb.ListUsersRequest(tenant_id=tenant_id),
        caller,
    )
    return [
        UserOut(
            id=u.id,
            tenant_id=u.tenant_id,
            username=u.username,
            display_name=u.display_name,
            roles=list(u.roles),
            must_change_password=u.must_change_password,
            locked=u.locked,
        )
        for u in res.users
    ]


@router.post(
    "/api/v1/users/{user_id}/unlock",
    response_model=UserOut,
    summary="解除账号锁定（上级或本级管理员；记入审计日志）",
)
async def unlock_user(user_id: str, caller: CallerDep) -> UserOut:
    u = await call(
        stub("identity", pbg.UserServiceStub).UnlockUser,
        pb.UnlockUserRequest(user_id=user_id),
        caller,
    )
    return UserOut(
        id=u.id,
        tenant_id=u.tenant_id,
        username=u.username,
        display_name=u.display_name,
        roles=list(u.roles),
        must_change_password=u.must_change_password,
        locked=u.locked,
    )


@router.put("/api/v1/users/{user_id}/roles", response_model=UserOut, summary="调整用户角色")
async def set_roles(user_id: str, body: RolesIn, caller: CallerDep) -> UserOut:
    u = await call(
        stub("identity", pbg.UserServiceStub).SetRoles,
        pb.SetRolesRequest(user_id=user_id, roles=list(body.roles)),
        caller,
    )
    return UserOut(
        id=u.id,
        tenant_id=u.tenant_id,
        username=u.username,
        display_name=u.display_name,
        roles=list(u.roles),
        must_change_password=u.must_change_password,
        locked=u.locked,
    )


@router.get(
    "/api/v1/audit",
    response_model=list[AuditEntryOut],
    summary="审计日志",
    description="本单位及下级的审计记录（登录、失败、锁定、分配账号、调整角色、查看个人信息、"
    "导出完整信息、合作机构访问），按时间倒序；总数在 X-Total-Count。",
)
async def audit(
    response: Response,
    caller: CallerDep,
    tenant_id: str = "",
    limit: Annotated[int, Query(ge=1, le=1000, title="条数")] = 100,
    offset: Annotated[int, Query(ge=0, title="跳过条数")] = 0,
    action: Annotated[str, Query(max_length=64, title="操作类型")] = "",
    username: Annotated[str, Query(max_length=128, title="用户")] = "",
    since: Annotated[datetime | None, Query(title="起始时间")] = None,
    until: Annotated[datetime | None, Query(title="截止时间")] = None,
) -> list[dict[str, Any]]:
    res = await call(
        stub("identity", pbg.UserServiceStub).ListAudit,
        pb.ListAuditRequest(
            tenant_id=tenant_id,
            limit=limit,
            offset=offset,
            action=action,
            username=username,
            since=since.isoformat() if since else "",
            until=until.isoformat() if until else "",
        ),
        caller,
    )
    response.headers["X-Total-Count"] = str(res.total)
    return [
        {
            "id": e.id,
            "occurred_at": e.occurred_at,
            "action": e.action,
            "username": e.username,
            "actor": e.actor,
            "client_ip": e.client_ip,
            "object": e.object,
            "summary": e.summary,
            "tenant_path": e.tenant_path,
            "details": json.loads(e.details_json or "{}"),
        }
        for e in res.entries
    ]
