"""Portal pages: dashboard (首页), administration (管理) and the module pages."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from .client import ApiError, call, get_json, has_api
from .sessions import PortalSession
from .widgets import bar_chart, candidate_periods, default_periods, previous_month, today

router = APIRouter(include_in_schema=False)
TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATES = Jinja2Templates(directory=str(TEMPLATE_DIR))

NAV = [
    ("home", "/", "首页"),
    ("talents", "/talents", "人才库"),
    ("projects", "/projects", "项目"),
    ("reports", "/reports", "报表"),
    ("activities", "/activities", "活动"),
    ("assessment", "/assessment", "考核"),
    ("admin", "/admin", "管理"),
]
KIND_CN = {
    "province": "省科协",
    "city": "市科协",
    "county": "县（区）科协",
    "township": "乡镇（街道）科协",
    "society": "学会",
}
ROLE_CN = {
    "admin": "管理员",
    "reviewer": "审核员",
    "reporter": "填报员",
    "viewer": "查看",
    "platform_admin": "平台运维",
}
ACTION_CN = {
    "login": "登录",
    "login_failure": "登录失败",
    "login_blocked": "锁定期间尝试登录",
    "lockout": "账号锁定",
    "password_changed": "修改密码",
    "credential_issued": "分配账号",
    "credential_reset": "重置账号",
    "role_changed": "调整角色",
    "totp_enabled": "启用动态口令",
    "tenant_created": "新建单位",
    "personal_data_viewed": "查看个人信息",
    "personal_data_exported": "导出完整信息",
    "partner_access": "合作机构访问",
    "partner_registered": "登记合作机构",
    "partner_secret_rotated": "更换合作机构密钥",
    "partner_disabled": "停用合作机构",
}
DETAIL_CN = {
    "batch_id": "批次",
    "issued_by": "操作人",
    "client_id": "登录方式",
    "ip": "IP",
    "client_ip": "IP",
    "roles": "角色",
    "reason": "原因",
    "tenant_code": "单位代码",
    "kepu-portal": "门户",
    "kepu-cli": "脚本",
}
MODULES = {
    "talents": ("人才库", "/api/v1/talents"),
    "projects": ("项目", "/api/v1/projects"),
    "reports": ("报表", "/api/v1/reports"),
    "activities": ("活动", "/api/v1/activities"),
    "assessment": ("考核", "/api/v1/assessment"),
}
TEMPLATES.env.globals.update(
    DETAIL_CN=DETAIL_CN, KIND_CN=KIND_CN, ROLE_CN=ROLE_CN, ACTION_CN=ACTION_CN
)


def session_of(request: Request) -> PortalSession | None:
    s: PortalSession | None = getattr(request.state, "portal_session", None)
    return s if s is not None and s.signed_in else None


def to_login(request: Request) -> Response:
    return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)


def render(
    request: Request, s: PortalSession, template: str, active: str, **ctx: Any
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": s.user,
            "csrf": s.csrf,
            "nav": NAV,
            "active": active,
            "flashes": s.take_flashes(),
            **ctx,
        },
    )


def message_page(
    request: Request, title: str, message: str, status: int, login_link: bool = False
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        "message.html",
        {"title": title, "message": message, "login_link": login_link or status != 200},
        status_code=status,
    )


def back(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)


def check_csrf(s: PortalSession, token: str) -> bool:
    if token != s.csrf:
        s.flash("error", "页面已过期，请刷新页面后重新操作。")
        return False
    return True


async def my_tenant(request: Request, s: PortalSession) -> dict[str, Any]:
    me: dict[str, Any] = await get_json(request, s, "/api/v1/tenants/me")
    s.user["tenant_name"] = me["name"]
    return me


REPORT_STATUS_CN = {
    "none": "未填报",
    "draft": "草稿",
    "submitted": "已报送",
    "returned": "被退回",
    "accepted": "已接收",
}
DONE = ("submitted", "accepted")


async def upcoming_deadlines(
    request: Request, s: PortalSession, me: dict[str, Any], day: date
) -> list[dict[str, Any]]:
    """The caller's own reports due within 30 days (and the ones overdue, not yet submitted)."""
    types = (await get_json(request, s, "/api/v1/report-types")).get("types", [])
    wanted: list[tuple[dict[str, Any], str]] = []
    for t in types:
        if any(r.get("tenant_kind") == me["kind"] for r in t.get("due_rules", [])):
            wanted += [(t, p) for p in candidate_periods(t.get("period_kind", "month"), day)]

    async def one(t: dict[str, Any], period: str) -> dict[str, Any] | None:
        try:
            r = await get_json(request, s, f"/api/v1/reports/{t['code']}/{period}")
        except ApiError:
            return None
        if not r.get("deadline"):
            return None
        due = date.fromisoformat(r["deadline"])
        status = r.get("status") or "none"
        days = (due - day).days
        if days > 30 or (days < 0 and (status in DONE or days < -62)):
            return None
        return {
            "type_code": t["code"],
            "name": t["name"],
            "period": period,
            "deadline": r["deadline"],
            "days": days,
            "status": status,
            "status_label": r.get("status_label") or REPORT_STATUS_CN.get(status, status),
            "overdue": days < 0 and status not in DONE,
            "done": status in DONE,
        }

    found = await asyncio.gather(*(one(t, p) for t, p in wanted))
    return sorted((f for f in found if f), key=lambda f: (f["deadline"], f["name"]))


