"""项目: the key project library 重点项目库 (入库表, 附表3) and the calls 申报批次 of the upper
levels (opinions, expert scores, ranking, top-N selection). Pages are server-rendered; the
actions are posted by ``projects.js`` to the REST API and answered in plain Chinese."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .client import ApiError, get_json
from .pages import TEMPLATES, message_page, my_tenant, render, session_of, to_login
from .sessions import PortalSession
from .widgets import local_time, today

router = APIRouter(include_in_schema=False)
TEMPLATES.env.filters["local_time"] = local_time
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def who(actor: str | None) -> str:
    """The actor as recorded: a name is shown, a bare account id is not (it means nothing)."""
    return "" if not actor or UUID.match(actor) else actor


TEMPLATES.env.filters["who"] = who

STATUS_CN = {
    "draft": "草稿",
    "submitted": "已申报（逐级审核中）",
    "returned": "已退回修改",
    "expert_review": "专家评审中",
    "approved": "已入库立项",
    "rejected": "未通过",
    "in_progress": "实施中",
    "completed": "已完成",
    "evaluated": "已考核",
}
CATEGORIES = [
    ("activity", "科普活动"),
    ("creation", "科普创作"),
    ("facility", "科普设施建设"),
    ("other", "其他"),
]
PROGRAMMES = [
    "现代农业科普园",
    "科普示范社区",
    "农村中学科技馆",
    "i科普科技志愿服务",
    "中原科普讲坛",
    "科普教育基地",
]
DEFAULT_CRITERIA = [("科学性", 30), ("创新性", 25), ("可行性", 25), ("预期绩效", 20)]
LIBRARY = ("approved", "in_progress", "completed", "evaluated")
FIELDS = [
    ("name", "项目名称"),
    ("applicant_unit", "申报单位"),
    ("completing_unit", "项目完成单位"),
    ("contact_person", "联系人"),
    ("contact_phone", "联系电话"),
    ("category_label", "项目类别"),
    ("period", "项目实施时间"),
    ("content", "项目基本内容"),
    ("expected_performance", "项目预期绩效"),
    ("budget", "项目预算（元）"),
]
TEMPLATES_CTX = {"STATUS_CN": STATUS_CN, "CATEGORIES": CATEGORIES}


def _roles(s: PortalSession) -> set[str]:
    return set(s.user.get("roles", []))


def has_children(me: dict[str, Any]) -> bool:
    return me.get("kind") not in ("township", "society")


async def _guard(request: Request, s: PortalSession) -> dict[str, Any] | Response:
    try:
        return await my_tenant(request, s)
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        return message_page(request, "出错了", exc.detail, exc.status)


@router.get("/projects")
async def projects_page(request: Request) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    me = await _guard(request, s)
    if isinstance(me, Response):
        return me
    qp = request.query_params
    filters = {k: qp.get(k, "")[:100] for k in ("status", "category", "q")}
    params: dict[str, Any] = {
        "subtree": "true",
        "limit": 200,
        **{k: v for k, v in filters.items() if v},
    }
    listing: dict[str, Any] = {"projects": [], "total": 0}
    awaiting: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    error = ""
    try:
        listing = await get_json(request, s, "/api/v1/projects", params=params)
        if has_children(me):
            awaiting = (
                await get_json(
                    request, s, "/api/v1/projects", params={"awaiting_me": "true", "limit": 200}
                )
            ).get("projects", [])
        calls = (
            await get_json(request, s, "/api/v1/calls", params={"fileable": "true", "open": "true"})
        ).get("calls", [])
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        error = exc.detail
    year = today().year
    return render(
        request,
        s,
        "projects.html",
        "projects",
        title="项目",
        me=me,
        projects=listing.get("projects", []),
        total=listing.get("total", 0),
        awaiting=awaiting,
        calls=calls,
        filters=filters,
        error=error,
        chosen_call=qp.get("call", ""),
        can_file=bool({"admin", "reporter"} & _roles(s)) and me.get("kind") != "province",
        upper=has_children(me),
        months=(f"{year}-01", f"{year}-12"),
        **TEMPLATES_CTX,
    )


@router.get("/projects/{project_id}")
async def project_page(request: Request, project_id: str) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    me = await _guard(request, s)
    if isinstance(me, Response):
        return me
    try:
        p = await get_json(request, s, f"/api/v1/projects/{project_id}")
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        return message_page(request, "出错了", exc.detail, exc.status)
    call: dict[str, Any] = {}
    if p.get("call_id"):
        try:
            call = await get_json(request, s, f"/api/v1/calls/{p['call_id']}")
        except ApiError:
            call = {}
    roles = _roles(s)
    own = p.get("tenant_id") == me.get("id")
    call_owner = bool(call) and call.get("owner_tenant_id") == me.get("id")
    status = p.get("status", "")
    p["period"] = f"{p.get('start_month', '')} 至 {p.get('end_month', '')}"
    return render(
        request,
        s,
        "project_detail.html",
        "projects",
        title=p.get("name") or "项目详情",
        me=me,
        p=p,
        call=call,
        fields=FIELDS,
        can_submit=own and status in ("draft", "returned") and bool({"admin", "reporter"} & roles),
        can_review=(
            status == "submitted"
            and p.get("awaiting_code") == me.get("code")
            and bool({"admin", "reviewer"} & roles)
        ),
        can_progress=own and status in ("approved", "in_progress"),
        can_complete=own and status == "in_progress",
        can_evaluate=call_owner and status == "completed",
        can_award=call_owner and status in LIBRARY and "admin" in roles,
        can_reveal=bool({"admin", "reviewer"} & roles),
        **TEMPLATES_CTX,
    )


@router.get("/calls")
async def calls_page(request: Request) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    me = await _guard(request, s)
    if isinstance(me, Response):
        return me
    calls: list[dict[str, Any]] = []
    error = ""
    try:
        calls = (await get_json(request, s, "/api/v1/calls")).get("calls", [])
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        error = exc.detail
    mine = [c for c in calls if c.get("owner_tenant_id") == me.get("id")]
    upper = [c for c in calls if c.get("owner_tenant_id") != me.get("id")]
    day = today()
    return render(
        request,
        s,
        "calls.html",
        "projects",
        title="申报批次",
        me=me,
        mine=mine,
        upper=upper,
        error=error,
        can_open=has_children(me) and "admin" in _roles(s),
        programmes=PROGRAMMES,
        criteria=DEFAULT_CRITERIA,
        year=day.year,
        today=day.isoformat(),
    )


@router.get("/calls/{call_id}")
async def call_page(request: Request, call_id: str) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    me = await _guard(request, s)
    if isinstance(me, Response):
        return me
    try:
        call = await get_json(request, s, f"/api/v1/calls/{call_id}")
        filed = await get_json(
            request,
            s,
            "/api/v1/projects",
            params={"call_id": call_id, "subtree": "true", "limit": 500},
        )
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        return message_page(request, "出错了", exc.detail, exc.status)
    owner = call.get("owner_tenant_id") == me.get("id")
    ranking: dict[str, Any] = {"entries": []}
    ranking_error = ""
    if owner:
        try:
            ranking = await get_json(request, s, f"/api/v1/calls/{call_id}/ranking")
        except ApiError as exc:
            ranking_error = exc.detail
    projects = [p for p in filed.get("projects", []) if p.get("status") != "draft"]
    roles = _roles(s)
    quota = int(call.get("quota") or 0)
    approved = int(call.get("approved") or 0)
    return render(
        request,
        s,
        "call_detail.html",
        "projects",
        title=call.get("title") or "申报批次",
        me=me,
        call=call,
        owner=owner,
        projects=projects,
        in_review=[p for p in projects if p.get("status") == "expert_review"],
        ranking=ranking.get("entries", []),
        ranking_error=ranking_error,
        remaining=max(quota - approved, 0) if quota else 0,
        can_review=bool({"admin", "reviewer"} & roles),
        can_select=owner and "admin" in roles,
        **TEMPLATES_CTX,
    )
