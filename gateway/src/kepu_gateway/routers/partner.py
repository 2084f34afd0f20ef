"""Partner API 合作机构接口 ``/partner/v1`` (banks, 银会合作): OAuth2 client credentials.

A partner sees only certified talents whose owners consented to share with it (minimal
fields, every access logged by the talent service) and posts back financing outcomes.
Only tokens with the ``partner`` role are accepted here; the scopes are checked again by
the services.
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Annotated, Any, Literal

import grpc
from fastapi import APIRouter, Depends, Header, Query
from kepu.identity.v1 import identity_pb2 as ipb
from kepu.identity.v1 import identity_pb2_grpc as ipbg
from kepu.projects.v1 import projects_pb2 as ppb
from kepu.talent.v1 import talent_pb2 as pb
from kepu.talent.v1 import talent_pb2_grpc as pbg
from kepu_common.grpcio import auth_metadata
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..grpc_clients import call, stub
from ..messages import as_dict as out
from ..messages import model
from ..problems import Problem, from_grpc

router = APIRouter(tags=["partner"])

READ_TALENTS = "partner:talents:read"
READ_PROJECTS = "partner:projects:read"
WRITE_FINANCING = "partner:financing:write"


async def partner_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """Only partner tokens (client credentials) may use /partner/v1, and only while the
    partner is registered and enabled: identity is asked on every request, so disabling a
    partner stops its unexpired tokens at once (embedded or Keycloak, client id = ``azp``)."""
    if "partner" not in caller.principal.roles or not caller.principal.client_id:
        raise Problem(403, "此接口只对合作机构开放，请使用合作机构的客户端凭据令牌。")
    ref = ipb.PartnerRef(client_id=caller.principal.client_id)
    try:
        await call(stub("identity", ipbg.PartnerServiceStub).ResolvePartner, ref, caller)
    except Problem as p:
        if p.status == 401:
            p.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        raise
    return caller


PartnerDep = Annotated[Caller, Depends(partner_caller)]


def require_scope(caller: Caller, scope: str) -> None:
    if scope not in caller.principal.scopes:
        raise Problem(403, f"令牌缺少权限 {scope}，请联系登记贵机构的科协开通。")


class FinancingIn(BaseModel):
    """融资结果（银会合作）。"""

    model_config = ConfigDict(extra="forbid")
    talent_id: str = Field(
        max_length=40, title="人才编号", description="人才编号（须已获本人授权）"
    )
    product: str = Field(
        min_length=1, max_length=100, title="贷款产品", description="贷款产品，如“科技人才贷”"
    )
    amount_yuan: Decimal = Field(gt=0, lt=Decimal("1e12"), decimal_places=2, title="金额（元）")
    status: Literal["申请中", "已放款", "已拒绝"] = Field(title="融资状态")
    decided_at: dt.date = Field(title="决定日期", description="YYYY-MM-DD")


@router.get(
    "/partner/v1/talents",
    response_model=model(pb.ListPartnerTalentsResponse),
    summary="已授权的认定科普人才（最少必要字段，分页）",
)
async def partner_talents(
    caller: PartnerDep,
    page: Annotated[int, Query(ge=1, le=100000, title="页码")] = 1,
    page_size: Annotated[int, Query(ge=1, le=100, title="每页条数")] = 20,
) -> dict[str, Any]:
    require_scope(caller, READ_TALENTS)
    res = await call(
        stub("talent", pbg.TalentServiceStub).ListPartnerTalents,
        pb.ListPartnerTalentsRequest(page=page, page_size=page_size),
        caller,
    )
    return out(res)


@router.post(
    "/partner/v1/financing",
    response_model=model(pb.FinancingOutcome),
    status_code=201,
    summary="回传融资结果（同一 Idempotency-Key 或同一结果重复提交时返回首次的记录）",
)
async def post_financing(
    body: FinancingIn,
    caller: PartnerDep,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            title="幂等键（Idempotency-Key）",
            description="每笔融资结果一个唯一值（如 UUID）；重试时原样重发",
        ),
    ] = "",
) -> dict[str, Any]:
    require_scope(caller, WRITE_FINANCING)
    request = pb.RecordFinancingRequest(
        talent_id=body.talent_id,
        product=body.product,
        amount_yuan=f"{body.amount_yuan:.2f}",
        status=body.status,
        decided_at=body.decided_at.isoformat(),
        idempotency_key=idempotency_key,
    )
    return out(await call(stub("talent", pbg.TalentServiceStub).RecordFinancing, request, caller))


PROJECTS_UNAVAILABLE = "重点项目库的合作机构接口暂未开通，请稍后再试。"


@router.get(
    "/partner/v1/projects",
    response_model=model(ppb.ListPartnerProjectsResponse),
    summary="已入库的重点项目（重点项目库开通后提供）",
)
async def partner_projects(
    caller: PartnerDep,
    page: Annotated[int, Query(ge=1, le=100000, title="页码")] = 1,
    page_size: Annotated[int, Query(ge=1, le=100, title="每页条数")] = 20,
) -> dict[str, Any]:
    """Answered by the projects service when it offers ``ListPartnerProjects``; 503 until then."""
    require_scope(caller, READ_PROJECTS)
    try:
        pb_mod = importlib.import_module("kepu.projects.v1.projects_pb2")
        grpc_mod = importlib.import_module("kepu.projects.v1.projects_pb2_grpc")
        request_cls = pb_mod.ListPartnerProjectsRequest
        method = stub("projects", grpc_mod.ProjectsServiceStub).ListPartnerProjects
    except (ImportError, AttributeError):
        raise Problem(503, PROJECTS_UNAVAILABLE, headers={"Retry-After": "3600"}) from None
    try:
        res = await method(
            request_cls(page=page, page_size=page_size),
            timeout=5.0,
            metadata=auth_metadata(caller.token),
        )
    except grpc.RpcError as err:
        if err.code() in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE):
            raise Problem(503, PROJECTS_UNAVAILABLE, headers={"Retry-After": "60"}) from None
        raise from_grpc(err) from None
    return out(res)
