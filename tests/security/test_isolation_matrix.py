"""The isolation matrix, generated from the gateway's OpenAPI document (issue 11 item 7).

Every operation whose path takes an id is called with the id of a real resource of a victim
tenant, by each attacker: the victim's sibling, a tenant of another branch, the victim's
child (child → parent), the victim's own account as a viewer and as a 审核员 (writes only), no
token, and a partner's token. Each must be refused: 401 without a token, 403 or 404 otherwise (with a
Chinese problem+json detail), and nothing may change.

A new endpoint is covered automatically: its path parameters are filled from the victim's
resources made in ``world`` (a talent with an archive file and consents, an import job, a
project, an e站 with a 五有 file, a 科技志愿者 with a 志愿服务队 and a service record, a call,
a 科普资源 with a file, a base certified through a certification call, a partner, a
notification, an assessment scheme (and a published one with a 先进典型), a work
plan with its task, milestone, supervision, progress and evidence file); a parameter nobody
knows how to fill fails ``test_every_id_taking_operation_has_a_case`` until a case is added
here. What the owners read of those resources is compared before and after the attacks.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest
from kepu_devstack.e2e import api, eventually, issue_accounts

pytestmark = pytest.mark.e2e

PASSWORD = "Kepu#Matrix2026"
CITY, SIBLING = "411600", "411700"  # 周口市 (the victim), 驻马店市
SH = ZoneInfo("Asia/Shanghai")
WRITE = {"post", "put", "patch", "delete"}
REFUSED = {403, 404}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
IMPORT_HEADERS = ["序号", "服务类别", "姓名", "性别", "工作单位", "职务", "联系电话", "从事行业",
                  "科普专长", "拟开展科普工作"]  # fmt: skip
CONDITIONS = ("network", "staff", "place", "activities", "terminal")

# Path parameters that name no other tenant's resource: the caller's own report of a type and
# period, a month of the caller's schedule. Filled with plausible values, never an isolation
# question by themselves (the operation's other parameters are); an e站's 五有 condition.
SCOPED_TO_CALLER = {"type_code": "monthly", "period": "", "month": "", "condition": "network"}

# What each attacker may legitimately do with the victim's resource (with the reason).
ALLOWED = {
    # a county files its projects under its city's call: it reads the call
    ("child", "get", "/api/v1/calls/{call_id}"): "下级单位查看上级发布的申报批次",
    # a county sees its parent unit's name and code (its own tenant card shows them)
    ("child", "get", "/api/v1/tenants/{tenant_id}"): "下级单位查看上级单位信息",
    # a county reads the scheme that assesses it, and its own row of the allocation table
    ("child", "get", "/api/v1/assessment/schemes/{scheme_id}"): "下级单位查看考核本单位的方案",
    (
        "child",
        "get",
        "/api/v1/assessment/schemes/{scheme_id}/allocations",
    ): "下级单位查看分配给本单位的任务指标",
}

# Bodies the schema alone cannot make valid (the service validates them before it looks the
# resource up, so an invalid body would hide the refusal behind a 422).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("put", "/api/v1/talents/{talent_id}"): {
        "name": "改名",
        "gender": "男",
        "phone": "13900002222",
        "employer": "县科协",
        "categories": ["青少年科普"],
    },
}

# Known wrong answers, each a refusal with the wrong status (to be fixed by the owner).
KNOWN_STATUS: dict[tuple[str, str], tuple[int, str]] = {}

# Parameters without a victim fixture yet: each entry is a hole in the matrix, named here so
# that it is visible; remove an entry by adding its resource to ``victim`` below.
PENDING: dict[str, str] = {}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[str, ...]
    body: dict[str, Any] | None
    multipart: bool
    query: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations(doc: dict[str, Any]) -> list[Operation]:
    ops = []
    for path, items in doc["paths"].items():
        params = tuple(re.findall(r"{(\w+)}", path))
        if not params or not path.startswith("/api/"):
            continue
        for method, op in items.items():
            content = (op.get("requestBody") or {}).get("content", {})
            multipart = "multipart/form-data" in content
            schema = (content.get("application/json") or {}).get("schema")
            body = BODIES.get((method, path)) or (example(doc, schema) if schema else None)
            query = {  # required query parameters (a year), so that 422 cannot hide a refusal
                q["name"]: example(doc, q.get("schema"))
                for q in op.get("parameters", [])
                if q.get("in") == "query" and q.get("required")
            }
            ops.append(Operation(method, path, params, body, multipart, query))
    return ops


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(doc: dict[str, Any], schema: dict[str, Any] | None) -> Any:
    """A value the schema accepts (required fields only), so that a refusal comes from the
    authorization check, not from validation."""
    if not schema:
        return None
    s = resolve(doc, schema)
    if "default" in s and s["default"] is not None:
        return s["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in s:
            options = [o for o in s[key] if resolve(doc, o).get("type") != "null"]
            return example(doc, options[0]) if options else None
    if "enum" in s:
        return s["enum"][0]
    if "const" in s:
        return s["const"]
    kind = s.get("type")
    if kind == "object" or "properties" in s:
        props = s.get("properties", {})
        return {k: example(doc, props[k]) for k in s.get("required", [])}
    if kind == "array":
        return [example(doc, s.get("items"))] * s.get("minItems", 0)
    if kind == "integer":
        return max(int(s.get("minimum", 1)), 1) if "maximum" not in s else int(s["maximum"])
    if kind == "number":
        return float(s.get("minimum", 1))
    if kind == "boolean":
        return False
    if s.get("format") == "date":
        return (date.today() + timedelta(days=30)).isoformat()
    if s.get("format") == "date-time":
        return datetime.now(SH).isoformat()
    return "测试" * max(1, (s.get("minLength", 1) + 1) // 2)


# --- the tenants and the victim's resources -------------------------------------------------


def created(
    client: httpx.Client,
    path: str,
    body: dict[str, Any],
    timeout: float = 45.0,
    learning: str = "",
) -> Any:
    """POST until 201: the read models learn new tenants from identity's events (until then
    a 403/404, or a 422 on the field ``learning`` that names a tenant)."""
    end = time.monotonic() + timeout
    while True:
        r = client.post(path, json=body)
        fields = (
            [e.get("field") for e in r.json().get("errors", [])] if r.status_code == 422 else []
        )
        waiting = r.status_code in (403, 404) or (learning and learning in fields)
        if r.status_code == 201 or not waiting or time.monotonic() > end:
            break
        time.sleep(0.5)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def world(stack) -> dict[str, Any]:
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    cities = {c["code"]: c for c in province.get(f"/api/v1/tenants/{me['id']}/children").json()}
    city, sibling = cities[CITY], cities[SIBLING]
    tokens = issue_accounts(stack, stack.admin_token(), me["id"], [CITY, SIBLING], PASSWORD)

    def counties(parent: dict[str, Any]) -> list[str]:
        kids = province.get(f"/api/v1/tenants/{parent['id']}/children").json()
        return sorted(k["code"] for k in kids if k["kind"] == "county")

    c1, c2 = counties(city)[:2]
    b1 = counties(sibling)[0]
    tokens |= issue_accounts(stack, tokens[CITY], city["id"], [c1, c2], PASSWORD)
    tokens |= issue_accounts(stack, tokens[SIBLING], sibling["id"], [b1], PASSWORD)
    clients = {code: api(stack, t) for code, t in tokens.items()}
    county = clients[c1].get("/api/v1/tenants/me").json()

    # the victim city's resources
    users = clients[CITY].get(f"/api/v1/tenants/{city['id']}/users").json()
    partner = clients[CITY].post(
        "/api/v1/partners", json={"name": "周口某银行", "scopes": ["partner:talents:read"]}
    )
    assert partner.status_code == 201, partner.text
    year = datetime.now(SH).year
    call = clients[CITY].post(
        "/api/v1/calls",
        json={
            "title": f"{year}年科普示范项目（隔离测试）",
            "programme": "科普示范社区",
            "deadline": (datetime.now(SH) + timedelta(days=30)).date().isoformat(),
            "quota": 5,
            "criteria": [{"name": "科学性", "weight": 100}],
        },
    )
    assert call.status_code == 201, call.text

    # the victim county's resources (the read models learn the tree from identity's events)
    talent = created(
        clients[c1],
        "/api/v1/talents",
        {
            "name": "隔离测试",
            "gender": "女",
            "phone": "13900001111",
            "employer": "县科协",
            "categories": ["青少年科普"],
        },
    )
    project = created(
        clients[c1],
        "/api/v1/projects",
        {
            "name": "隔离测试科普项目",
            "applicant_unit": "县科协",
            "completing_unit": "县科普馆",
            "contact_person": "李华",
            "contact_phone": "13937212345",
            "category": "科普设施建设",
            "start_month": f"{year}-04",
            "end_month": f"{year}-12",
            "content": "建设科普长廊。",
            "expected_performance": "接待群众一万人次。",
            "budget": 1000,
            "call_id": call.json()["id"],
        },
    )
    bank = httpx.post(
        f"{stack.issuer}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=(partner.json()["partner"]["client_id"], partner.json()["client_secret"]),
    )
    assert bank.status_code == 200, bank.text
    county_client = clients[c1]
    client_id = partner.json()["partner"]["client_id"]
    return {
        "stack": stack,
        "tokens": tokens,
        "codes": {"city": CITY, "sibling": SIBLING, "c1": c1, "c2": c2, "b1": b1},
        "partner_token": bank.json()["access_token"],
        "partner_credentials": (client_id, partner.json()["client_secret"]),
        "city": {
            "tenant_id": city["id"],
            "unit_id": city["id"],
            "user_id": users[0]["id"],
            "client_id": client_id,
            "call_id": call.json()["id"],
            "notification_id": a_notification(stack, clients[CITY]),
            "scheme_id": a_scheme(clients[CITY], year),
            **a_showcase(clients[CITY], year, county["id"]),
            **a_work_plan(clients[CITY], year, clients[c2].get("/api/v1/tenants/me").json()),
        },
        "county": {
            "tenant_id": county["id"],
            "unit_id": county["id"],
            "talent_id": talent["id"],
            "project_id": project["id"],
            "attachment_id": an_attachment(county_client, talent["id"]),
            "import_id": an_import(county_client),
            **a_station(county_client),
            **a_volunteer(county_client, talent["id"]),
            **a_resource(county_client),
            **a_base(clients[CITY], county_client, year),
            "consent_id": a_consent(county_client, f"/api/v1/talents/{talent['id']}", client_id),
            "project_consent_id": a_consent(
                county_client, f"/api/v1/projects/{project['id']}", client_id
            ),
        },
    }


def an_attachment(county: httpx.Client, talent_id: str) -> str:
    r = county.post(
        f"/api/v1/talents/{talent_id}/archive/attachments",
        files={"file": ("获奖证书.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def an_import(county: httpx.Client) -> str:
    """An import job of the county, not waited for; its one row has a bad phone number, so
    the job fails and writes nothing."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("汇总表")
    ws.append(["河南省科协“百千万科普工程”科普人才信息汇总表"])
    ws.append(["周口 市 县（区）科协"])
    ws.append(IMPORT_HEADERS)
    ws.append(
        [1, "青少年科普", "导入测试", "男", "县科协", "干事", "１２３", "教育", "科普", "讲座"]
    )
    out = io.BytesIO()
    wb.save(out)
    r = county.post(
        "/api/v1/talents/import",
        files={"file": ("汇总表.xlsx", out.getvalue(), XLSX)},
        data={"wait": "false"},
    )
    assert r.status_code == 202, r.text
    job = r.json()
    end = time.monotonic() + 60
    while job["status"] not in ("succeeded", "failed", "partial") and time.monotonic() < end:
        time.sleep(0.25)  # finished before the attacks, so that its state cannot move under them
        job = county.get(f"/api/v1/talents/imports/{job['id']}").json()
    assert job["status"] == "failed", job
    return str(job["id"])


