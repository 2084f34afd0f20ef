"""先进典型 showcase (issue 15): the scheme owner's selection API and the public page.

``/showcase`` is the platform's only page without sign-in: the honoured units, talents,
activities and works of published assessments, by year, with a photo, a name, a unit and the
citation, and nothing else about a person. It is rendered here from one gRPC call, with an
ETag that changes whenever what is published changes, so any cache in front may keep it.
"""

from __future__ import annotations

import html
from typing import Annotated, Any
from urllib.parse import quote

import grpc
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from kepu.assessment.v1 import assessment_pb2 as apb
from kepu.assessment.v1 import assessment_pb2_grpc as apbg
from kepu.assessment.v1 import showcase_pb2 as pb
from kepu.assessment.v1 import showcase_pb2_grpc as pbg
from kepu.projects.v1 import resources_pb2 as rspb
from kepu.projects.v1 import resources_pb2_grpc as rspbg
from kepu.reporting.v1 import reporting_pb2 as rpb
from kepu.reporting.v1 import reporting_pb2_grpc as rpbg
from kepu.talent.v1 import talent_pb2 as tpb
from kepu.talent.v1 import talent_pb2_grpc as tpbg

from ..deps import Caller, current_caller
from ..grpc_clients import call, stub
from ..messages import as_dict, model
from ..problems import Problem, from_grpc

router = APIRouter(tags=["showcase"])
CallerDep = Annotated[Caller, Depends(current_caller)]
PHOTO_MAX_BYTES = 5 * 1024 * 1024
CACHE = "public, max-age=60, stale-while-revalidate=600"
SECTIONS = (
    ("unit", "先进单位"),
    ("talent", "优秀科普人才"),
    ("activity", "优秀科普活动"),
    ("resource", "优秀科普作品"),
)


def _svc() -> pbg.ShowcaseServiceStub:
    return stub("assessment", pbg.ShowcaseServiceStub)


def _subject_error(message: str) -> Problem:
    return Problem(422, message, errors=[{"field": "subject_id", "message": message}])


async def _check_talent(caller: Caller, req: pb.AddShowcaseItemRequest) -> None:
    """A talent as the caller sees it: certified, its name and 工作单位 (nothing else)."""
    try:
        t = await call(stub("talent", tpbg.TalentServiceStub).GetTalent,
                 tpb.GetTalentRequest(id=req.subject_id), caller)  # fmt: skip
    except Problem as exc:
        if exc.status in (400, 404, 422):
            raise _subject_error("未找到该人才，或无权查看。") from None
        raise
    req.subject_tenant_id, req.name = t.tenant_id, t.fields.name
    req.unit_name = t.fields.employer or t.tenant_name
    req.subject_published = t.status == "certified"


async def _check_activity(caller: Caller, req: pb.AddShowcaseItemRequest, year: int) -> None:
    """An activity of the scheme's year that the caller can see (its own or its subtree's)."""
    svc = stub("reporting", rpbg.ReportingServiceStub)
    for page in range(40):  # 500 a page: a province's year of activities at most
        res = await call(svc.ListActivities,
                   rpb.ListActivitiesRequest(period=str(year), subtree=True, limit=500,
                                             offset=page * 500), caller)  # fmt: skip
        for a in res.activities:
            if a.id == req.subject_id:
                req.subject_tenant_id, req.name = a.tenant_id, a.title
                req.subject_published = True
                return
        if len(res.activities) < 500:
            break
    raise _subject_error(f"未找到该科普活动（须为{year}年本单位或下级单位的活动）。")


async def _check_resource(caller: Caller, req: pb.AddShowcaseItemRequest) -> None:
    """A work of the 科普资源库 as the caller sees it: published, its title and owner."""
    try:
        r = await call(stub("projects", rspbg.ResourceServiceStub).GetResource,
                 rspb.ResourceRequest(resource_id=req.subject_id), caller)  # fmt: skip
    except Problem as exc:
        if exc.status in (400, 403, 404, 422):
            raise _subject_error("未找到该科普作品，或无权查看。") from None
        raise
    req.subject_tenant_id, req.name, req.unit_name = r.tenant_id, r.title, r.tenant_name
    req.subject_published = r.status == "published"