@router.get("/")
async def dashboard(request: Request) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    try:
        me = await my_tenant(request, s)
        children = await get_json(request, s, f"/api/v1/tenants/{me['id']}/children")
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        return message_page(request, "出错了", exc.detail, exc.status)
    stats: Any = None
    stats_error = ""
    chart: Any = None
    if has_api(request, "/api/v1/talents/stats"):
        try:
            stats = await get_json(request, s, "/api/v1/talents/stats")
            if stats.get("children"):
                chart = bar_chart(
                    [(c["name"], int(c.get("certified") or 0)) for c in stats["children"]],
                    "各下级单位已认定科普人才（人）",
                )
        except ApiError as exc:
            stats_error = exc.detail
    day = today()
    month = previous_month(day)
    deadlines: list[dict[str, Any]] = []
    month_overview: Any = None
    reports_error = ""
    reports_open = has_api(request, "/api/v1/reports")
    if reports_open:
        try:
            deadlines = await upcoming_deadlines(request, s, me, day)
            if children:
                month_overview = await get_json(
                    request, s, f"/api/v1/reports/monthly_brief/{month}/children"
                )
        except ApiError as exc:
            reports_error = exc.detail
    without_admin = [c for c in children if not c["has_admin"]]
    return render(
        request,
        s,
        "dashboard.html",
        "home",
        me=me,
        children=children,
        without_admin=without_admin,
        stats=stats,
        stats_error=stats_error,
        chart=chart,
        today=day.isoformat(),
        month=month,
        deadlines=deadlines,
        month_overview=month_overview,
        reports_error=reports_error,
        talents_open=has_api(request, "/api/v1/talents"),
        reports_open=reports_open,
    )


@router.get("/admin")
async def admin(request: Request) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    try:
        me = await my_tenant(request, s)
        children = await get_json(request, s, f"/api/v1/tenants/{me['id']}/children")
        users = await get_json(request, s, f"/api/v1/tenants/{me['id']}/users")
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        return message_page(request, "出错了", exc.detail, exc.status)
    audit: list[dict[str, Any]] = []
    audit_error = ""
    try:
        audit = await get_json(request, s, "/api/v1/audit", params={"limit": 50})
    except ApiError as exc:
        audit_error = exc.detail
    return render(
        request,
        s,
        "admin.html",
        "admin",
        me=me,
        children=children,
        users=users,
        audit=audit,
        audit_error=audit_error,
        is_admin="admin" in s.user.get("roles", []),
    )


