"""人才详情: the 推荐表 with masked personal data, the full view (audit-logged by the talent
service), the review history, the archive, and the review chain's actions as plain forms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from .client import ApiError, call, get_json
from .pages import back, check_csrf, message_page, my_tenant, render, session_of, to_login
from .sessions import PortalSession

router = APIRouter(include_in_schema=False)

FIELDS = [
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_month", "出生年月"),
    ("ethnicity", "民族"),
    ("political_status", "政治面貌"),
    ("education", "学历"),
    ("industry", "主要从事行业"),
    ("specialty", "科普专长"),
    ("employer", "工作单位"),
    ("position", "职务（职称）"),
    ("phone", "联系电话"),
    ("email", "电子邮箱"),
    ("im_account", "QQ号或微信号"),
    ("id_number", "身份证号"),
    ("categories", "科普人才服务类别"),
    ("biography", "个人基本情况"),
    ("experience", "科普工作经历"),
    ("plan", "拟开展科普工作"),
]
PERSONAL = {"phone", "email", "im_account", "id_number"}
STEP_CN = {
    "create": "录入",
    "recommend": "县（市、区）科协推荐",
    "city_opinion": "省辖市科协意见",
    "province_review": "省科协资格审核",
    "suspend": "暂停",
    "reinstate": "恢复",
    "revoke": "撤销",
}
STATUS_CN = {
    "draft": "草稿",
    "recommended": "已推荐",
    "city_reviewed": "市级已审",
    "certified": "已认定",
    "rejected": "未通过",
    "suspended": "已暂停",
    "revoked": "已撤销",
}
ARCHIVE_KIND_CN = {"training": "继续教育", "activity": "开展活动", "resource": "开发资源"}
NOTICES = {"created": "已保存为草稿。请核对推荐表内容，无误后填写推荐意见并点“推荐”。"}


def is_reviewer(s: PortalSession) -> bool:
    return bool({"admin", "reviewer"} & set(s.user.get("roles", [])))


def parent_path(path: str) -> str:
    return path.rpartition(".")[0]


def pending_action(me: dict[str, Any], t: dict[str, Any]) -> str:
    """What this tenant may do with the talent now: recommend | city | province | ''."""
    status, path, mine = t.get("status"), t.get("tenant_path", ""), me.get("path", "")
    if status == "draft" and me.get("kind") in ("county", "society"):
        if mine in (path, parent_path(path)):
            return "recommend"
    if status == "recommended" and me.get("kind") == "city" and path.startswith(mine + "."):
        return "city"
    if me.get("kind") == "province":
        no_city = path.count(".") < 2  # e.g. a province-level society: no city opinion
        if status == "city_reviewed" or (status == "recommended" and no_city):
            return "province"
    return ""


async def detail(
    request: Request, s: PortalSession, talent_id: str, *, reveal: bool = False
) -> Response:
    try:
        me = await my_tenant(request, s)
        params = {"reveal": "true"} if reveal else {}
        talent = await get_json(request, s, f"/api/v1/talents/{talent_id}", params=params)
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        if reveal and exc.status == 403:
            s.flash("error", f"不能查看完整信息：{exc.detail}")
            return back(f"/talents/{talent_id}")
        return message_page(request, "出错了", exc.detail, exc.status)
    archive: dict[str, Any] = {"entries": [], "attachments": []}
    archive_error = ""
    try:
        archive = await get_json(request, s, f"/api/v1/talents/{talent_id}/archive")
    except ApiError as exc:
        archive_error = exc.detail
    notice = NOTICES.get(request.query_params.get("msg", ""))
    if notice:
        s.flash("ok", notice)
    action = pending_action(me, talent)
    return render(
        request,
        s,
        "talent_detail.html",
        "talents",
        title="人才详情",
        me=me,
        t=talent,
        f=talent.get("fields", {}),
        fields=FIELDS,
        personal=PERSONAL,
        history=talent.get("history", []),
        archive=archive,
        archive_error=archive_error,
        action=action,
        can_reveal=is_reviewer(s),
        STEP_CN=STEP_CN,
        STATUS_CN=STATUS_CN,
        ARCHIVE_KIND_CN=ARCHIVE_KIND_CN,
    )


@router.get("/talents/{talent_id}")
async def talent_page(request: Request, talent_id: str) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    return await detail(request, s, talent_id)


@router.post("/talents/{talent_id}/reveal")
async def reveal(request: Request, talent_id: str, csrf: str = Form("")) -> Response:
    """The full personal data, shown once in this response (never stored in the session)."""
    s = session_of(request)
    if s is None:
        return to_login(request)
    if not check_csrf(s, csrf):
        return back(f"/talents/{talent_id}")
    s.flash("info", "以下为完整个人信息，本次查看已记入操作日志。请勿外传。")
    return await detail(request, s, talent_id, reveal=True)


@router.post("/talents/{talent_id}/recommend")
async def recommend(
    request: Request, talent_id: str, csrf: str = Form(""), opinion: str = Form("")
) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    if not check_csrf(s, csrf):
        return back(f"/talents/{talent_id}")
    if not opinion.strip():
        s.flash("error", "请填写推荐意见后再推荐。")
        return back(f"/talents/{talent_id}")
    try:
        r = await call(
            request,
            s,
            "POST",
            f"/api/v1/talents/{talent_id}/recommend",
            json={"opinion": opinion.strip()},
        )
        name = r.json().get("fields", {}).get("name", "")
        s.flash("ok", f"已推荐“{name}”，等待上级科协审核。")
    except ApiError as exc:
        s.flash("error", f"推荐没有成功：{exc.detail}")
    return back(f"/talents/{talent_id}")


@router.post("/talents/{talent_id}/review")
async def review(
    request: Request,
    talent_id: str,
    csrf: str = Form(""),
    decision: str = Form(""),
    opinion: str = Form(""),
) -> Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    if not check_csrf(s, csrf):
        return back(f"/talents/{talent_id}")
    if decision not in ("approve", "reject"):
        s.flash("error", "请选择“通过”或“不通过”。")
        return back(f"/talents/{talent_id}")
    try:
        r = await call(
            request,
            s,
            "POST",
            f"/api/v1/talents/{talent_id}/review",
            json={"decision": decision, "opinion": opinion.strip()},
        )
        t = r.json()
        name = t.get("fields", {}).get("name", "")
        if t.get("status") == "certified":
            s.flash("ok", f"“{name}”资格审核通过，已认定建档，证书编号 {t.get('certificate_no')}。")
        elif t.get("status") == "city_reviewed":
            s.flash("ok", f"已出具市级意见，“{name}”已报省科协资格审核。")
        elif t.get("status") == "rejected":
            s.flash("ok", f"已审核为不通过，理由已告知推荐单位（“{name}”）。")
        else:
            s.flash(
                "ok", f"审核完成，“{name}”当前状态：{t.get('status_label') or t.get('status')}。"
            )
    except ApiError as exc:
        s.flash("error", f"审核没有成功：{exc.detail}")
    return back(f"/talents/{talent_id}")