@router.post(
    "/api/v1/assessment/schemes/{scheme_id}/showcase",
    status_code=201,
    response_model=model(pb.ShowcaseItem),
    summary="评选先进典型（考核结果发布后，由考核方案制定单位选择）",
)
async def add_item(
    scheme_id: str,
    caller: CallerDep,
    kind: Annotated[
        str,
        Form(
            max_length=20,
            title="类别（必填）",
            description="unit 先进单位 / talent 优秀科普人才 / "
            "activity 优秀科普活动 / resource 优秀科普作品",
        ),
    ] = "",
    subject_id: Annotated[
        str,
        Form(max_length=40, title="表彰对象（必填）", description="单位、人才、活动或作品的编号"),
    ] = "",
    citation: Annotated[str, Form(max_length=500, title="推荐词（必填，10至500字）")] = "",
    photo: Annotated[UploadFile | None, File(title="照片（jpg/png，不超过5MB）")] = None,
) -> dict[str, Any]:
    content = b""
    if photo is not None and photo.filename:
        content = await photo.read(PHOTO_MAX_BYTES + 1)
        if len(content) > PHOTO_MAX_BYTES:
            detail = "照片过大（不超过5MB）。"
            raise Problem(422, detail, errors=[{"field": "photo", "message": detail}])
    req = pb.AddShowcaseItemRequest(
        scheme_id=scheme_id, kind=kind, subject_id=subject_id.strip(), citation=citation,
        photo_filename=(photo.filename or "") if photo is not None else "", photo=content,
    )  # fmt: skip
    if kind in ("talent", "activity", "resource"):
        # whose selection it is first: another unit meets 403/404, not a finding about the subject
        await call(_svc().ListItems, pb.ShowcaseSchemeRequest(scheme_id=scheme_id), caller)
    if kind == "talent":
        await _check_talent(caller, req)
    elif kind == "activity":
        scheme = await call(stub("assessment", apbg.AssessmentServiceStub).GetScheme,
            apb.SchemeRequest(scheme_id=scheme_id), caller,
        )  # fmt: skip
        await _check_activity(caller, req, scheme.year)
    elif kind == "resource":
        await _check_resource(caller, req)
    return as_dict(await call(_svc().AddItem, req, caller, 30.0))


@router.get(
    "/api/v1/assessment/schemes/{scheme_id}/showcase",
    response_model=model(pb.ShowcaseItemsResponse),
    summary="先进典型名单（含未发布的）",
)
async def list_items(scheme_id: str, caller: CallerDep) -> dict[str, Any]:
    return as_dict(
        await call(_svc().ListItems, pb.ShowcaseSchemeRequest(scheme_id=scheme_id), caller)
    )


@router.delete(
    "/api/v1/assessment/schemes/{scheme_id}/showcase/{item_id}",
    response_model=model(pb.ShowcaseItemsResponse),
    summary="移出先进典型名单（已发布的同时从公开页面撤下）",
)
async def remove_item(scheme_id: str, item_id: str, caller: CallerDep) -> dict[str, Any]:
    req = pb.ShowcaseItemRequest(scheme_id=scheme_id, item_id=item_id)
    return as_dict(await call(_svc().RemoveItem, req, caller))


@router.post(
    "/api/v1/assessment/schemes/{scheme_id}/showcase/publish",
    response_model=model(pb.ShowcaseItemsResponse),
    summary="发布先进典型（在公开的先进典型巡礼页面展示）",
)
async def publish(scheme_id: str, caller: CallerDep) -> dict[str, Any]:
    return as_dict(
        await call(_svc().Publish, pb.ShowcaseSchemeRequest(scheme_id=scheme_id), caller)
    )


# ---------------------------------------------------------------- public, without sign-in


async def _public(year: int) -> pb.PublicShowcaseResponse:
    try:
        return await _svc().ListPublic(pb.PublicShowcaseRequest(year=year), timeout=5.0)
    except grpc.RpcError as err:
        raise from_grpc(err) from None


def _not_modified(request: Request, etag: str) -> bool:
    tags = request.headers.get("if-none-match", "")
    return etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"


def _cached(request: Request, etag: str, make: Any) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    res: Response = make()
    res.headers.update(headers)
    return res


@router.get(
    "/api/v1/showcase",
    response_model=model(pb.PublicShowcaseResponse),
    summary="先进典型巡礼（公开，无需登录）",
)
async def public_json(
    request: Request, year: Annotated[int, Query(ge=0, le=2100, title="年度，0为全部")] = 0
) -> Response:
    data = await _public(year)
    return _cached(request, f'"j{year}-{data.version}"', lambda: JSONResponse(as_dict(data)))


@router.get("/showcase", include_in_schema=False, response_class=HTMLResponse)
async def page(request: Request) -> Response:
    data = await _public(0)
    return _cached(request, f'"h0-{data.version}"', lambda: HTMLResponse(render(data, 0)))