@router.post("/admin/children")
async def create_child(
    request: Request,
    csrf: str = Form(""),
    code: str = Form(""),
    name: str = Form(""),
    kind: str = Form("township"),
) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    if not check_csrf(s, csrf):
        return back("/admin")
    if not code.strip() or not name.strip():
        s.flash("error", "请填写单位代码和名称。")
        return back("/admin")
    try:
        me = await my_tenant(request, s)
        await call(
            request,
            s,
            "POST",
            f"/api/v1/tenants/{me['id']}/children",
            json={"code": code.strip(), "name": name.strip(), "kind": kind},
        )
        s.flash("ok", f"已新建下级单位“{name.strip()}”。")
    except ApiError as exc:
        s.flash("error", f"新建单位没有成功：{exc.detail}")
    return back("/admin")


@router.post("/admin/credentials")
async def distribute(
    request: Request,
    csrf: str = Form(""),
    scope: str = Form("children"),
    reset_tenant_id: str = Form(""),
    branch_tenant_id: str = Form(""),
    slips: str = Form(""),
) -> Response:
    """Download the one-time distribution sheet (xlsx, or zip with the printable slips)."""
    s = session_of(request)
    if s is None:
        return to_login(request)
    if not check_csrf(s, csrf):
        return back("/admin")
    body: dict[str, Any] = {
        "scope": scope if scope in ("children", "subtree", "branch") else "children"
    }
    if body["scope"] == "branch":
        body["branch_tenant_id"] = branch_tenant_id
    if reset_tenant_id:
        body["reset_tenant_ids"] = [reset_tenant_id]
    accept = (
        "application/zip"
        if slips
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    try:
        me = await my_tenant(request, s)
        r = await call(
            request,
            s,
            "POST",
            f"/api/v1/tenants/{me['id']}/credentials",
            json=body,
            headers={"Accept": accept},
        )
    except ApiError as exc:
        s.flash("error", f"分配账号没有成功：{exc.detail}")
        return back("/admin")
    issued = r.headers.get("x-issued-count", "0")
    if issued == "0":
        s.flash(
            "info",
            "没有需要分配账号的下级单位（都已有管理员账号）。如需重新分配，请在单位列表中点“重置账号”。",
        )
        return back("/admin")
    keep = {
        k: v
        for k, v in r.headers.items()
        if k.lower() in ("content-type", "content-disposition", "x-issued-count", "x-batch-id")
    }
    keep["Cache-Control"] = "no-store"
    return Response(r.content, headers=keep)


@router.post("/admin/users/{user_id}/roles")
async def set_roles(request: Request, user_id: str) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    form = await request.form()
    if not check_csrf(s, str(form.get("csrf", ""))):
        return back("/admin")
    roles = [str(r) for r in form.getlist("roles")]
    if not roles:
        s.flash("error", "至少要保留一个角色。")
        return back("/admin")
    try:
        await call(request, s, "PUT", f"/api/v1/users/{user_id}/roles", json={"roles": roles})
        s.flash("ok", "角色已更新，用户下次登录（或 5 分钟内）生效。")
    except ApiError as exc:
        s.flash("error", f"调整角色没有成功：{exc.detail}")
    return back("/admin")


def module_page(key: str) -> Any:
    title, prefix = MODULES[key]

    async def page(request: Request) -> Response:
        s = session_of(request)
        if s is None:
            return to_login(request)
        if not has_api(request, prefix) or not (TEMPLATE_DIR / f"{key}.html").exists():
            return render(request, s, "building.html", key, title=title)
        try:
            me = await my_tenant(request, s)
        except ApiError as exc:
            if exc.status == 401:
                return to_login(request)
            return message_page(request, "出错了", exc.detail, exc.status)
        day = today()
        return render(
            request,
            s,
            f"{key}.html",
            key,
            title=title,
            me=me,
            today=day.isoformat(),
            periods=default_periods(day),
            is_reviewer=bool({"admin", "reviewer"} & set(s.user.get("roles", []))),
        )

    page.__name__ = f"{key}_page"
    return page


DEDICATED = {"projects", "assessment"}  # served by project_pages and assessment_pages

for _key in MODULES:
    if _key not in DEDICATED:
        router.add_api_route(f"/{_key}", module_page(_key), methods=["GET"])
