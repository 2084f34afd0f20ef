"""Talent pool 科普人才库 (talent service): records, review chain, import/export, archive."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from kepu.talent.v1 import talent_pb2 as pb
from kepu.talent.v1 import talent_pb2_grpc as pbg
from kepu_talent import fields
from pydantic import BaseModel, ConfigDict, Field, create_model

from ..deps import Caller, current_caller
from ..files import ANY_FILE, DOCX, XLSX, download, file_response, read_upload
from ..grpc_clients import call, stub
from ..messages import as_dict as out
from ..messages import model
from ..problems import Problem

router = APIRouter(tags=["talents"])
CallerDep = Annotated[Caller, Depends(current_caller)]
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024

Category = Literal[
    "青少年科普",
    "农村科普",
    "社区科普",
    "园区科普",
    "公务员科普",
    "服务双创",
    "服务精准扶贫",
    "科普创作",
    "其他",
]
Status = Literal[
    "draft", "recommended", "city_reviewed", "certified", "rejected", "suspended", "revoked"
]


def _form_field(f: fields.Field) -> tuple[Any, Any]:
    """One 推荐表 field of the request schema, from the field table."""
    kind: Any = list[str] if f.multiple else str
    default: Any = ... if f.required else ""
    return kind, Field(default, max_length=f.max_length, description=f.label + f.hint)


_FORM_FIELDS: dict[str, Any] = {f.key: _form_field(f) for f in fields.FIELDS}
TalentIn = create_model(
    "TalentIn",
    __config__=ConfigDict(extra="forbid"),
    __doc__="推荐表的字段（服务端校验民族、政治面貌、学历、电话、邮箱等并给出中文说明）。",
    **_FORM_FIELDS,
)


class TalentCreate(TalentIn):
    tenant_id: str = Field("", max_length=40, description="所属单位（默认为本单位）")


class OpinionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opinion: str = Field("", max_length=2000, description="推荐意见")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"] = Field(title="审核结论")
    opinion: str = Field("", max_length=2000, description="意见；不通过时为理由（必填）")


class BulkReviewIn(ReviewIn):
    ids: list[str] = Field(min_length=1, max_length=500, title="人才编号")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=2000, title="理由")


class QuotaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quota: int = Field(ge=-1, le=1_000_000, description="人才指标；-1 恢复默认")


class ArchiveEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["training", "activity", "resource"] = Field(title="档案类别")
    title: str = Field(min_length=1, max_length=200, title="标题")
    occurred_on: str = Field("", max_length=10, title="日期", description="YYYY-MM-DD")
    hours: float = Field(0, ge=0, le=10000, title="学时")
    description: str = Field("", max_length=4000, title="说明")


def talents() -> pbg.TalentServiceStub:
    return stub("talent", pbg.TalentServiceStub)


@router.get(
    "/api/v1/talents",
    response_model=model(pb.ListTalentsResponse),
    summary="检索科普人才（姓名、专长、类别、地区、状态，分页）",
)
async def list_talents(
    caller: CallerDep,
    q: Annotated[str, Query(max_length=50, description="姓名或工作单位")] = "",
    specialty: Annotated[str, Query(max_length=50, title="科普专长")] = "",
    category: Category | None = None,
    tenant_id: Annotated[str, Query(max_length=40, description="地区（下级单位）")] = "",
    status: Status | None = None,
    page: Annotated[int, Query(ge=1, le=100000, title="页码")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200, title="每页条数")] = 20,
) -> dict[str, Any]:
    request = pb.ListTalentsRequest(
        q=q,
        specialty=specialty,
        category=category or "",
        tenant_id=tenant_id,
        status=status or "",
        page=page,
        page_size=page_size,
    )
    return out(await call(talents().ListTalents, request, caller))


@router.post(
    "/api/v1/talents",
    response_model=model(pb.Talent),
    status_code=201,
    summary="录入科普人才（推荐表）",
)
async def create_talent(body: TalentCreate, caller: CallerDep) -> dict[str, Any]:
    fields = body.model_dump(exclude={"tenant_id"})
    request = pb.CreateTalentRequest(fields=pb.TalentInput(**fields), tenant_id=body.tenant_id)
    return out(await call(talents().CreateTalent, request, caller))


@router.get(
    "/api/v1/talents/stats",
    response_model=model(pb.StatsResponse),
    summary="人才指标完成情况（本单位及各下级）",
)
async def stats(caller: CallerDep) -> dict[str, Any]:
    return out(await call(talents().GetStats, pb.StatsRequest(), caller))


@router.put(
    "/api/v1/talents/quotas/{tenant_id}",
    response_model=model(pb.TenantQuota),
    summary="调整下级单位的人才指标",
)
async def set_quota(tenant_id: str, body: QuotaIn, caller: CallerDep) -> dict[str, Any]:
    request = pb.SetQuotaRequest(tenant_id=tenant_id, quota=body.quota)
    return out(await call(talents().SetQuota, request, caller))


@router.post(
    "/api/v1/talents/import",
    response_model=model(pb.ImportJob),
    summary="导入汇总表（附表4/附表5，xlsx）",
    description="等待完成（wait=true）时：成功 200；整表未通过校验 422（problem+json，errors 为逐行错误，"
    "未写入任何记录）。后台导入（wait=false）：202，Location 指向进度查询。",
    responses={
        202: {"description": "已受理，后台导入"},
        422: {"description": "导入失败，逐行错误"},
    },
)
async def import_talents(
    response: Response,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="汇总表 .xlsx")],
    mode: Annotated[
        Literal["all_or_nothing", "valid_only"], Form(title="导入方式")
    ] = "all_or_nothing",
    tenant_id: Annotated[str, Form(max_length=40, title="所属单位")] = "",
    wait: Annotated[
        bool, Form(title="等待完成", description="false: 立即返回任务，用 imports/{id} 查询进度")
    ] = True,
) -> dict[str, Any]:
    content = await read_upload(file, MAX_IMPORT_BYTES)
    request = pb.ImportRequest(
        content=content, filename=file.filename or "", mode=mode, tenant_id=tenant_id, wait=wait
    )
    job = await call(talents().StartImport, request, caller, 120.0)
    if not wait:
        response.status_code = 202
        response.headers["Location"] = f"/api/v1/talents/imports/{job.id}"
    elif job.status == "failed":
        raise import_failed(job)
    return out(job)


def import_failed(job: pb.ImportJob) -> Problem:
    """A failed import the caller waited for: 422 with the row errors (nothing was written)."""
    detail = job.message or f"导入失败：{job.error_count} 处错误，未写入任何记录。"
    return Problem(
        422,
        detail,
        errors=[
            {
                "row": e.row,
                "column": e.column,
                "field": e.field,
                "label": e.field,
                "message": e.message,
                "name": e.name,
            }
            for e in job.errors
        ],
        headers={"Location": f"/api/v1/talents/imports/{job.id}"},
    )


@router.get(
    "/api/v1/talents/imports/{import_id}",
    response_model=model(pb.ImportJob),
    summary="导入进度与逐行错误",
)
async def get_import(import_id: str, caller: CallerDep) -> dict[str, Any]:
    return out(await call(talents().GetImport, pb.GetImportRequest(id=import_id), caller))


@router.get(
    "/api/v1/talents/export",
    summary="导出汇总表（xlsx）",
    **download(XLSX),
)
async def export(
    caller: CallerDep,
    tenant_id: Annotated[str, Query(max_length=40)] = "",
    layout: Literal["county", "society"] | None = None,
    status: Status | None = None,
    reveal: bool = False,
) -> Response:
    request = pb.ExportRequest(
        tenant_id=tenant_id, layout=layout or "", status=status or "", reveal=reveal
    )
    return file_response(await call(talents().Export, request, caller, timeout=60.0))


@router.get(
    "/api/v1/talents/import-template",
    summary="下载导入模板（空白汇总表 xlsx，附表4/附表5）",
    **download(XLSX),
)
async def import_template(
    caller: CallerDep,
    tenant_id: Annotated[str, Query(max_length=40)] = "",
    layout: Literal["county", "society"] | None = None,
) -> Response:
    request = pb.ExportRequest(tenant_id=tenant_id, layout=layout or "", template=True)
    return file_response(await call(talents().Export, request, caller, timeout=30.0))


@router.post(
    "/api/v1/talents/bulk-review",
    response_model=model(pb.BulkReviewResponse),
    summary="批量审核（逐条返回结果）",
)
async def bulk_review(body: BulkReviewIn, caller: CallerDep) -> dict[str, Any]:
    request = pb.BulkReviewRequest(ids=body.ids, decision=body.decision, opinion=body.opinion)
    return out(await call(talents().BulkReview, request, caller, timeout=30.0))


@router.get(
    "/api/v1/talents/{talent_id}",
    response_model=model(pb.Talent),
    summary="人才详情（reveal=true 查看完整个人信息，留痕）",
)
async def get_talent(talent_id: str, caller: CallerDep, reveal: bool = False) -> dict[str, Any]:
    return out(
        await call(talents().GetTalent, pb.GetTalentRequest(id=talent_id, reveal=reveal), caller)
    )


@router.put("/api/v1/talents/{talent_id}", response_model=model(pb.Talent), summary="修改草稿")
async def update_talent(talent_id: str, body: TalentIn, caller: CallerDep) -> dict[str, Any]:
    request = pb.UpdateTalentRequest(id=talent_id, fields=pb.TalentInput(**body.model_dump()))
    return out(await call(talents().UpdateTalent, request, caller))


@router.post(
    "/api/v1/talents/{talent_id}/recommend",
    response_model=model(pb.Talent),
    summary="县（市、区）科协或学会推荐",
)
async def recommend(talent_id: str, body: OpinionIn, caller: CallerDep) -> dict[str, Any]:
    request = pb.RecommendRequest(id=talent_id, opinion=body.opinion)
    return out(await call(talents().Recommend, request, caller))


@router.post(
    "/api/v1/talents/{talent_id}/review",
    response_model=model(pb.Talent),
    summary="市级意见或省级资格审核",
)
async def review(talent_id: str, body: ReviewIn, caller: CallerDep) -> dict[str, Any]:
    request = pb.ReviewRequest(id=talent_id, decision=body.decision, opinion=body.opinion)
    return out(await call(talents().Review, request, caller))


async def _lifecycle(action: str, talent_id: str, body: ReasonIn, caller: Caller) -> dict[str, Any]:
    request = pb.LifecycleRequest(id=talent_id, action=action, reason=body.reason)
    return out(await call(talents().ChangeLifecycle, request, caller))


@router.post(
    "/api/v1/talents/{talent_id}/suspend", response_model=model(pb.Talent), summary="暂停（省科协）"
)
async def suspend(talent_id: str, body: ReasonIn, caller: CallerDep) -> dict[str, Any]:
    return await _lifecycle("suspend", talent_id, body, caller)


@router.post(
    "/api/v1/talents/{talent_id}/reinstate",
    response_model=model(pb.Talent),
    summary="恢复（省科协）",
)
async def reinstate(talent_id: str, body: ReasonIn, caller: CallerDep) -> dict[str, Any]:
    return await _lifecycle("reinstate", talent_id, body, caller)


@router.post(
    "/api/v1/talents/{talent_id}/revoke", response_model=model(pb.Talent), summary="撤销（省科协）"
)
async def revoke(talent_id: str, body: ReasonIn, caller: CallerDep) -> dict[str, Any]:
    return await _lifecycle("revoke", talent_id, body, caller)


@router.get(
    "/api/v1/talents/{talent_id}/form.docx",
    summary="推荐表（docx）",
    **download(DOCX),
)
async def form(talent_id: str, caller: CallerDep) -> Response:
    return file_response(
        await call(talents().RenderForm, pb.RenderFormRequest(id=talent_id), caller)
    )


@router.get(
    "/api/v1/talents/{talent_id}/archive", response_model=model(pb.Archive), summary="电子档案"
)
async def archive(talent_id: str, caller: CallerDep) -> dict[str, Any]:
    return out(await call(talents().GetArchive, pb.GetArchiveRequest(talent_id=talent_id), caller))


@router.post(
    "/api/v1/talents/{talent_id}/archive/entries",
    response_model=model(pb.ArchiveEntry),
    status_code=201,
    summary="添加档案记录",
)
async def add_archive_entry(
    talent_id: str, body: ArchiveEntryIn, caller: CallerDep
) -> dict[str, Any]:
    request = pb.AddArchiveEntryRequest(talent_id=talent_id, **body.model_dump())
    return out(await call(talents().AddArchiveEntry, request, caller))


@router.post(
    "/api/v1/talents/{talent_id}/archive/attachments",
    response_model=model(pb.Attachment),
    status_code=201,
    summary="上传档案附件",
)
async def upload_attachment(
    talent_id: str, caller: CallerDep, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    content = await read_upload(file, MAX_ATTACHMENT_BYTES)
    request = pb.UploadAttachmentRequest(
        talent_id=talent_id,
        filename=file.filename or "",
        content=content,
        content_type=file.content_type or "",
    )
    return out(await call(talents().UploadAttachment, request, caller, 60.0))


@router.get(
    "/api/v1/talents/{talent_id}/archive/attachments/{attachment_id}",
    summary="下载附件",
    **download(ANY_FILE),
)
async def download_attachment(talent_id: str, attachment_id: str, caller: CallerDep) -> Response:
    request = pb.GetAttachmentRequest(talent_id=talent_id, attachment_id=attachment_id)
    return file_response(await call(talents().GetAttachment, request, caller, timeout=60.0))
