"""i科普 科技志愿服务 (talent service, issue 15): volunteers registered on consent, 志愿服务队,
service records confirmed by the tenant, confirmed hours rolled up, the 志愿服务证明."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from kepu.talent.v1 import volunteers_pb2 as pb
from kepu.talent.v1 import volunteers_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..files import download, file_response
from ..grpc_clients import call, stub
from ..messages import as_dict as _out
from ..messages import model

router = APIRouter(tags=["volunteers"])
CallerDep = Annotated[Caller, Depends(current_caller)]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KINDS = "training 科技培训 / lecture 科普报告 / agriculture 农技服务 / clinic 义诊咨询 / youth 青少年科技教育"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ------------------------------------------------------------------------------


class VolunteerIn(Strict):
    talent_id: str = Field(max_length=40, title="科普人才", description="人才库中的人才编号")
    phone: str = Field(max_length=30, title="联系电话")
    consent: bool = Field(title="本人同意注册承诺")
    consent_version: str = Field(max_length=20, title="承诺书版本")


class OrgIn(Strict):
    tenant_id: str = Field(default="", max_length=40, title="所属单位", description="默认本单位")
    name: str = Field(max_length=100, title="服务队名称")
    contact_name: str = Field(default="", max_length=50, title="联系人")
    contact_phone: str = Field(default="", max_length=30, title="联系电话")


class RecordIn(Strict):
    # The service checks the date (not in the future), the kind and the hours (a day holds
    # 24 at most, over all teams) and names every bad field at once; here only the sizes.
    volunteer_id: str = Field(max_length=40, title="志愿者")
    served_on: str = Field(max_length=10, title="服务日期", description="YYYY-MM-DD，不晚于今天")
    place: str = Field(max_length=200, title="服务地点")
    kind: str = Field(max_length=20, title="服务类型", description=KINDS)
    hours: float = Field(
        allow_inf_nan=False, title="服务时长（小时）", description="大于0，一天不超过24小时"
    )
    beneficiaries: int = Field(default=0, ge=0, le=1_000_000, title="服务对象人数")
    description: str = Field(default="", max_length=2000, title="服务内容")


class DecisionIn(Strict):
    action: Literal["confirm", "reject"] = Field(
        title="操作", description="confirm 确认 / reject 退回"
    )
    reason: str = Field(default="", max_length=500, title="退回原因")


def _svc() -> pbg.VolunteerServiceStub:
    return stub("talent", pbg.VolunteerServiceStub)


# --- volunteers ----------------------------------------------------------------------------


@router.get(
    "/api/v1/volunteers",
    response_model=model(pb.ListVolunteersResponse),
    summary="本辖区的科技志愿者",
)
async def list_volunteers(
    caller: CallerDep,
    tenant_id: Annotated[str, Query(max_length=40, description="下级单位")] = "",
) -> dict[str, Any]:
    req = pb.ListVolunteersRequest(tenant_id=tenant_id)
    return _out(await call(_svc().ListVolunteers, req, caller))


@router.post(
    "/api/v1/volunteers",
    status_code=201,
    response_model=model(pb.Volunteer),
    summary="注册科技志愿者（须本人同意注册承诺）",
)
async def register(body: VolunteerIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.RegisterVolunteerRequest(**body.model_dump())
    return _out(await call(_svc().RegisterVolunteer, req, caller))


@router.get(
    "/api/v1/volunteers/hours",
    response_model=model(pb.HoursResponse),
    summary="年度已确认服务时长（本级及各下级、各服务队、各志愿者）",
)
async def hours(
    caller: CallerDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
    tenant_id: Annotated[str, Query(max_length=40)] = "",
) -> dict[str, Any]:
    req = pb.HoursRequest(tenant_id=tenant_id, year=year)
    return _out(await call(_svc().Hours, req, caller))


@router.get(
    "/api/v1/volunteers/{volunteer_id}", response_model=model(pb.Volunteer), summary="志愿者详情"
)
async def get_volunteer(volunteer_id: str, caller: CallerDep) -> dict[str, Any]:
    req = pb.VolunteerRequest(volunteer_id=volunteer_id)
    return _out(await call(_svc().GetVolunteer, req, caller))


@router.get(
    "/api/v1/volunteers/{volunteer_id}/certificate",
    summary="下载志愿服务证明（年度已确认时长）",
    **download(DOCX, description="志愿服务证明（.docx）"),
)
async def certificate(
    volunteer_id: str, caller: CallerDep, year: Annotated[int, Query(ge=2000, le=2100)]
) -> Response:
    req = pb.CertificateRequest(volunteer_id=volunteer_id, year=year)
    return file_response(await call(_svc().Certificate, req, caller, 30.0))


# --- teams and records ---------------------------------------------------------------------


@router.get(
    "/api/v1/volunteer-orgs",
    response_model=model(pb.ListOrgsResponse),
    summary="本辖区的志愿服务队",
)
async def list_orgs(caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().ListOrgs, pb.ListOrgsRequest(), caller))


@router.post(
    "/api/v1/volunteer-orgs",
    status_code=201,
    response_model=model(pb.VolunteerOrg),
    summary="建立志愿服务队",
)
async def create_org(body: OrgIn, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().CreateOrg, pb.OrgInput(**body.model_dump()), caller))


@router.get(
    "/api/v1/volunteer-orgs/{org_id}",
    response_model=model(pb.VolunteerOrg),
    summary="志愿服务队详情",
)
async def get_org(org_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().GetOrg, pb.OrgRequest(org_id=org_id), caller))


@router.post(
    "/api/v1/volunteer-orgs/{org_id}/records",
    status_code=201,
    response_model=model(pb.ServiceRecord),
    summary="服务队登记志愿服务记录（待单位确认）",
)
async def add_record(org_id: str, body: RecordIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.RecordInput(org_id=org_id, **body.model_dump())
    return _out(await call(_svc().AddRecord, req, caller))


@router.get(
    "/api/v1/volunteer-records",
    response_model=model(pb.ListRecordsResponse),
    summary="志愿服务记录",
)
async def list_records(
    caller: CallerDep,
    org_id: Annotated[str, Query(max_length=40)] = "",
    volunteer_id: Annotated[str, Query(max_length=40)] = "",
    status: Literal["submitted", "confirmed", "rejected"] | None = None,
    year: Annotated[int, Query(ge=0, le=2100, description="0：全部年度")] = 0,
) -> dict[str, Any]:
    req = pb.ListRecordsRequest(
        org_id=org_id, volunteer_id=volunteer_id, status=status or "", year=year
    )
    return _out(await call(_svc().ListRecords, req, caller))


@router.post(
    "/api/v1/volunteer-records/{record_id}/decision",
    response_model=model(pb.ServiceRecord),
    summary="确认或退回志愿服务记录（退回须写明原因）",
)
async def decide(record_id: str, body: DecisionIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.DecideRecordRequest(record_id=record_id, action=body.action, reason=body.reason)
    return _out(await call(_svc().DecideRecord, req, caller))
