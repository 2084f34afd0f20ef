"""Key project library 重点项目库 and calls 申报批次 (projects service, SPEC section 4).

Slightly over ~400 lines on purpose: the gateway has one router per service, and this one's
21 routes are thin mappings onto the projects service's RPCs beside the request models of
their bodies; calls, projects, expert review and consents share the stub and the form mapping
(``_svc``, ``_input``). Resources and bases have routers of their own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from kepu.identity.v1 import identity_pb2 as ipb
from kepu.partner.v1 import consent_pb2 as cpb
from kepu.projects.v1 import projects_pb2 as pb
from kepu.projects.v1 import projects_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..consents import PROJECT, ProjectConsent, consent_out
from ..deps import Caller, current_caller
from ..grpc_clients import call, stub
from ..messages import as_dict as _out
from ..messages import model
from .partners_admin import ConsentIn, StaffDep, partners

router = APIRouter(tags=["projects"])
CallerDep = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Field(max_length=64, title="项目编号")]
# The list's sort keys (kepu_projects.domain.SORT_CN): 更新时间 申报时间 填报时间 项目名称 状态
# 项目类别 项目预算 申报单位.
ProjectSort = Literal[
    "updated_at",
    "submitted_at",
    "created_at",
    "name",
    "status",
    "category",
    "budget",
    "tenant_name",
]


class ProjectIn(BaseModel):  # 重点项目入库表 (附表3)
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=500, description="项目名称")
    applicant_unit: str = Field(default="", max_length=500, description="申报单位")
    completing_unit: str = Field(default="", max_length=500, description="项目完成单位")
    contact_person: str = Field(default="", max_length=100, description="联系人")
    contact_phone: str = Field(default="", max_length=50, description="联系电话")
    category: str = Field(
        default="",
        max_length=20,
        title="项目类别",
        description="科普活动、科普创作、科普设施建设、其他",
    )
    start_month: str = Field(
        default="", max_length=10, title="实施开始年月", description="如 2026-03"
    )
    end_month: str = Field(default="", max_length=10, description="实施结束年月，如 2026-12")
    content: str = Field(default="", max_length=10000, description="项目基本内容")
    expected_performance: str = Field(default="", max_length=10000, description="项目预期绩效")
    budget: Decimal | None = Field(default=None, title="项目预算（元）", description="可不填")
    call_id: str = Field(default="", max_length=64, description="申报批次编号")


class CriterionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100, title="评审指标", description="如 科学性")
    weight: float = Field(title="权重", description="正数")


class CallIn(BaseModel):  # 申报批次
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=500, description="批次名称")
    programme: str = Field(
        max_length=200,
        title="项目专项",
        description="专项：现代农业科普园、科普示范社区、农村中学科技馆、i科普科技志愿服务、"
        "中原科普讲坛、科普教育基地或其他",
    )
    year: int = Field(default=0, ge=0, le=2100, title="年度")
    description: str = Field(default="", max_length=10000, title="申报说明")
    deadline: str = Field(max_length=40, title="截止时间", description="北京时间，如 2026-06-30")
    quota: int = Field(
        default=0, ge=0, le=100000, title="支持名额", description="择优支持名额，0 表示不限"
    )
    criteria: list[CriterionIn] = Field(default_factory=list, max_length=50, title="评审指标")
    min_reviewers: int = Field(
        default=1, ge=0, le=1000, title="最少评审专家数", description="每个项目最少评审专家数"
    )
    outcome: Literal["funding", "certification"] = Field(
        default="funding",
        title="批次结果",
        description="funding 立项资助 / certification 认定命名（入选项目成为认定的基地，须设置认定标准）",
    )
    base_kind: str = Field(
        default="",
        max_length=20,
        title="认定类型",
        description="认定命名时：科普教育基地、科普示范社区、农村中学科技馆、现代农业科普园",
    )
    validity_years: int = Field(
        default=0, ge=0, le=100, title="认定有效期（年）", description="默认3年"
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["pass", "fail", "return"] = Field(
        title="审核结论", description="pass 通过 / fail 不通过 / return 退回修改"
    )
    opinion: str = Field(
        default="", max_length=5000, description="审核意见（不通过、退回修改时必填，即理由）"
    )


class ScoresIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project_id: Id
    reviewer: str = Field(max_length=200, description="评审专家（用户编号或姓名）")
    scores: dict[str, float] = Field(title="评审得分", description="评审指标 → 得分（0–100）")
    correction: bool = Field(
        default=False, title="更正", description="更正该专家已录入的评分（须填写更正理由）"
    )
    reason: str = Field(default="", max_length=1000, title="更正理由")


class SelectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    top_n: int = Field(default=0, ge=0, le=100000, title="入选数量", description="0 表示剩余名额")
    reject_others: bool = Field(
        default=False, title="其余项目未入选", description="其余参评项目一并标记为未入选"
    )


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(max_length=10000, description="实施进展")
    percent: int = Field(default=0, ge=0, le=100, description="完成进度（%）")


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(default="", max_length=10000, description="结项总结")


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: float = Field(title="考核得分", description="0–100")
    comment: str = Field(default="", max_length=5000, title="考核意见")


class AwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recommended: bool = Field(default=True, title="推荐参评")


def _svc() -> pbg.ProjectsServiceStub:
    return stub("projects", pbg.ProjectsServiceStub)


def _input(body: ProjectIn) -> pb.ProjectInput:
    data = body.model_dump()
    data["budget"] = "" if body.budget is None else str(body.budget)
    return pb.ProjectInput(**data)


# ---------------------------------------------------------------- calls


@router.get(
    "/api/v1/calls",
    response_model=model(pb.ListCallsResponse),
    summary="申报批次（上级发布的与本级及下级发布的）",
)
async def list_calls(
    caller: CallerDep,
    open: Annotated[bool, Query(description="只看未截止的")] = False,
    fileable: Annotated[bool, Query(description="只看本单位可以申报的（上级发布）")] = False,
) -> dict[str, Any]:
    req = pb.ListCallsRequest(open_only=open, fileable_only=fileable)
    return _out(await call(_svc().ListCalls, req, caller))


@router.post(
    "/api/v1/calls", response_model=model(pb.Call), status_code=201, summary="发布申报批次"
)
async def open_call(body: CallIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.OpenCallRequest(
        **body.model_dump(exclude={"criteria"}),
        criteria=[pb.Criterion(name=c.name, weight=c.weight) for c in body.criteria],
    )
    return _out(await call(_svc().OpenCall, req, caller))


@router.get("/api/v1/calls/{call_id}", response_model=model(pb.Call), summary="申报批次详情")
async def get_call(call_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().GetCall, pb.GetCallRequest(call_id=call_id), caller))


@router.post(
    "/api/v1/calls/{call_id}/close",
    response_model=model(pb.Call),
    summary="截止申报（截止时间改为此刻）",
)
async def close_call(call_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().CloseCall, pb.GetCallRequest(call_id=call_id), caller))


@router.post(
    "/api/v1/calls/{call_id}/scores",
    response_model=model(pb.ExpertScore),
    status_code=201,
    summary="录入专家评分（同一专家再次评分须注明更正并写明理由，留存历史）",
)
async def record_scores(call_id: str, body: ScoresIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.RecordScoresRequest(
        call_id=call_id,
        project_id=body.project_id,
        reviewer=body.reviewer,
        scores=[pb.CriterionScore(criterion=k, score=v) for k, v in body.scores.items()],
        correction=body.correction,
        reason=body.reason,
    )
    return _out(await call(_svc().RecordScores, req, caller))


@router.get(
    "/api/v1/calls/{call_id}/ranking",
    response_model=model(pb.Ranking),
    summary="专家评审排名（平均分、离散度）",
)
async def ranking(call_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().GetRanking, pb.GetCallRequest(call_id=call_id), caller))


@router.post(
    "/api/v1/calls/{call_id}/select",
    response_model=model(pb.SelectProjectsResponse),
    summary="择优立项（按排名入库）",
)
async def select(call_id: str, body: SelectIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.SelectProjectsRequest(
        call_id=call_id, top_n=body.top_n, reject_others=body.reject_others
    )
    return _out(await call(_svc().SelectProjects, req, caller, timeout=15.0))


# ---------------------------------------------------------------- projects


@router.get(
    "/api/v1/projects",
    response_model=model(pb.ListProjectsResponse),
    summary="项目列表（联系电话已脱敏）",
)
async def list_projects(
    caller: CallerDep,
    status: Annotated[str, Query(max_length=20, title="项目状态")] = "",
    call_id: Annotated[str, Query(max_length=64, title="申报批次")] = "",
    category: Annotated[str, Query(max_length=20, title="项目类别")] = "",
    q: Annotated[str, Query(max_length=100, description="项目名称包含")] = "",
    subtree: Annotated[bool, Query(description="包含下级单位的项目")] = False,
    awaiting_me: Annotated[bool, Query(description="待本级审核的项目")] = False,
    sort: Annotated[ProjectSort, Query(title="排序字段")] = "updated_at",
    order: Annotated[Literal["asc", "desc"] | None, Query(title="排序方向")] = None,
    limit: Annotated[int, Query(ge=1, le=500, title="每页条数")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, title="起始位置")] = 0,
) -> dict[str, Any]:
    req = pb.ListProjectsRequest(
        sort=sort,
        order=order or "",
        status=status,
        call_id=call_id,
        category=category,
        q=q,
        subtree=subtree,
        awaiting_me=awaiting_me,
        limit=limit,
        offset=offset,
    )
    return _out(await call(_svc().ListProjects, req, caller))


@router.post(
    "/api/v1/projects",
    response_model=model(pb.Project),
    status_code=201,
    summary="填报项目入库表（草稿）",
)
async def create_project(body: ProjectIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.CreateProjectRequest(project=_input(body))
    return _out(await call(_svc().CreateProject, req, caller))


@router.get(
    "/api/v1/projects/stats",
    response_model=model(pb.YearlyCountsResponse),
    summary="年度项目统计（立项、结项、按类别，含下级）",
)
async def stats(
    caller: CallerDep,
    year: Annotated[int, Query(ge=2000, le=2100, title="年度")],
    tenant_id: Annotated[str, Query(max_length=64, title="单位")] = "",
) -> dict[str, Any]:
    req = pb.YearlyCountsRequest(tenant_id=tenant_id, year=year)
    return _out(await call(_svc().YearlyCounts, req, caller))


@router.get(
    "/api/v1/projects/{project_id}",
    response_model=model(pb.Project),
    summary="项目详情（reveal=true 查看完整联系电话并留痕）",
)
async def get_project(
    project_id: str, caller: CallerDep, reveal: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    req = pb.GetProjectRequest(project_id=project_id, reveal=reveal)
    return _out(await call(_svc().GetProject, req, caller))


@router.put(
    "/api/v1/projects/{project_id}",
    response_model=model(pb.Project),
    summary="修改项目（草稿或已退回修改）",
)
async def update_project(project_id: str, body: ProjectIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.UpdateProjectRequest(project_id=project_id, project=_input(body))
    return _out(await call(_svc().UpdateProject, req, caller))


@router.post(
    "/api/v1/projects/{project_id}/submit",
    response_model=model(pb.Project),
    summary="向上级申报（退回修改后重新申报）",
)
async def submit(project_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().SubmitProject, pb.ProjectRef(project_id=project_id), caller))


@router.post(
    "/api/v1/projects/{project_id}/review",
    response_model=model(pb.Project),
    summary="逐级审核意见（通过/不通过/退回修改）",
)
async def review(project_id: str, body: ReviewIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.ReviewProjectRequest(
        project_id=project_id, decision=body.decision, opinion=body.opinion
    )
    return _out(await call(_svc().ReviewProject, req, caller))


@router.post(
    "/api/v1/projects/{project_id}/progress",
    response_model=model(pb.Project),
    summary="报送实施进展",
)
async def progress(project_id: str, body: ProgressIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.ReportProgressRequest(
        project_id=project_id, content=body.content, percent=body.percent
    )
    return _out(await call(_svc().ReportProgress, req, caller))


@router.post(
    "/api/v1/projects/{project_id}/complete", response_model=model(pb.Project), summary="申请结项"
)
async def complete(project_id: str, body: CompleteIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.CompleteProjectRequest(project_id=project_id, summary=body.summary)
    return _out(await call(_svc().CompleteProject, req, caller))


@router.post(
    "/api/v1/projects/{project_id}/evaluate",
    response_model=model(pb.Project),
    summary="项目考核（得分与等次）",
)
async def evaluate(project_id: str, body: EvaluateIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.EvaluateProjectRequest(project_id=project_id, score=body.score, comment=body.comment)
    return _out(await call(_svc().EvaluateProject, req, caller))


@router.post(
    "/api/v1/projects/{project_id}/award",
    response_model=model(pb.Project),
    summary="推荐参评科普成果奖",
)
async def award(project_id: str, body: AwardIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.FlagAwardRequest(project_id=project_id, recommended=body.recommended)
    return _out(await call(_svc().FlagAward, req, caller))


# ---------------------------------------------------------------- partner consents (银会合作)


@router.post(
    "/api/v1/projects/{project_id}/consents",
    response_model=ProjectConsent,
    status_code=201,
    summary="登记项目信息授权（合作机构，银会合作）",
)
async def create_consent(project_id: str, body: ConsentIn, caller: StaffDep) -> dict[str, Any]:
    partner = await call(
        partners().ResolvePartner, ipb.PartnerRef(client_id=body.partner_client_id), caller
    )
    req = cpb.CreateConsentRequest(
        subject_type=PROJECT.type,
        subject_id=project_id,
        partner_client_id=partner.client_id,
        partner_tenant_path=partner.tenant_path,
        purpose=body.purpose,
        expires_at=body.expires_at.isoformat(),
    )
    return consent_out(await call(_svc().CreateConsent, req, caller), PROJECT)


@router.get(
    "/api/v1/projects/{project_id}/consents",
    response_model=list[ProjectConsent],  # type: ignore[valid-type]
    summary="项目信息授权记录",
)
async def list_consents(project_id: str, caller: StaffDep) -> list[dict[str, Any]]:
    req = cpb.ListConsentsRequest(subject_type=PROJECT.type, subject_id=project_id)
    res = await call(_svc().ListConsents, req, caller)
    return [consent_out(c, PROJECT) for c in res.consents]


@router.delete(
    "/api/v1/projects/{project_id}/consents/{consent_id}",
    response_model=ProjectConsent,
    summary="撤回项目信息授权",
)
async def revoke_consent(project_id: str, consent_id: str, caller: StaffDep) -> dict[str, Any]:
    req = cpb.RevokeConsentRequest(
        subject_type=PROJECT.type, subject_id=project_id, consent_id=consent_id
    )
    return consent_out(await call(_svc().RevokeConsent, req, caller), PROJECT)
