"""Assessment 考核评价 (assessment service, SPEC section 6): schemes, scores, results, allocation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from kepu.assessment.v1 import assessment_pb2 as pb
from kepu.assessment.v1 import assessment_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..grpc_clients import call, stub
from ..messages import as_dict as _out
from ..messages import model

router = APIRouter(tags=["assessment"])
CallerDep = Annotated[Caller, Depends(current_caller)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=20, description="指标编号，如 5 或 5-1")
    name: str = Field(max_length=200, description="考核内容")
    requirement: str = Field(default="", max_length=2000, description="基本要求")
    weight: Number = Field(description="分值（一级指标合计100分）")
    kind: Literal["automatic", "manual", "value", ""] = Field(
        default="", description="automatic 自动采集 / manual 人工评分 / value 填报数值"
    )
    metric: str = Field(
        default="",
        max_length=40,
        description="自动采集数据项：talents_certified, activities, participants, "
        "reports_submitted, report_timeliness, projects_approved, projects_completed",
    )
    rule: Literal["linear", "threshold", "manual", ""] = Field(
        default="", description="linear 按目标线性折算 / threshold 达标得分 / manual 人工评分"
    )
    target: Number = Field(default=0, description="目标值（每个被考核单位）")
    unit: str = Field(default="", max_length=20)
    combine: Literal["sum", "at_least", ""] = Field(
        default="", description="有子指标时：sum 合计 / at_least 达到其中几项即得满分"
    )
    min_passed: int = Field(default=0, ge=0, le=200)
    subs: list[IndicatorIn] = Field(default_factory=list, max_length=50)


class SchemeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=0, le=9999, description="考核年度，如 2026")
    name: str = Field(max_length=200)
    honours_top_n: int = Field(default=0, ge=0, le=100000, description="先进典型：前N名")
    honours_min_score: Number = Field(default=0, description="先进典型：分数线（0表示不用）")
    indicators: list[IndicatorIn] = Field(max_length=200)


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator_code: str = Field(max_length=20)
    score: Number | None = Field(default=None, description="人工评分的得分")
    value: Number | None = Field(default=None, description="填报数值，如公民科学素质比例 9.38")
    evidence: str = Field(default="", max_length=2000, description="佐证材料说明")


class ScoresIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[ScoreIn] = Field(max_length=200)


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator_code: str = Field(max_length=20)
    total: Number = Field(default=0, description="本级任务指标（上级已分配时以上级为准）")
    quotas: dict[str, Number] = Field(description="下级单位编号 → 分配的任务指标")


class TieIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_ids: list[str] = Field(
        max_length=1000,
        title="列入先进典型的并列单位",
        description="并列单位中列入先进典型的单位编号（可选其中几个、全部或不选）",
    )


def _svc() -> pbg.AssessmentServiceStub:
    return stub("assessment", pbg.AssessmentServiceStub)


def _indicator(i: IndicatorIn) -> pb.Indicator:
    data = i.model_dump(exclude={"subs"})
    return pb.Indicator(**data, subs=[_indicator(s) for s in i.subs])


def _one(scheme_id: str) -> pb.SchemeRequest:
    return pb.SchemeRequest(scheme_id=scheme_id)


@router.get(
    "/api/v1/assessment/schemes",
    response_model=model(pb.ListSchemesResponse),
    summary="本单位制定的及考核本单位的考核方案",
)
async def list_schemes(
    caller: CallerDep, year: Annotated[int, Query(ge=0, le=2100, description="年度")] = 0
) -> dict[str, Any]:
    return _out(await call(_svc().ListSchemes, pb.ListSchemesRequest(year=year), caller))


@router.post(
    "/api/v1/assessment/schemes",
    response_model=model(pb.Scheme),
    status_code=201,
    summary="制定年度考核方案",
)
async def create_scheme(body: SchemeIn, caller: CallerDep) -> dict[str, Any]:
    scheme = pb.Scheme(
        year=body.year,
        name=body.name,
        honours_top_n=body.honours_top_n,
        honours_min_score=body.honours_min_score,
        indicators=[_indicator(i) for i in body.indicators],
    )
    return _out(await call(_svc().CreateScheme, pb.CreateSchemeRequest(scheme=scheme), caller))


@router.get(
    "/api/v1/assessment/schemes/{scheme_id}", response_model=model(pb.Scheme), summary="考核方案"
)
async def get_scheme(scheme_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().GetScheme, _one(scheme_id), caller))


@router.post(
    "/api/v1/assessment/schemes/{scheme_id}/compute",
    response_model=model(pb.ResultsResponse),
    summary="计算得分与排名",
)
async def compute(scheme_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().Compute, _one(scheme_id), caller, timeout=15.0))


@router.get(
    "/api/v1/assessment/schemes/{scheme_id}/results",
    response_model=model(pb.ResultsResponse),
    summary="考核结果：考核单位实时查看；下级单位在发布后查看排名",
)
async def results(scheme_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().GetResults, _one(scheme_id), caller, timeout=15.0))


@router.post(
    "/api/v1/assessment/schemes/{scheme_id}/close",
    response_model=model(pb.ResultsResponse),
    summary="结束考核，冻结结果",
)
async def close(scheme_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().Close, _one(scheme_id), caller, timeout=15.0))


@router.post(
    "/api/v1/assessment/schemes/{scheme_id}/publish",
    response_model=model(pb.ResultsResponse),
    summary="发布考核结果和先进典型名单",
)
async def publish(scheme_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().Publish, _one(scheme_id), caller, timeout=15.0))


@router.get(
    "/api/v1/assessment/schemes/{scheme_id}/scores/{tenant_id}",
    response_model=model(pb.ScoresResponse),
    summary="下级单位评分明细",
)
async def get_scores(scheme_id: str, tenant_id: str, caller: CallerDep) -> dict[str, Any]:
    req = pb.GetScoresRequest(scheme_id=scheme_id, tenant_id=tenant_id)
    return _out(await call(_svc().GetScores, req, caller))


@router.put(
    "/api/v1/assessment/schemes/{scheme_id}/scores/{tenant_id}",
    response_model=model(pb.ScoresResponse),
    summary="人工评分或填报数值（含佐证说明）",
)
async def set_scores(
    scheme_id: str, tenant_id: str, body: ScoresIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.SetScoresRequest(
        scheme_id=scheme_id,
        tenant_id=tenant_id,
        entries=[pb.ScoreEntry(**e.model_dump(exclude_none=True)) for e in body.entries],
    )
    return _out(await call(_svc().SetScores, req, caller))


@router.get(
    "/api/v1/assessment/schemes/{scheme_id}/allocations",
    response_model=model(pb.AllocationsResponse),
    summary="任务指标分配表（附表1）",
)
async def list_allocations(scheme_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().ListAllocations, _one(scheme_id), caller))


@router.put(
    "/api/v1/assessment/schemes/{scheme_id}/allocations",
    response_model=model(pb.Allocation),
    summary="向下级分配任务指标（合计不得少于本级指标）",
)
async def set_allocation(scheme_id: str, body: AllocationIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.SetAllocationRequest(
        scheme_id=scheme_id,
        indicator_code=body.indicator_code,
        total=body.total,
        quotas=[pb.Quota(tenant_id=k, quota=v) for k, v in body.quotas.items()],
    )
    return _out(await call(_svc().SetAllocation, req, caller))


@router.put(
    "/api/v1/assessment/schemes/{scheme_id}/honours/tie",
    response_model=model(pb.ResultsResponse),
    summary="确定名额边界并列单位的取舍（先进典型）",
)
async def resolve_tie(scheme_id: str, body: TieIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.ResolveTieRequest(scheme_id=scheme_id, tenant_ids=body.tenant_ids)
    return _out(await call(_svc().ResolveHonoursTie, req, caller, timeout=15.0))
