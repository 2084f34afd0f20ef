"""The isolation matrix, generated from the gateway's OpenAPI document (issue 11 item 7).

Every operation whose path takes an id is called with the id of a real resource of a victim
tenant, by each attacker: the victim's sibling, a tenant of another branch, the victim's
child (child → parent), the victim's own account as a viewer (writes only), no token, and a
partner's token. Each must be refused: 401 without a token, 403 or 404 otherwise (with a
Chinese problem+json detail), and nothing may change.

A new endpoint is covered automatically: its path parameters are filled from ``VICTIM``
(the resources below); a parameter nobody knows how to fill fails
``test_every_id_taking_operation_has_a_case`` until a case is added here.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from kepu_devstack.e2e import api, issue_accounts

pytestmark = pytest.mark.e2e

PASSWORD = "Kepu#Matrix2026"
CITY, SIBLING = "411600", "411700"  # 周口市 (the victim), 驻马店市
SH = ZoneInfo("Asia/Shanghai")
WRITE = {"post", "put", "patch", "delete"}
REFUSED = {403, 404}

# Path parameters that name no other tenant's resource: the caller's own report of a type and
# period, a month of the caller's schedule. Filled with plausible values, never an isolation
# question by themselves (the operation's other parameters are).
SCOPED_TO_CALLER = {"type_code": "monthly", "period": "", "month": ""}

# What each attacker may legitimately do with the victim's resource (with the reason).
ALLOWED = {
    # a county files its projects under its city's call: it reads the call
    ("child", "get", "/api/v1/calls/{call_id}"): "下级单位查看上级发布的申报批次",
    # a county sees its parent unit's name and code (its own tenant card shows them)
    ("child", "get", "/api/v1/tenants/{tenant_id}"): "下级单位查看上级单位信息",
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
KNOWN_STATUS: dict[tuple[str, str], tuple[int, str]] = {
    ("put", "/api/v1/estations/denominators/{tenant_id}"): (
        422,
        "H7 (issue 14): an out-of-scope unit is answered 422, should be 404",
    ),
}

# Parameters without a victim fixture yet: each entry is a hole in the matrix, named here so
# that it is visible; remove an entry by adding its resource to ``victim`` below.
PENDING = {
    "consent_id": "个人信息授权（需合作机构与人才同意书）",
    "attachment_id": "档案附件",
    "import_id": "导入任务",
    "notification_id": "站内提醒",
    "scheme_id": "考核方案",
    "station_id": "e站",
    "plan_id": "工作计划",
    "task_id": "工作计划任务",
    "milestone_id": "工作计划节点",
    "supervision_id": "督办",
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[str, ...]
    body: dict[str, Any] | None
    multipart: bool

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
            ops.append(Operation(method, path, params, body, multipart))
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


def created(client: httpx.Client, path: str, body: dict[str, Any], timeout: float = 45.0) -> Any:
    """POST until 201: the read models learn new tenants from identity's events."""
    end = time.monotonic() + timeout
    while True:
        r = client.post(path, json=body)
        if r.status_code == 201 or r.status_code not in (403, 404) or time.monotonic() > end:
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
    return {
        "stack": stack,
        "tokens": tokens,
        "codes": {"city": CITY, "sibling": SIBLING, "c1": c1, "c2": c2, "b1": b1},
        "partner_token": bank.json()["access_token"],
        "city": {
            "tenant_id": city["id"],
            "unit_id": city["id"],
            "user_id": users[0]["id"],
            "client_id": partner.json()["partner"]["client_id"],
            "call_id": call.json()["id"],
        },
        "county": {
            "tenant_id": county["id"],
            "unit_id": county["id"],
            "talent_id": talent["id"],
            "project_id": project["id"],
        },
    }


# Whose resource a parameter names: the city's or the county's (a talent or project belongs
# to the county that recorded it). Attackers are relative to that owner.
OWNER = {"talent_id": "county", "project_id": "county"}


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
        path = path.replace("{" + p + "}", values.get(p) or defaults[p])
    return path


def send(client: httpx.Client, op: Operation, path: str) -> httpx.Response:
    if op.multipart:
        pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        return client.request(op.method, path, files={"file": ("x.pdf", pdf, "application/pdf")})
    if op.body is not None:
        return client.request(op.method, path, json=op.body)
    return client.request(op.method, path)


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


def test_no_attacker_reaches_a_victims_resource(doc, world):
    stack = world["stack"]
    codes = world["codes"]
    failures: list[str] = []
    cells = 0
    anonymous = httpx.Client(base_url=stack.gateway_url, timeout=60)
    partner = api(stack, world["partner_token"])
    clients = {name: api(stack, t) for name, t in world["tokens"].items()}
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
    assert not failures, "\n".join(failures)


VIEWER_MAY: dict[tuple[str, str], str] = {}


def test_a_viewer_changes_nothing_of_its_own_unit(doc, world):
    """The victim's own accounts, made viewers by their parents: every write is refused."""
    stack = world["stack"]
    parents = {"city": "410000", "county": "city"}
    viewers: dict[str, httpx.Client] = {}
    for owner in ("city", "county"):
        parent_token = stack.admin_token() if parents[owner] == "410000" else world["tokens"][CITY]
        tenant_id = world[owner]["tenant_id"]
        parent = api(stack, parent_token)
        users = parent.get(f"/api/v1/tenants/{tenant_id}/users").json()
        r = parent.put(f"/api/v1/users/{users[0]['id']}/roles", json={"roles": ["viewer"]})
        assert r.status_code == 200, r.text
        viewers[owner] = api(stack, stack.login(users[0]["username"], PASSWORD))
    failures = []
    writes = [op for op in covered(doc) if op.method in WRITE]
    for op in writes:
        if (op.method, op.path) in VIEWER_MAY:
            continue
        owner = owner_of(op)
        r = send(viewers[owner], op, fill(op, world[owner]))
        if not is_refusal(r, REFUSED, op):
            failures.append(f"viewer {op.id}: {r.status_code} {r.text[:120]}")
    print(f"viewer column: {len(writes)} writes")  # noqa: T201
    assert not failures, "\n".join(failures)