@router.get("/showcase/{year}", include_in_schema=False, response_class=HTMLResponse)
async def page_of_year(request: Request, year: Annotated[int, Path(ge=2000, le=2100)]) -> Response:
    data = await _public(year)
    if not data.items:
        raise Problem(404, f"{year}年尚未发布先进典型。")
    return _cached(request, f'"h{year}-{data.version}"', lambda: HTMLResponse(render(data, year)))


@router.get("/showcase/photos/{item_id}", include_in_schema=False)
async def photo(request: Request, item_id: Annotated[str, Path(max_length=40)]) -> Response:
    try:
        p = await _svc().GetPhoto(pb.PhotoRequest(item_id=item_id), timeout=10.0)
    except grpc.RpcError as err:
        raise from_grpc(err) from None
    return _cached(
        request, f'"p{p.version}"',
        lambda: Response(p.content, media_type=p.content_type,
                         headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(item_id)}"}),
    )  # fmt: skip


STYLE = """
body{margin:0;font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
color:#1f2d3d;background:#f5f7fa}
header{background:#1d4e89;color:#fff;padding:24px 16px;text-align:center}
header h1{margin:0;font-size:26px;letter-spacing:2px}header p{margin:8px 0 0;opacity:.85}
nav{text-align:center;padding:12px 8px}nav a{margin:0 6px;color:#1d4e89;text-decoration:none;
padding:4px 10px;border-radius:12px;display:inline-block}nav a.on{background:#1d4e89;color:#fff}
main{max-width:1100px;margin:0 auto;padding:0 12px 40px}
h2{border-left:4px solid #c0392b;padding-left:10px;font-size:22px;margin:28px 0 8px}
h3{font-size:17px;color:#606266;margin:18px 0 10px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:14px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.08);overflow:hidden}
.card img{width:100%;height:170px;object-fit:cover;display:block;background:#e4e7ed}
.card .ph{height:170px;display:flex;align-items:center;justify-content:center;
background:linear-gradient(135deg,#e8f0fb,#d6e4f5);color:#1d4e89;font-size:38px}
.card .b{padding:10px 14px 14px}.card h4{margin:0;font-size:17px}
.card .u{color:#909399;font-size:13px;margin:4px 0 8px}.card p{margin:0;font-size:14px;line-height:1.6}
.by{color:#909399;font-size:13px;margin:0 0 6px}footer{text-align:center;color:#909399;font-size:13px;padding:20px}
.empty{text-align:center;color:#909399;padding:60px 0}
"""


def render(data: pb.PublicShowcaseResponse, year: int) -> str:
    """The page: years, then per year each association's honours by kind, as cards."""
    e = html.escape
    nav = ['<a href="/showcase"' + (' class="on"' if year == 0 else "") + ">全部</a>"]
    nav += [
        f'<a href="/showcase/{y}"' + (' class="on"' if y == year else "") + f">{y}年</a>"
        for y in data.years
    ]
    body: list[str] = []
    by_year: dict[int, list[pb.ShowcaseItem]] = {}
    for i in data.items:
        by_year.setdefault(i.year, []).append(i)
    for y, items in by_year.items():
        body.append(f"<h2>{y}年度先进典型</h2>")
        owners: dict[str, list[pb.ShowcaseItem]] = {}
        for i in items:
            owners.setdefault(i.owner_name, []).append(i)
        for owner, its in owners.items():
            body.append(f'<p class="by">{e(owner)}表彰</p>')
            for kind, label in SECTIONS:
                cards = [i for i in its if i.kind == kind]
                if not cards:
                    continue
                body.append(f'<h3>{label}</h3><div class="grid">')
                for i in cards:
                    pic = (
                        f'<img src="/showcase/photos/{e(i.id)}" alt="{e(i.name)}" loading="lazy">'
                        if i.has_photo
                        else f'<div class="ph" aria-hidden="true">{e(i.name[:1])}</div>'
                    )
                    unit = f'<div class="u">{e(i.unit_name)}</div>' if i.unit_name else ""
                    body.append(
                        f'<article class="card">{pic}<div class="b"><h4>{e(i.name)}</h4>{unit}'
                        f"<p>{e(i.citation)}</p></div></article>"
                    )
                body.append("</div>")
    if not body:
        body.append('<p class="empty">尚未发布先进典型。</p>')
    title = f"{year}年度先进典型巡礼" if year else "先进典型巡礼"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title} · 科普云服务平台</title>"
        '<link rel="icon" href="/app/favicon.svg">'
        f"<style>{STYLE}</style></head><body>"
        f"<header><h1>{title}</h1><p>百千万科普工程 · 科普云服务平台</p></header>"
        f'<nav aria-label="年度">{"".join(nav)}</nav><main>{"".join(body)}</main>'
        "<footer>科普云服务平台 · 先进典型每年一月发布</footer></body></html>"
    )
