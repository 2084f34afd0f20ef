"""The resource library 科普资源库 (projects service, issue 15): resources with their files,
review by the owner's parent, sharing, downloads and the yearly count against the target."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from kepu.projects.v1 import resources_pb2 as pb
from kepu.projects.v1 import resources_pb2_grpc as pbg
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Caller, current_caller
from ..files import ANY_FILE, download, file_response
from ..grpc_clients import call, stub
from ..messages import as_dict, model
from ..problems import Problem

router = APIRouter(tags=["resources"])
CallerDep = Annotated[Caller, Depends(current_caller)]
Kind = Literal["文章", "挂图", "漫画", "微视频", "微电影", "动漫", "展板", "课件", "游戏", "其他"]
MAX_FILE_BYTES = 50 * 1024 * 1024  # the service's default limit; it checks its own too


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(title="资源类型")
    title: str = Field(max_length=200, title="资源名称")
    theme: str = Field(
        max_length=50, title="主题", description="生态文明、安全健康、应急科普、乡村振兴…"
    )
    summary: str = Field(default="", max_length=2000, title="内容简介")
    author_ids: list[str] = Field(
        default_factory=list, max_length=20, title="作者", description="人才库中科普人才的编号"
    )
    share_scope: Literal["subtree", "province"] = Field(
        default="subtree", title="共享范围", description="subtree 本辖区共享 / province 全省共享"
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "return"] = Field(
        title="审核结果", description="approve 通过并发布 / return 退回修改"
    )
    reason: str = Field(default="", max_length=1000, title="退回原因")


def _svc() -> pbg.ResourceServiceStub:
    return stub("projects", pbg.ResourceServiceStub)


def _input(body: ResourceIn) -> pb.ResourceInput:
    return pb.ResourceInput(**body.model_dump())


@router.get(
    "/api/v1/resources",
    response_model=model(pb.ListResourcesResponse, numbers=True),
    summary="科普资源（本辖区的，或 shared=true 时共享给本单位的已发布资源）",
)
async def list_resources(
    caller: CallerDep,
    shared: bool = False,
    kind: Kind | None = None,
    theme: Annotated[str, Query(max_length=50)] = "",
    status: Literal["draft", "submitted", "published", "returned"] | None = None,
    q: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    req = pb.ListResourcesRequest(
        shared=shared, kind=kind or "", theme=theme, status=status or "", q=q, limit=limit,
        offset=offset,
    )  # fmt: skip
    return as_dict(await call(_svc().ListResources, req, caller), numbers=True)


@router.post(
    "/api/v1/resources",
    response_model=model(pb.Resource, numbers=True),
    status_code=201,
    summary="登记科普资源（草稿）",
)
async def create_resource(body: ResourceIn, caller: CallerDep) -> dict[str, Any]:
    return as_dict(await call(_svc().CreateResource, _input(body), caller), numbers=True)


@router.get(
    "/api/v1/resources/count",
    response_model=model(pb.ResourceCountResponse, numbers=True),
    summary="年度科普资源开发数（本级及各下级，逐级汇总，对照全省每年1000项）",
)
async def yearly_count(
    caller: CallerDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
    tenant_id: Annotated[str, Query(max_length=40)] = "",
) -> dict[str, Any]:
    req = pb.ResourceCountRequest(tenant_id=tenant_id, year=year)
    return as_dict(await call(_svc().YearlyCount, req, caller), numbers=True)


@router.get(
    "/api/v1/resources/{resource_id}",
    response_model=model(pb.Resource, numbers=True),
    summary="科普资源详情",
)
async def get_resource(resource_id: str, caller: CallerDep) -> dict[str, Any]:
    req = pb.ResourceRequest(resource_id=resource_id)
    return as_dict(await call(_svc().GetResource, req, caller), numbers=True)


@router.put(
    "/api/v1/resources/{resource_id}",
    response_model=model(pb.Resource, numbers=True),
    summary="修改科普资源（草稿或已退回）",
)
async def update_resource(resource_id: str, body: ResourceIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.UpdateResourceRequest(resource_id=resource_id, resource=_input(body))
    return as_dict(await call(_svc().UpdateResource, req, caller), numbers=True)


@router.post(
    "/api/v1/resources/{resource_id}/files",
    response_model=model(pb.ResourceFile, numbers=True),
    status_code=201,
    summary="上传资源文件（pdf、jpg/png、docx、pptx、mp4，不超过50MB）",
)
async def upload_file(
    resource_id: str, caller: CallerDep, file: Annotated[UploadFile, File(title="资源文件")]
) -> dict[str, Any]:
    content = await file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        detail = f"资源文件过大（不超过{MAX_FILE_BYTES // (1024 * 1024)}MB）。"
        raise Problem(422, detail, errors=[{"field": "file", "message": detail}])
    req = pb.UploadResourceFileRequest(
        resource_id=resource_id, filename=file.filename or "", content=content
    )
    msg = await call(_svc().UploadFile, req, caller, 120.0)
    return as_dict(msg, numbers=True)


@router.get(
    "/api/v1/resources/{resource_id}/files/{file_id}",
    summary="下载资源文件（已发布的资源计入下载次数）",
    **download(ANY_FILE, description="资源文件"),
)
async def download_file(resource_id: str, file_id: str, caller: CallerDep) -> Response:
    req = pb.ResourceFileRequest(resource_id=resource_id, file_id=file_id)
    return file_response(await call(_svc().DownloadFile, req, caller, 120.0))


@router.post(
    "/api/v1/resources/{resource_id}/submit",
    response_model=model(pb.Resource, numbers=True),
    summary="提交上级审核",
)
async def submit(resource_id: str, caller: CallerDep) -> dict[str, Any]:
    req = pb.ResourceRequest(resource_id=resource_id)
    return as_dict(await call(_svc().Submit, req, caller), numbers=True)


@router.post(
    "/api/v1/resources/{resource_id}/review",
    response_model=model(pb.Resource, numbers=True),
    summary="上级审核：通过并发布，或退回修改（须填写原因）",
)
async def review(resource_id: str, body: ReviewIn, caller: CallerDep) -> dict[str, Any]:
    req = pb.ReviewResourceRequest(resource_id=resource_id, **body.model_dump())
    return as_dict(await call(_svc().Review, req, caller), numbers=True)
