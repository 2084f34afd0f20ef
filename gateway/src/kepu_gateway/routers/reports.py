"""Reports, activities and notifications (reporting service, SPEC section 5)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from google.protobuf import struct_pb2
from google.protobuf.message import Message
from kepu.reporting.v1 import reporting_pb2 as pb
from kepu.reporting.v1 import reporting_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..grpc_clients import call, stub
from ..messages import ProtoModel, as_dict, model
from ..problems import Problem

router = APIRouter(tags=["reports"])
CallerDep = Annotated[Caller, Depends(current_caller)]


class ValuesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, Any] = Field(
        default_factory=dict, description="栏目代码 → 数值、文字或文字列表"
    )


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, Any] | None = Field(default=None, description="可选：提交前一并保存的内容")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="退回理由")


class FieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(max_length=40)
    label: str = Field(max_length=100)
    kind: Literal["number", "text", "list"]
    unit: str = Field(default="", max_length=20)
    required: bool = False
    source: str = Field(default="", max_length=60)


class DueRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month_offset: int = Field(default=1, ge=-12, le=12)
    day: int = Field(ge=1, le=31)
    anchor: Literal["start", "end"] = "end"


class ReportTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    period_kind: Literal["month", "quarter", "year"]
    fields: list[FieldIn] = Field(min_length=1, max_length=100)
    due_rules: dict[Literal["city", "county", "township", "society"], DueRuleIn]


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=200)
    date: str = Field(description="活动日期，如 2026-10-15")
    place: str = Field(default="", max_length=200)
    form: str = Field(
        description="报告、讲座、培训、咨询、推广、展览、竞赛、创客大赛、文艺演出、影片放映、其他"
    )
    target: str = Field(description="进校园、进乡村、进社区、进园区/企业、进机关、其他")
    participants: int = Field(default=0, description="参与人数")
    talents: list[str] = Field(default_factory=list, max_length=200)
    photos: list[str] = Field(default_factory=list, max_length=50)


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=200, description="接收报送提醒的单位邮箱；留空表示不发邮件")


def _svc() -> pbg.ReportingServiceStub:
    return stub("reporting", pbg.ReportingServiceStub)


def _out(msg: Message) -> dict[str, Any]:
    """Reports answer numbers: 64-bit integers and whole Struct values as JSON integers."""
    return as_dict(msg, numbers=True)


def _model(message: type[Message]) -> type[ProtoModel]:
    return model(message, numbers=True)


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    st = struct_pb2.Struct()
    try:
        st.update(values)
    except (ValueError, TypeError) as exc:
        raise Problem(422, "报告内容格式不正确。") from exc
    return st


@router.get(
    "/api/v1/report-types",
    response_model=_model(pb.ListReportTypesResponse),
    summary="可用的报告类型",
)
async def list_types(caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().ListReportTypes, pb.ListReportTypesRequest(), caller))


@router.post(
    "/api/v1/report-types",
    response_model=_model(pb.ReportType),
    status_code=201,
    summary="为下级定义报告类型",
)
async def define_type(body: ReportTypeIn, caller: CallerDep) -> dict[str, Any]:
    t = pb.ReportType(
        code=body.code,
        name=body.name,
        period_kind=body.period_kind,
        fields=[pb.FieldDef(**f.model_dump()) for f in body.fields],
        due_rules=[
            pb.DueRule(tenant_kind=k, month_offset=r.month_offset, day=r.day, anchor=r.anchor)
            for k, r in body.due_rules.items()
        ],
    )
    return _out(await call(_svc().DefineReportType, pb.DefineReportTypeRequest(type=t), caller))


@router.get(
    "/api/v1/reports/{type_code}/{period}",
    response_model=_model(pb.Report),
    summary="本单位（或下级）的报告，未填时预填",
)
async def get_report(
    type_code: str,
    period: str,
    caller: CallerDep,
    tenant_id: Annotated[str, Query(max_length=64, description="下级单位编号（只读查看）")] = "",
) -> dict[str, Any]:
    req = pb.GetReportRequest(type_code=type_code, period=period, tenant_id=tenant_id)
    return _out(await call(_svc().GetReport, req, caller))


@router.put(
    "/api/v1/reports/{type_code}/{period}", response_model=_model(pb.Report), summary="保存报告草稿"
)
async def save_draft(
    type_code: str, period: str, body: ValuesIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.SaveDraftRequest(type_code=type_code, period=period, values=_struct(body.values))
    return _out(await call(_svc().SaveDraft, req, caller))


@router.post(
    "/api/v1/reports/{type_code}/{period}/submit",
    response_model=_model(pb.Report),
    summary="提交报告",
)
async def submit(
    type_code: str, period: str, caller: CallerDep, body: SubmitIn | None = None
) -> dict[str, Any]:
    req = pb.SubmitRequest(type_code=type_code, period=period)
    if body is not None and body.values:
        req.values.CopyFrom(_struct(body.values))
    return _out(await call(_svc().Submit, req, caller))


@router.get(
    "/api/v1/reports/{type_code}/{period}/children",
    response_model=_model(pb.ChildrenOverviewResponse),
    summary="下级报送情况：状态、报送率、及时率、全辖区合计、逾期单位",
)
async def children(type_code: str, period: str, caller: CallerDep) -> dict[str, Any]:
    req = pb.ChildrenRequest(type_code=type_code, period=period)
    return _out(await call(_svc().ChildrenOverview, req, caller, timeout=15.0))


@router.post(
    "/api/v1/reports/{type_code}/{period}/{tenant_id}/return",
    response_model=_model(pb.Report),
    summary="退回下级报告",
)
async def return_report(
    type_code: str, period: str, tenant_id: str, body: ReturnIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.ReviewRequest(
        type_code=type_code, period=period, tenant_id=tenant_id, reason=body.reason
    )
    return _out(await call(_svc().ReturnReport, req, caller))


@router.post(
    "/api/v1/reports/{type_code}/{period}/{tenant_id}/accept",
    response_model=_model(pb.Report),
    summary="接收下级报告",
)
async def accept_report(
    type_code: str, period: str, tenant_id: str, caller: CallerDep
) -> dict[str, Any]:
    req = pb.ReviewRequest(type_code=type_code, period=period, tenant_id=tenant_id)
    return _out(await call(_svc().AcceptReport, req, caller))


@router.get(
    "/api/v1/reports/{type_code}/{period}/brief.docx",
    summary="生成工作简报 / 年度汇编（.docx）",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {}
            }
        }
    },
)
async def brief_docx(type_code: str, period: str, caller: CallerDep) -> Response:
    req = pb.RenderDocumentRequest(type_code=type_code, period=period)
    doc = await call(_svc().RenderDocument, req, caller, timeout=30.0)
    return Response(
        content=doc.content,
        media_type=doc.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}"},
    )


@router.get(
    "/api/v1/activities", response_model=_model(pb.ListActivitiesResponse), summary="科普活动列表"
)
async def list_activities(
    caller: CallerDep,
    period: Annotated[str, Query(max_length=10, description="如 2026-10、2026Q3、2026")] = "",
    subtree: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000, title="条数")] = 200,
    page: Annotated[int | None, Query(ge=1, le=100_000, title="页码")] = None,
    page_size: Annotated[int, Query(ge=1, le=200, title="每页条数")] = 20,
) -> dict[str, Any]:
    # Without ``page`` the latest ``limit`` activities; with it that page (``page_size`` each).
    # ``total``: how many match in all.
    size, skip = (limit, 0) if page is None else (page_size, (page - 1) * page_size)
    req = pb.ListActivitiesRequest(period=period, subtree=subtree, limit=size, offset=skip)
    return _out(await call(_svc().ListActivities, req, caller))


@router.post(
    "/api/v1/activities",
    response_model=_model(pb.Activity),
    status_code=201,
    summary="登记科普活动",
)
async def create_activity(body: ActivityIn, caller: CallerDep) -> dict[str, Any]:
    if not -(2**62) < body.participants < 2**62:
        raise Problem(422, "参与人数超出范围。")
    req = pb.CreateActivityRequest(activity=pb.Activity(**body.model_dump()))
    return _out(await call(_svc().CreateActivity, req, caller))


@router.get(
    "/api/v1/notifications",
    response_model=_model(pb.ListNotificationsResponse),
    summary="站内提醒（报送提醒、逾期通知、督办）",
)
async def notifications(
    caller: CallerDep,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    req = pb.ListNotificationsRequest(unread_only=unread_only, limit=limit)
    return _out(await call(_svc().ListNotifications, req, caller))


@router.post(
    "/api/v1/notifications/{notification_id}/read",
    response_model=_model(pb.Notification),
    summary="标记提醒为已读",
)
async def mark_read(notification_id: str, caller: CallerDep) -> dict[str, Any]:
    req = pb.MarkNotificationReadRequest(id=notification_id)
    return _out(await call(_svc().MarkNotificationRead, req, caller))


@router.put(
    "/api/v1/report-settings/contact-email",
    response_model=_model(pb.SetContactEmailResponse),
    summary="设置接收报送提醒的单位邮箱",
)
async def set_contact(body: ContactIn, caller: CallerDep) -> dict[str, Any]:
    return _out(
        await call(_svc().SetContactEmail, pb.SetContactEmailRequest(email=body.email), caller)
    )
