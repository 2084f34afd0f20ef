"""The 科普中国 e站 network (reporting service, issue 14): stations with the 五有 checklist, the
review chain up to 认定, 科普信息员, monthly schedules and activities, denominators, coverage."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from google.protobuf import json_format
from kepu.reporting.v1 import stations_pb2 as pb
from kepu.reporting.v1 import stations_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..files import ANY_FILE, download, file_response, read_evidence
from ..grpc_clients import call, stub
from ..messages import as_dict as _out
from ..messages import model

router = APIRouter(tags=["estations"])
CallerDep = Annotated[Caller, Depends(current_caller)]
Kind = Literal["community", "school", "village"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConditionIn(Strict):
    code: Literal["network", "staff", "place", "activities", "terminal"] = Field(
        description="五有：network 有网络 / staff 有人员 / place 有场所 / activities 有活动 / terminal 有终端"
    )
    met: bool = Field(title="是否具备")
    evidence: str = Field(default="", max_length=2000, title="佐证材料")


class StationIn(Strict):
    tenant_id: str = Field(
        default="", max_length=40, title="所属乡镇或县区", description="默认本单位"
    )
    kind: Kind = Field(
        title="e站类型", description="community 社区e站 / school 校园e站 / village 乡村e站"
    )
    name: str = Field(max_length=100, title="e站名称")
    address: str = Field(default="", max_length=200, title="地址")
    host: str = Field(default="", max_length=100, title="依托单位")
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=5, title="五有条件")


class ActionIn(Strict):
    action: Literal[
        "county_approve", "city_certify", "return", "suspend", "reinstate", "withdraw"
    ] = Field(
        description="county_approve 县级审核 / city_certify 市级复核并认定 / return 退回 / suspend 暂停 /"
        " reinstate 恢复 / withdraw 撤销"
    )
    opinion: str = Field(default="", max_length=1000, title="意见")


class InformantIn(Strict):
    talent_id: str = Field(
        max_length=40, title="科普信息员", description="人才库中已认定的科普人才编号"
    )


class ScheduleIn(Strict):
    items: list[str] = Field(max_length=50, title="月度活动计划")


class ActivityIn(Strict):
    title: str = Field(max_length=200, title="活动名称")
    date: str = Field(max_length=10, title="活动日期", description="YYYY-MM-DD")
    participants: int = Field(ge=0, le=1_000_000, title="参与人数")


class DenominatorsIn(Strict):
    year: int = Field(ge=2000, le=2100, title="年度")
    communities: int = Field(ge=0, le=10_000_000, title="社区数")
    schools: int = Field(ge=0, le=10_000_000, title="学校数")
    villages: int = Field(ge=0, le=10_000_000, title="行政村数")


def _svc() -> pbg.StationServiceStub:
    return stub("reporting", pbg.StationServiceStub)


@router.get(
    "/api/v1/estations", response_model=model(pb.ListStationsResponse), summary="本辖区的e站"
)
async def list_stations(
    caller: CallerDep,
    tenant_id: Annotated[str, Query(max_length=40, description="下级单位")] = "",
    kind: Kind | None = None,
    status: Annotated[str, Query(max_length=20)] = "",
) -> dict[str, Any]:
    req = pb.ListStationsRequest(tenant_id=tenant_id, kind=kind or "", status=status)
    return _out(await call(_svc().ListStations, req, caller))


@router.post(
    "/api/v1/estations",
    response_model=model(pb.Station),
    status_code=201,
    summary="登记e站（乡镇或县区）",
)
async def create_station(body: StationIn, caller: CallerDep) -> dict[str, Any]:
    req = json_format.ParseDict(body.model_dump(), pb.StationInput())
    return _out(await call(_svc().CreateStation, req, caller))


@router.get(
    "/api/v1/estations/coverage",
    response_model=model(pb.CoverageResponse),
    summary="e站覆盖率（本级及各下级，逐级汇总）",
)
async def coverage(
    caller: CallerDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
    tenant_id: Annotated[str, Query(max_length=40)] = "",
) -> dict[str, Any]:
    return _out(
        await call(_svc().Coverage, pb.CoverageRequest(tenant_id=tenant_id, year=year), caller)
    )


@router.get(
    "/api/v1/estations/compliance",
    response_model=model(pb.ComplianceResponse),
    summary="某月未达标的e站（无50人以上活动）",
)
async def compliance(
    caller: CallerDep, month: Annotated[str, Query(max_length=7, description="YYYY-MM")]
) -> dict[str, Any]:
    return _out(await call(_svc().Compliance, pb.ComplianceRequest(month=month), caller))


@router.put(
    "/api/v1/estations/denominators/{tenant_id}",
    response_model=model(pb.CoverageRow),
    summary="填报社区、学校、行政村数量",
)
async def set_denominators(
    tenant_id: str, body: DenominatorsIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.DenominatorInput(tenant_id=tenant_id, **body.model_dump())
    return _out(await call(_svc().SetDenominators, req, caller))


@router.get("/api/v1/estations/{station_id}", response_model=model(pb.Station), summary="e站详情")
async def get_station(station_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().GetStation, pb.StationRequest(station_id=station_id), caller))


@router.post(
    "/api/v1/estations/{station_id}/conditions/{condition}/files",
    response_model=model(pb.StationFile),
    status_code=201,
    summary="上传“五有”条件的佐证材料（pdf、jpg/png、docx、xlsx，不超过20MB）",
)
async def upload_file(
    station_id: str,
    condition: Literal["network", "staff", "place", "activities", "terminal"],
    caller: CallerDep,
    file: Annotated[UploadFile, File(title="佐证材料")],
) -> dict[str, Any]:
    content = await read_evidence(file)
    req = pb.UploadStationFileRequest(
        station_id=station_id, condition=condition, filename=file.filename or "", content=content
    )
    return _out(await call(_svc().UploadFile, req, caller, 60.0))


@router.get(
    "/api/v1/estations/{station_id}/files/{file_id}",
    summary="下载“五有”佐证材料",
    **download(ANY_FILE),
)
async def download_file(station_id: str, file_id: str, caller: CallerDep) -> Response:
    req = pb.StationFileRequest(station_id=station_id, file_id=file_id)
    return file_response(await call(_svc().GetFile, req, caller, 60.0))


@router.post(
    "/api/v1/estations/{station_id}/submit", response_model=model(pb.Station), summary="申报认定"
)
async def submit(station_id: str, caller: CallerDep) -> dict[str, Any]:
    return _out(await call(_svc().Submit, pb.StationRequest(station_id=station_id), caller))


@router.post(
    "/api/v1/estations/{station_id}/actions",
    response_model=model(pb.Station),
    summary="审核、复核认定、退回、暂停、恢复、撤销",
)
async def act(station_id: str, body: ActionIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.StationActionRequest(station_id=station_id, action=body.action, opinion=body.opinion)
    return _out(await call(_svc().Act, req, caller))


@router.post(
    "/api/v1/estations/{station_id}/informants",
    response_model=model(pb.Station),
    summary="登记科普信息员",
)
async def add_informant(station_id: str, body: InformantIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.InformantRequest(station_id=station_id, talent_id=body.talent_id)
    return _out(await call(_svc().AddInformant, req, caller))


@router.put(
    "/api/v1/estations/{station_id}/schedules/{month}",
    response_model=model(pb.MonthsResponse),
    summary="报送月度活动计划",
)
async def file_schedule(
    station_id: str, month: str, body: ScheduleIn, caller: CallerDep
) -> dict[str, Any]:
    req = pb.ScheduleRequest(station_id=station_id, month=month, items=body.items)
    return _out(await call(_svc().FileSchedule, req, caller))


@router.post(
    "/api/v1/estations/{station_id}/activities",
    response_model=model(pb.StationActivity),
    status_code=201,
    summary="登记e站活动",
)
async def record_activity(station_id: str, body: ActivityIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.StationActivityInput(station_id=station_id, **body.model_dump())
    return _out(await call(_svc().RecordActivity, req, caller))


@router.get(
    "/api/v1/estations/{station_id}/months",
    response_model=model(pb.MonthsResponse),
    summary="逐月达标情况（未达标：无50人以上活动）",
)
async def months(
    station_id: str, caller: CallerDep, year: Annotated[int, Query(ge=2000, le=2100)]
) -> dict[str, Any]:
    return _out(
        await call(_svc().Months, pb.MonthsRequest(station_id=station_id, year=year), caller)
    )
