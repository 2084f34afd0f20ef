"""Work plans 工作要点 / 实施方案 (assessment service, issue 14): plans with tasks for units,
quarterly progress, milestones, supervision 督查, 目标责任书 scores, files and the to-do list.
The only staff API a member department's (成员单位) users may call besides their own account."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from google.protobuf import json_format
from kepu.assessment.v1 import workplans_pb2 as pb
from kepu.assessment.v1 import workplans_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..files import ANY_FILE, DOCX, XLSX, download, file_response, read_evidence, read_upload
from ..grpc_clients import call, stub
from ..messages import as_dict as _out
from ..messages import model

router = APIRouter(tags=["workplans"])
CallerDep = Annotated[Caller, Depends(current_caller)]
Number = Annotated[float, Field(allow_inf_nan=False)]
Day = Annotated[str, Field(max_length=10, description="YYYY-MM-DD")]
MAX_IMPORT_BYTES = 5 * 1024 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhaseIn(Strict):
    name: str = Field(max_length=50, description="启动 / 深入实施 / 总结评估")
    start: Day
    end: Day


class SectionIn(Strict):
    no: str = Field(max_length=20)
    title: str = Field(max_length=200)


class MilestoneIn(Strict):
    title: str = Field(default="完成", max_length=200)
    due: Day = Field(description="完成时限（在计划期限之内）")


class TargetIn(Strict):
    year: int = Field(ge=2000, le=2100)
    label: str = Field(max_length=100, description="如 科普教育基地")
    value: Number


class TaskIn(Strict):
    seq: int = Field(ge=1, le=100000, title="序号")
    section: str = Field(default="", max_length=100)
    text: str = Field(max_length=4000, title="任务")
    lead_unit_id: str = Field(max_length=40, title="牵头单位", description="下级单位或成员单位编号")
    participant_ids: list[str] = Field(default_factory=list, max_length=100, title="参与单位")
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=50)
    targets: list[TargetIn] = Field(default_factory=list, max_length=50)


class PlanIn(Strict):
    title: str = Field(max_length=200, title="计划名称")
    start_year: int = Field(ge=0, le=2100)
    end_year: int = Field(
        default=0, ge=0, le=2100, description="多年期方案的结束年度（默认同起始年度）"
    )
    phases: list[PhaseIn] = Field(default_factory=list, max_length=10)
    sections: list[SectionIn] = Field(default_factory=list, max_length=50)
    tasks: list[TaskIn] = Field(max_length=500)


class FigureIn(Strict):
    year: int = Field(ge=2000, le=2100)
    label: str = Field(max_length=100)
    value: Number


class ProgressIn(Strict):
    quarter: str = Field(max_length=6, description="如 2017Q2")
    text: str = Field(max_length=8000, title="进展情况")
    figures: list[FigureIn] = Field(default_factory=list, max_length=50)
    attachments: list[str] = Field(default_factory=list, max_length=20, title="佐证材料")
    unit_id: str = Field(default="", max_length=40, description="计划制定单位代填时的单位编号")


class MilestoneStatusIn(Strict):
    status: Literal["open", "done", "late"]


class SupervisionIn(Strict):
    unit_id: str = Field(max_length=40, title="被督查单位")
    task_id: str = Field(default="", max_length=40)
    visited_on: Day = Field(title="督查日期")
    findings: str = Field(max_length=8000, title="发现问题")
    rectify_by: str = Field(default="", max_length=10, title="整改时限（空表示无需整改）")


class RectifyIn(Strict):
    note: str = Field(default="", max_length=2000, title="整改情况")


class TaskScoreIn(Strict):
    task_id: str = Field(max_length=40)
    result: Literal["completed", "partly", "not"] = Field(description="完成 / 部分完成 / 未完成")
    score: Number = Field(ge=0, le=100)


class ScoresIn(Strict):
    year: int = Field(ge=2000, le=2100)
    items: list[TaskScoreIn] = Field(max_length=500)


def _svc() -> pbg.WorkPlanServiceStub:
    return stub("assessment", pbg.WorkPlanServiceStub)


def _plan_input(body: PlanIn) -> pb.PlanInput:
    return json_format.ParseDict(body.model_dump(), pb.PlanInput())


@router.get(
    "/api/v1/workplans/todo",
    response_model=model(pb.TodoResponse),
    summary="工作要点待办：逾期节点、待整改、待填报进展",
)
async def todo(caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().Todo, pb.TodoRequest(), caller))


@router.get(
    "/api/v1/workplans",
    response_model=model(pb.ListPlansResponse),
    summary="本单位制定的及分配给本单位的工作要点",
)
async def list_plans(
    caller: CallerDep, year: Annotated[int, Query(ge=0, le=2100, description="年度")] = 0
) -> dict[str, Any]:
    return _out(await call(_svc().ListPlans, pb.ListPlansRequest(year=year), caller))


@router.post(
    "/api/v1/workplans",
    response_model=model(pb.Plan),
    status_code=201,
    summary="制定工作要点 / 实施方案",
)
async def create_plan(body: PlanIn, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().CreatePlan, _plan_input(body), caller))


@router.post(
    "/api/v1/workplans/import",
    response_model=model(pb.Plan),
    status_code=201,
    summary="从xlsx表格导入工作要点",
)
async def import_plan(
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="序号、任务、牵头单位、参与单位、完成时限")],
    title: Annotated[str, Form(max_length=200, title="计划名称")],
    start_year: Annotated[int, Form(ge=0, le=2100)],
    end_year: Annotated[int, Form(ge=0, le=2100)] = 0,
) -> dict[str, Any]:
    content = await read_upload(file, MAX_IMPORT_BYTES)
    req = pb.ImportPlanRequest(
        plan=pb.PlanInput(title=title, start_year=start_year, end_year=end_year), xlsx=content
    )
    return _out(await call(_svc().ImportPlan, req, caller, 60.0))


@router.get(
    "/api/v1/workplans/{plan_id}",
    response_model=model(pb.Plan),
    summary="工作要点（成员单位只看到本单位的任务）",
)
async def get_plan(plan_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().GetPlan, pb.PlanRequest(plan_id=plan_id), caller))


@router.post(
    "/api/v1/workplans/{plan_id}/tasks/{task_id}/progress",
    response_model=model(pb.Progress),
    status_code=201,
    summary="填报任务的季度进展",
)
async def report_progress(
    plan_id: str, task_id: str, body: ProgressIn, caller: CallerDep
) -> dict[str, Any]:
    req = json_format.ParseDict(body.model_dump(), pb.ProgressInput())
    req.plan_id, req.task_id = plan_id, task_id
    return _out(await call(_svc().ReportProgress, req, caller))


@router.post(
    "/api/v1/workplans/{plan_id}/progress/{progress_id}/files",
    response_model=model(pb.EvidenceFile),
    status_code=201,
    summary="上传进展的佐证材料（pdf、jpg/png、docx、xlsx，不超过20MB）",
)
async def upload_evidence(
    plan_id: str,
    progress_id: str,
    caller: CallerDep,
    file: Annotated[UploadFile, File(title="佐证材料")],
) -> dict[str, Any]:
    content = await read_evidence(file)
    req = pb.UploadEvidenceRequest(
        plan_id=plan_id, progress_id=progress_id, filename=file.filename or "", content=content
    )
    return _out(await call(_svc().UploadEvidence, req, caller, 60.0))


@router.get(
    "/api/v1/workplans/{plan_id}/files/{file_id}", summary="下载佐证材料", **download(ANY_FILE)
)
async def download_evidence(plan_id: str, file_id: str, caller: CallerDep) -> Response:
    req = pb.EvidenceRequest(plan_id=plan_id, evidence_id=file_id)
    return file_response(await call(_svc().GetEvidence, req, caller, 60.0))


@router.put(
    "/api/v1/workplans/{plan_id}/tasks/{task_id}/milestones/{milestone_id}",
    response_model=model(pb.Task),
    summary="标记节点完成 / 逾期完成",
)
async def set_milestone(
    plan_id: str, task_id: str, milestone_id: str, body: MilestoneStatusIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.MilestoneRequest(
        plan_id=plan_id, task_id=task_id, milestone_id=milestone_id, status=body.status
    )
    return _out(await call(_svc().SetMilestone, req, caller))


@router.get(
    "/api/v1/workplans/{plan_id}/supervisions",
    response_model=model(pb.SupervisionsResponse),
    summary="督查记录",
)
async def list_supervisions(plan_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().ListSupervisions, pb.PlanRequest(plan_id=plan_id), caller))


@router.post(
    "/api/v1/workplans/{plan_id}/supervisions",
    response_model=model(pb.Supervision),
    status_code=201,
    summary="记录督查",
)
async def record_supervision(
    plan_id: str, body: SupervisionIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.Supervision(plan_id=plan_id, **body.model_dump())
    return _out(await call(_svc().RecordSupervision, req, caller))


@router.post(
    "/api/v1/workplans/{plan_id}/supervisions/{supervision_id}/rectify",
    response_model=model(pb.Supervision),
    summary="确认整改完成",
)
async def rectify(
    plan_id: str, supervision_id: str, body: RectifyIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.SupervisionRequest(plan_id=plan_id, supervision_id=supervision_id, note=body.note)
    return _out(await call(_svc().Rectify, req, caller))


@router.put(
    "/api/v1/workplans/{plan_id}/scores/{unit_id}",
    response_model=model(pb.UnitScores),
    summary="年终目标责任书评分",
)
async def score_unit(
    plan_id: str, unit_id: str, body: ScoresIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.UnitScoresRequest(
        plan_id=plan_id, unit_id=unit_id, year=body.year,
        items=[pb.TaskScore(**i.model_dump()) for i in body.items],
    )  # fmt: skip
    return _out(await call(_svc().ScoreUnit, req, caller))


@router.get(
    "/api/v1/workplans/{plan_id}/export",
    summary="导出工作要点及进展（xlsx / 督查报告 docx）",
    **download(XLSX, DOCX),
)
async def export(
    plan_id: str,
    caller: CallerDep,
    format: Annotated[Literal["xlsx", "docx"], Query(description="xlsx 或 docx")] = "xlsx",
) -> Response:
    return file_response(
        await call(_svc().Export, pb.ExportRequest(plan_id=plan_id, format=format), caller, 60.0)
    )
