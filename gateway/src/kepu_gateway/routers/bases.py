"""Certified bases (projects service, issue 15): the bases a certification call created, their
yearly 复核, and the registry per tenant against the plan's targets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from kepu.projects.v1 import bases_pb2 as pb
from kepu.projects.v1 import bases_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..grpc_clients import call, stub
from ..messages import as_dict, model

router = APIRouter(tags=["bases"])
CallerDep = Annotated[Caller, Depends(current_caller)]
Kind = Literal["科普教育基地", "科普示范社区", "农村中学科技馆", "现代农业科普园"]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100, title="复核年度")
    outcome: Literal["passed", "failed"] = Field(
        title="复核结果", description="passed 通过 / failed 未通过（撤销命名）"
    )
    opinion: str = Field(default="", max_length=1000, title="复核意见", description="未通过时必填")


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(title="基地类型")
    target: int = Field(ge=0, le=100000, title="目标数")


class TargetsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[TargetIn] = Field(max_length=4, title="建设目标")


def _svc() -> pbg.BaseServiceStub:
    return stub("projects", pbg.BaseServiceStub)


@router.get("/api/v1/bases", response_model=model(pb.ListBasesResponse), summary="本辖区认定的基地")
async def list_bases(
    caller: CallerDep,
    kind: Kind | None = None,
    status: Literal["certified", "expired", "revoked"] | None = None,
    tenant_id: Annotated[str, Query(max_length=40, description="下级单位")] = "",
) -> dict[str, Any]:
    req = pb.ListBasesRequest(kind=kind or "", status=status or "", tenant_id=tenant_id)
    return as_dict(await call(_svc().ListBases, req, caller))


@router.get(
    "/api/v1/bases/registry",
    response_model=model(pb.RegistryResponse),
    summary="基地名录统计（本级及各下级，按类型对照建设目标）",
)
async def registry(
    caller: CallerDep, tenant_id: Annotated[str, Query(max_length=40)] = ""
) -> dict[str, Any]:
    return as_dict(await call(_svc().Registry, pb.RegistryRequest(tenant_id=tenant_id), caller))


@router.put(
    "/api/v1/bases/targets/{tenant_id}",
    response_model=model(pb.RegistryResponse),
    summary="设置基地建设目标（本单位或下级单位）",
)
async def set_targets(tenant_id: str, body: TargetsIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.SetTargetsRequest(
        tenant_id=tenant_id,
        targets=[pb.KindCount(kind=t.kind, target=t.target) for t in body.targets],
    )
    return as_dict(await call(_svc().SetTargets, req, caller))


@router.get("/api/v1/bases/{base_id}", response_model=model(pb.Base), summary="基地详情")
async def get_base(base_id: str, caller: CallerDep) -> dict[str, Any]:
    return as_dict(await call(_svc().GetBase, pb.BaseRequest(base_id=base_id), caller))


@router.post(
    "/api/v1/bases/{base_id}/reviews",
    response_model=model(pb.Base),
    status_code=201,
    summary="年度复核（认定单位；未通过即撤销命名）",
)
async def review(base_id: str, body: ReviewIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.ReviewBaseRequest(base_id=base_id, **body.model_dump())
    return as_dict(await call(_svc().ReviewBase, req, caller))