def a_station(county: httpx.Client) -> dict[str, str]:
    """An e站 of the county, with one 五有 evidence file."""
    five = [{"code": c, "met": True, "evidence": "现场照片"} for c in CONDITIONS]
    body = {"kind": "community", "name": "隔离测试社区e站", "conditions": five}
    station = created(county, "/api/v1/estations", body, learning="tenant_id")
    r = county.post(
        f"/api/v1/estations/{station['id']}/conditions/network/files",
        files={"file": ("网络照片.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    return {"station_id": station["id"], "station_file_id": r.json()["id"]}


def a_volunteer(county: httpx.Client, talent_id: str) -> dict[str, str]:
    """The county's talent registered as 科技志愿者, a 志愿服务队 of the county and one service
    record it entered (left unconfirmed)."""
    form = county.get("/api/v1/volunteers").json()
    volunteer = created(
        county,
        "/api/v1/volunteers",
        {"talent_id": talent_id, "phone": "13900001111", "consent": True,
         "consent_version": form["consent_version"]},
    )  # fmt: skip
    org = created(county, "/api/v1/volunteer-orgs", {"name": "隔离测试科技志愿服务队"})
    record = created(
        county,
        f"/api/v1/volunteer-orgs/{org['id']}/records",
        {"volunteer_id": volunteer["id"], "served_on": datetime.now(SH).date().isoformat(),
         "place": "县新时代文明实践中心", "kind": "lecture", "hours": 2, "beneficiaries": 50},
    )  # fmt: skip
    return {"volunteer_id": volunteer["id"], "org_id": org["id"], "record_id": record["id"]}


def a_resource(county: httpx.Client) -> dict[str, str]:
    """A 科普资源 of the county with one file, submitted to the city (not shared yet)."""
    body = {"kind": "挂图", "title": "隔离测试防汛挂图", "theme": "应急科普"}
    res = created(county, "/api/v1/resources", body)
    r = county.post(
        f"/api/v1/resources/{res['id']}/files",
        files={"file": ("挂图.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    assert county.post(f"/api/v1/resources/{res['id']}/submit").status_code == 200
    return {"resource_id": res["id"], "resource_file_id": r.json()["id"]}


def a_base(city: httpx.Client, county: httpx.Client, year: int) -> dict[str, str]:
    """A 科普示范社区 of the county, certified through the city's certification call."""
    call = city.post(
        "/api/v1/calls",
        json={"title": f"{year}年科普示范社区认定（隔离测试）", "programme": "科普示范社区",
              "deadline": (datetime.now(SH) + timedelta(days=30)).date().isoformat(),
              "quota": 1, "criteria": [{"name": "科普活动", "weight": 100}],
              "outcome": "certification", "base_kind": "科普示范社区"},
    )  # fmt: skip
    assert call.status_code == 201, call.text
    cid = call.json()["id"]
    project = created(
        county,
        "/api/v1/projects",
        {"name": "隔离测试示范社区", "applicant_unit": "社区居委会", "completing_unit": "社区居委会",
         "contact_person": "李华", "contact_phone": "13937212345", "category": "科普活动",
         "start_month": f"{year}-01", "end_month": f"{year}-12", "content": "社区科普活动。",
         "expected_performance": "全年活动24场。", "call_id": cid},
    )  # fmt: skip
    pid = project["id"]
    assert county.post(f"/api/v1/projects/{pid}/submit").status_code == 200
    r = city.post(f"/api/v1/projects/{pid}/review", json={"decision": "pass"})
    assert r.status_code == 200, r.text
    score = {"project_id": pid, "reviewer": "隔离测试专家", "scores": {"科普活动": 90}}
    assert city.post(f"/api/v1/calls/{cid}/scores", json=score).status_code == 201
    r = city.post(f"/api/v1/calls/{cid}/select", json={"top_n": 1})
    assert r.status_code == 200, r.text
    [base] = county.get("/api/v1/bases").json()["bases"]
    return {"base_id": base["id"]}


def a_consent(county: httpx.Client, resource: str, client_id: str) -> str:
    expires = (datetime.now(SH).date() + timedelta(days=365)).isoformat()
    r = county.post(
        f"{resource}/consents",
        json={"partner_client_id": client_id, "purpose": "银会合作融资服务", "expires_at": expires},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def a_scheme(city: httpx.Client, year: int) -> str:
    scheme = {
        "year": year,
        "name": "隔离测试考核方案",
        "indicators": [{"code": "1", "name": "组织建设", "weight": 100, "kind": "manual"}],
    }
    return str(created(city, "/api/v1/assessment/schemes", scheme)["id"])


def a_showcase(city: httpx.Client, year: int, county_id: str) -> dict[str, str]:
    """A second scheme of the city, published, with one county selected as 先进单位 (left
    unpublished in the showcase); the first scheme stays open for the matrix's other cases."""
    sid = a_scheme(city, year)
    eventually(  # the tenants read model is fed by identity.events
        lambda: city.get(f"/api/v1/assessment/schemes/{sid}").json()["children"] >= 2,
        "the assessment service learns the city's counties",
        timeout=60,
    )
    assert city.post(f"/api/v1/assessment/schemes/{sid}/publish").status_code == 200
    item = city.post(
        f"/api/v1/assessment/schemes/{sid}/showcase",
        data={"kind": "unit", "subject_id": county_id, "citation": "科普工作扎实，群众满意度高。"},
    )
    assert item.status_code == 201, item.text
    return {"showcase_scheme_id": sid, "item_id": item.json()["id"]}


def a_work_plan(city: httpx.Client, year: int, lead: dict[str, Any]) -> dict[str, str]:
    """A 工作要点 of the city whose one task another county (not the attacking child) leads."""
    task = {
        "seq": 1,
        "text": "开展科普进社区活动",
        "lead_unit_id": lead["id"],
        "milestones": [{"title": "完成", "due": f"{year}-12-28"}],
    }
    plan_in = {"title": f"周口市{year}年科普工作要点（隔离测试）", "start_year": year,
               "tasks": [task]}  # fmt: skip
    plan = created(city, "/api/v1/workplans", plan_in, learning="tasks.0.lead_unit_id")
    task_id = plan["tasks"][0]["id"]
    supervision = city.post(
        f"/api/v1/workplans/{plan['id']}/supervisions",
        json={"unit_id": lead["id"], "task_id": task_id, "visited_on": f"{year}-06-01",
              "findings": "活动台账不全", "rectify_by": f"{year}-12-31"},
    )  # fmt: skip
    assert supervision.status_code == 201, supervision.text
    progress = city.post(  # the owner files the lead unit's progress for it, with a file
        f"/api/v1/workplans/{plan['id']}/tasks/{task_id}/progress",
        json={"quarter": f"{year}Q2", "text": "开展活动12场", "unit_id": lead["id"]},
    )
    assert progress.status_code == 201, progress.text
    evidence = city.post(
        f"/api/v1/workplans/{plan['id']}/progress/{progress.json()['id']}/files",
        files={"file": ("签到表.pdf", PDF, "application/pdf")},
    )
    assert evidence.status_code == 201, evidence.text
    return {
        "progress_id": progress.json()["id"],
        "file_id": evidence.json()["id"],
        "plan_id": plan["id"],
        "task_id": task_id,
        "milestone_id": plan["tasks"][0]["milestones"][0]["id"],
        "supervision_id": supervision.json()["id"],
    }


def a_notification(stack: Any, city: httpx.Client, timeout: float = 60.0) -> str:
    """One of the city's 站内提醒: last year's 年度工作计划 is overdue at any date, so the reminder
    scheduler, woken by setting the reporting clock file to now, records one for the city."""
    clock = Path((getattr(stack, "env", None) or {})["REPORTING_CLOCK_FILE"])
    end = time.monotonic() + timeout
    try:
        while True:
            clock.write_text(datetime.now(SH).isoformat())
            notes = city.get("/api/v1/notifications").json()["notifications"]
            if notes or time.monotonic() > end:
                break
            time.sleep(1.0)
    finally:
        clock.write_text("")
    assert notes, "the reminder scheduler recorded no notification for the city"
    return str(notes[0]["id"])


# Whose resource a parameter names: the city's or the county's (a talent or project belongs
# to the county that recorded it). Attackers are relative to that owner.
OWNER = {
    p: "county"
    for p in (
        "talent_id",
        "project_id",
        "attachment_id",
        "import_id",
        "station_id",
        "volunteer_id",
        "org_id",
        "record_id",
        "resource_id",
        "base_id",
    )
}

# The same parameter naming different resources on different paths.
PER_PATH = {
    "/api/v1/estations/{station_id}/files/{file_id}": {"file_id": "station_file_id"},
    "/api/v1/projects/{project_id}/consents/{consent_id}": {"consent_id": "project_consent_id"},
    "/api/v1/resources/{resource_id}/files/{file_id}": {"file_id": "resource_file_id"},
    **{
        f"/api/v1/assessment/schemes/{{scheme_id}}{tail}": {"scheme_id": "showcase_scheme_id"}
        for tail in ("/showcase", "/showcase/publish", "/showcase/{item_id}")
    },
}


def owner_of(op: Operation) -> str:
    return next((OWNER[p] for p in op.params if p in OWNER), "city")


def attackers(owner: str) -> dict[str, str | None]:
    """attacker -> the tenant code whose admin attacks (None: no token / partner)."""
    if owner == "city":
        return {"sibling": "sibling", "other_branch": "b1", "child": "c1"}
    return {"sibling": "c2", "other_branch": "b1"}


def fill(op: Operation, values: dict[str, str]) -> str:
    path = op.path
    today = datetime.now(SH)
    defaults = {**SCOPED_TO_CALLER, "period": f"{today:%Y-%m}", "month": f"{today:%Y-%m}"}
    for p in op.params:
        key = PER_PATH.get(op.path, {}).get(p, p)
        path = path.replace("{" + p + "}", values.get(key) or defaults[p])
    return path


def send(client: httpx.Client, op: Operation, path: str) -> httpx.Response:
    if op.multipart:
        files = {"file": ("x.pdf", PDF, "application/pdf")}
        return client.request(op.method, path, params=op.query, files=files)
    if op.body is not None:
        return client.request(op.method, path, params=op.query, json=op.body)
    return client.request(op.method, path, params=op.query)


def is_refusal(r: httpx.Response, statuses: set[int], op: Operation | None = None) -> bool:
    if op is not None and (op.method, op.path) in KNOWN_STATUS:
        statuses = statuses | {KNOWN_STATUS[(op.method, op.path)][0]}
    if r.status_code not in statuses:
        return False
    detail = r.json().get("detail", "") if r.content else ""
    return r.headers.get("content-type", "").startswith("application/problem+json") and any(
        "\u4e00" <= ch <= "\u9fff" for ch in detail
    )


@pytest.fixture(scope="module")
def doc(world) -> dict[str, Any]:
    return httpx.get(f"{world['stack'].gateway_url}/openapi.json", timeout=30).json()


def test_every_id_taking_operation_has_a_case(doc, world):
    known = set(world["city"]) | set(world["county"]) | set(SCOPED_TO_CALLER)
    missing = {
        op.id: [p for p in op.params if p not in known and p not in PENDING]
        for op in operations(doc)
    }
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"operations with no isolation case (add their resource): {missing}"


def covered(doc: dict[str, Any]) -> list[Operation]:
    return [op for op in operations(doc) if not any(p in PENDING for p in op.params)]


# What the victim's owners see of their resources, read before and after the attacks: an
# attack that got a refusal but still changed something shows here.
SNAPSHOT = {
    "county": [
        "/api/v1/talents/{talent_id}",
        "/api/v1/talents/{talent_id}/archive",
        "/api/v1/talents/{talent_id}/consents",
        "/api/v1/talents/imports/{import_id}",
        "/api/v1/projects/{project_id}",
        "/api/v1/projects/{project_id}/consents",
        "/api/v1/estations/{station_id}",
        "/api/v1/volunteers/{volunteer_id}",
        "/api/v1/volunteer-orgs/{org_id}",
        "/api/v1/volunteer-records?volunteer_id={volunteer_id}",
        "/api/v1/resources/{resource_id}",
        "/api/v1/bases/{base_id}",
    ],
    "city": [
        "/api/v1/calls/{call_id}",
        "/api/v1/partners",
        "/api/v1/tenants/{tenant_id}/users",
        "/api/v1/assessment/schemes/{scheme_id}",
        "/api/v1/assessment/schemes/{showcase_scheme_id}/showcase",
        "/api/v1/workplans/{plan_id}",
        "/api/v1/workplans/{plan_id}/supervisions",
        "/api/v1/notifications",
    ],
}


def snapshot(world: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for owner, code in (("county", world["codes"]["c1"]), ("city", CITY)):
        client = api(world["stack"], world["tokens"][code])
        for template in SNAPSHOT[owner]:
            path = template.format(**world[owner])
            r = client.get(path)
            assert r.status_code == 200, f"{path}: {r.text}"
            body = r.json()
            if template == "/api/v1/notifications":  # the scheduler may add others meanwhile
                body = [
                    n for n in body["notifications"] if n["id"] == world["city"]["notification_id"]
                ]
            seen[path] = body
    return seen


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [f"changed: {path}" for path in before if before[path] != after[path]]


def test_no_attacker_reaches_a_victims_resource(doc, world):
    stack = world["stack"]
    codes = world["codes"]
    failures: list[str] = []
    cells = 0
    anonymous = httpx.Client(base_url=stack.gateway_url, timeout=60)
    partner = api(stack, world["partner_token"])
    clients = {name: api(stack, t) for name, t in world["tokens"].items()}
    before = snapshot(world)
    for op in covered(doc):
        owner = owner_of(op)
        path = fill(op, world[owner])
        for attacker, who in attackers(owner).items():
            if (attacker, op.method, op.path) in ALLOWED:
                continue
            cells += 1
            r = send(clients[codes[who]], op, path)
            if not is_refusal(r, REFUSED, op):
                failures.append(f"{attacker:>12} {op.id}: {r.status_code} {r.text[:120]}")
        cells += 2
        r = send(anonymous, op, path)
        if not is_refusal(r, {401}):
            failures.append(f"{'no token':>12} {op.id}: {r.status_code} {r.text[:120]}")
        r = send(partner, op, path)
        if not is_refusal(r, {403}):
            failures.append(f"{'partner':>12} {op.id}: {r.status_code} {r.text[:120]}")
    print(f"isolation matrix: {cells} cells over {len(covered(doc))} operations")  # noqa: T201
    failures += changed(before, snapshot(world))
    assert not failures, "\n".join(failures)


VIEWER_MAY: dict[tuple[str, str], str] = {}

# The writes a 审核员 of the unit may do to its own unit's resources (with the reason): the
# review decisions, marking the unit's reminders read, and in the talent pool the data entry
# the talent service grants every writing role (kepu_talent.domain.WRITE_ROLES). Everything
# else (the unit's projects, reports, e站, plans, users, partners) is refused.
REVIEWER_MAY: dict[tuple[str, str], str] = {
    ("post", "/api/v1/notifications/{notification_id}/read"): "审核员处理本单位的站内提醒",
    ("post", "/api/v1/calls/{call_id}/scores"): "审核员为本单位申报批次的项目评分（专家评审）",
    ("post", "/api/v1/talents/{talent_id}/recommend"): "审核员推荐本单位的人才",
    ("post", "/api/v1/talents/{talent_id}/review"): "审核员审核下级推荐的人才",
    ("put", "/api/v1/talents/{talent_id}"): "审核员修改本单位人才的推荐表（人才库的写入角色）",
    ("post", "/api/v1/talents/{talent_id}/archive/entries"): "审核员补充本单位人才的档案",
    ("post", "/api/v1/talents/{talent_id}/archive/attachments"): "审核员上传本单位人才的档案附件",
    (
        "post",
        "/api/v1/volunteer-records/{record_id}/decision",
    ): "审核员确认或退回本单位服务队的志愿服务记录",
}


def role_column(doc: dict[str, Any], world: dict[str, Any], role: str, may: dict) -> list[str]:
    """The victim's own accounts, given only ``role`` by their parents, call every write on
    their own unit's resources: what ``may`` does not list must be refused."""
    stack = world["stack"]
    parents = {"city": "410000", "county": "city"}
    clients: dict[str, httpx.Client] = {}
    for owner in ("city", "county"):
        parent_token = stack.admin_token() if parents[owner] == "410000" else world["tokens"][CITY]
        tenant_id = world[owner]["tenant_id"]
        parent = api(stack, parent_token)
        users = parent.get(f"/api/v1/tenants/{tenant_id}/users").json()
        r = parent.put(f"/api/v1/users/{users[0]['id']}/roles", json={"roles": [role]})
        assert r.status_code == 200, r.text
        clients[owner] = api(stack, stack.login(users[0]["username"], PASSWORD))
    failures = []
    writes = [op for op in covered(doc) if op.method in WRITE]
    for op in writes:
        if (op.method, op.path) in may:
            continue
        owner = owner_of(op)
        r = send(clients[owner], op, fill(op, world[owner]))
        if not is_refusal(r, REFUSED, op):
            failures.append(f"{role} {op.id}: {r.status_code} {r.text[:120]}")
    print(f"{role} column: {len(writes)} writes, {len(may)} allowed")  # noqa: T201
    return failures


def test_a_viewer_changes_nothing_of_its_own_unit(doc, world):
    """The victim's own accounts, made viewers by their parents: every write is refused."""
    failures = role_column(doc, world, "viewer", VIEWER_MAY)
    assert not failures, "\n".join(failures)


def test_a_reviewer_only_decides_reviews_of_its_own_unit(doc, world):
    """The victim's own accounts, made 审核员 by their parents: only review decisions pass."""
    failures = role_column(doc, world, "reviewer", REVIEWER_MAY)
    assert not failures, "\n".join(failures)


def test_a_units_consents_list_shows_its_subtree_only(world):
    """GET /api/v1/consents/{talents,projects} takes no id: the victim county's consents are
    listed to it and to its city, never to its sibling, another branch or the other city; a
    partner's token is refused, no token is 401."""
    stack, codes = world["stack"], world["codes"]
    # Fresh tokens (the world's are older than the 5-minute access token by now).
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    by_code = {t["code"]: t for t in province.get(f"/api/v1/tenants/{me['id']}/subtree").json()}
    tokens = {}
    for code in codes.values():
        users = province.get(f"/api/v1/tenants/{by_code[code]['id']}/users").json()
        tokens[code] = stack.login(users[0]["username"], PASSWORD)
    bank = httpx.post(
        f"{stack.issuer}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=world["partner_credentials"],
    )
    assert bank.status_code == 200, bank.text
    partner_token = bank.json()["access_token"]
    failures = []
    for kind, consent_id in (
        ("talents", world["county"]["consent_id"]),
        ("projects", world["county"]["project_consent_id"]),
    ):
        path = f"/api/v1/consents/{kind}?page=1&page_size=200"
        for who, sees in (("c1", True), ("city", True), ("c2", False), ("b1", False),
                          ("sibling", False)):  # fmt: skip
            r = api(stack, tokens[codes[who]]).get(path)
            listed = [c["id"] for c in r.json()["consents"]] if r.status_code == 200 else None
            if listed is None or (consent_id in listed) != sees:
                failures.append(f"{who} {path}: {r.status_code} {r.text[:120]}")
        if not is_refusal(api(stack, partner_token).get(path), {403}):
            failures.append(f"partner {path}")
        if not is_refusal(httpx.get(stack.gateway_url + path, timeout=60), {401}):
            failures.append(f"no token {path}")
    assert not failures, "\n".join(failures)
