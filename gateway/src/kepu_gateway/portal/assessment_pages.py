"""考核: the yearly indicator scheme of an upper level over its direct children (editor with a
default template), manual scores per child, results with a ranking chart, close and publish;
children see the published ranking and their own detail. Actions go through ``assessment.js``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .client import ApiError, get_json
from .pages import TEMPLATES, message_page, my_tenant, render, session_of, to_login
from .sessions import PortalSession
from .widgets import local_time, ranking_chart, today

router = APIRouter(include_in_schema=False)
TEMPLATES.env.filters["local_time"] = local_time

KINDS = [("automatic", "自动采集"), ("manual", "人工评分"), ("value", "填报数值")]
RULES = [("linear", "按目标线性折算"), ("threshold", "达标得分"), ("manual", "人工评分")]
METRICS = [  # the assessment service's built-in automatic metrics (domain.METRICS)
    ("talents_certified", "认定科普人才数", "人"),
    ("activities", "开展科普活动次数", "次"),
    ("participants", "活动参与人次", "人次"),
    ("reports_submitted", "报送报告份数", "份"),
    ("report_timeliness", "报告按时报送率", "%"),
    ("projects_approved", "重点项目立项数", "个"),
    ("projects_completed", "重点项目结项数", "个"),
]
INDICATOR_KIND_CN = dict(KINDS)
RULE_CN = dict(RULES)
METRIC_CN = {code: label for code, label, _ in METRICS}
STATUS_CN = {"open": "考核中", "closed": "已结束（结果冻结）", "published": "已发布"}
# Targets per assessed unit by the kind of the assessing level (百千万科普工程: a city certifies
# 1,000 talents, a county 100).
TARGETS = {
    "province": {"talents": 1000, "activities": 100, "participants": 10000, "projects": 5},
    "city": {"talents": 100, "activities": 20, "participants": 2000, "projects": 2},
}


def default_template(kind: str) -> list[dict[str, Any]]:
    """省级默认考核模板 (the service exposes no template): five automatic indicators."""
    t = TARGETS.get(kind, TARGETS["city"])

    def auto(
        code: str, name: str, weight: int, metric: str, target: float, unit: str
    ) -> dict[str, Any]:
        return {
            "code": code,
            "name": name,
            "weight": weight,
            "kind": "automatic",
            "metric": metric,
            "rule": "linear",
            "target": target,
            "unit": unit,
        }

    return [
        auto("1", "科普人才认定（对照任务指标）", 30, "talents_certified", t["talents"], "人"),
        auto("2", "重点科普活动开展", 20, "activities", t["activities"], "次"),
        auto("3", "活动参与人次", 10, "participants", t["participants"], "人次"),
        auto("4", "工作报告按时报送率", 20, "report_timeliness", 100, "%"),
        auto("5", "重点项目立项", 20, "projects_approved", t["projects"], "个"),
    ]


def leaves(indicators: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in indicators:
        out.extend(leaves(i["subs"]) if i.get("subs") else [i])
    return out


def num(x: Any) -> str:
    v = float(x or 0)
    return str(int(v)) if v.is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")


async def _me(request: Request) -> tuple[PortalSession, dict[str, Any]] | Response:
    s = session_of(request)
    if s is None:
        return to_login(request)
    try:
        return s, await my_tenant(request, s)
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        return message_page(request, "出错了", exc.detail, exc.status)


@router.get("/assessment")
async def assessment_page(request: Request) -> Response:
    got = await _me(request)
    if isinstance(got, Response):
        return got
    s, me = got
    schemes: list[dict[str, Any]] = []
    error = ""
    try:
        schemes = (await get_json(request, s, "/api/v1/assessment/schemes")).get("schemes", [])
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        error = exc.detail
    own = [x for x in schemes if x.get("owner_tenant_id") == me.get("id")]
    upper = [x for x in schemes if x.get("owner_tenant_id") != me.get("id")]
    return render(
        request,
        s,
        "assessment.html",
        "assessment",
        title="考核",
        me=me,
        own=own,
        upper=upper,
        error=error,
        can_edit=me.get("kind") not in ("township", "society")
        and "admin" in s.user.get("roles", []),
        year=today().year,
        default_indicators=default_template(me.get("kind", "")),
        KINDS=KINDS,
        RULES=RULES,
        METRICS=METRICS,
        STATUS_CN=STATUS_CN,
    )


@router.get("/assessment/{scheme_id}")
async def scheme_page(request: Request, scheme_id: str) -> Response:
    got = await _me(request)
    if isinstance(got, Response):
        return got
    s, me = got
    try:
        scheme = await get_json(request, s, f"/api/v1/assessment/schemes/{scheme_id}")
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        return message_page(request, "出错了", exc.detail, exc.status)
    owner = scheme.get("owner_tenant_id") == me.get("id")
    results: dict[str, Any] = {"results": [], "honours": []}
    unpublished = ""
    error = ""
    try:
        results = await get_json(request, s, f"/api/v1/assessment/schemes/{scheme_id}/results")
    except ApiError as exc:
        if exc.status == 401:
            return to_login(request)
        if not owner and exc.status == 403:
            unpublished = exc.detail
        else:
            error = exc.detail
    rows = sorted(results.get("results", []), key=lambda r: (r.get("rank") or 10**6, r["name"]))
    mine = next((r for r in rows if r.get("tenant_id") == me.get("id")), None)
    children: list[dict[str, Any]] = []
    if owner:
        try:
            children = await get_json(request, s, f"/api/v1/tenants/{me['id']}/children")
        except ApiError as exc:
            error = error or exc.detail
    chart = ranking_chart(
        [(int(r.get("rank") or 0), r["name"], float(r.get("total") or 0)) for r in rows],
        f"{scheme.get('name', '')}得分排名",
        highlight=me.get("name", "") if not owner else "",
    )
    indicators = scheme.get("indicators", [])
    return render(
        request,
        s,
        "assessment_scheme.html",
        "assessment",
        title=scheme.get("name") or "考核方案",
        me=me,
        scheme=scheme,
        owner=owner,
        is_admin="admin" in s.user.get("roles", []),
        indicators=indicators,
        entry_leaves=[i for i in leaves(indicators) if i.get("kind") in ("manual", "value")],
        columns=indicators,
        rows=rows,
        live=results.get("live", False),
        honours=results.get("honours", []),
        honours_note=results.get("honours_note", ""),
        tie=results.get("tie"),
        mine=mine,
        chart=chart if rows else None,
        unpublished=unpublished,
        error=error,
        children=children,
        num=num,
        INDICATOR_KIND_CN=INDICATOR_KIND_CN,
        RULE_CN=RULE_CN,
        METRIC_CN=METRIC_CN,
        STATUS_CN=STATUS_CN,
    )
