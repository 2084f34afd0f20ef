"""The talent pool end to end through the gateway (issue 3): the province records a talent for a
county, the chain refuses actions out of order, a 10,000-row 汇总表 is imported, exported and
counted against the quotas."""

from __future__ import annotations

import io
import time

import httpx
import openpyxl
import pytest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "序号",
    "服务类别",
    "姓名",
    "性别",
    "工作单位",
    "职务",
    "联系电话",
    "从事行业",
    "科普专长",
    "拟开展科普工作",
]


def api(stack, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )


def is_problem(r: httpx.Response, status: int) -> bool:
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= c <= "\u9fff" for c in r.json()["detail"])
    )


def sheet(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("汇总表")
    ws.append(["河南省科协“百千万科普工程”科普人才信息汇总表"])
    ws.append(["南阳 市  卧龙区 县（区）科协"])
    ws.append(HEADERS)
    for i, row in enumerate(rows, start=1):
        ws.append([i, *row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row(i: int, prefix: str = "158") -> list[object]:
    return [
        "农村科普、服务精准扶贫",
        f"人才{i:05d}",
        "男",
        "卧龙区农技站",
        "农艺师",
        f"{prefix}{i:08d}",
        "农业",
        "小麦栽培",
        "开展农技培训",
    ]


@pytest.fixture(scope="module")
def province(stack):
    return api(stack, stack.admin_token())


@pytest.fixture(scope="module")
def tree(province):
    me = province.get("/api/v1/tenants/me").json()
    cities = province.get(f"/api/v1/tenants/{me['id']}/children").json()
    nanyang = next(c for c in cities if c["code"] == "411300")
    counties = province.get(f"/api/v1/tenants/{nanyang['id']}/children").json()
    wolong = next(c for c in counties if c["code"] == "411303")
    return {"province": me, "nanyang": nanyang, "wolong": wolong}


@pytest.fixture(scope="module")
def talent(province, tree):
    body = {
        "name": "端到端",
        "gender": "女",
        "phone": "0377－63073372",
        "employer": "卧龙区科协",
        "categories": ["青少年科普"],
        "tenant_id": tree["wolong"]["id"],
    }
    deadline = time.monotonic() + 30
    while True:  # the talent service learns the tree from identity.events
        r = province.post("/api/v1/talents", json=body)
        if r.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_talent_recorded_for_a_county_is_masked(talent):
    assert talent["tenant_path"] == "410000.411300.411303"
    assert talent["fields"]["phone"] == "0377-****3372"


def test_the_chain_refuses_actions_out_of_order(province, talent):
    r = province.post(f"/api/v1/talents/{talent['id']}/review", json={"decision": "approve"})
    assert is_problem(r, 409)
    r = province.post(f"/api/v1/talents/{talent['id']}/recommend", json={"opinion": "同意"})
    assert is_problem(r, 403)  # only the county recommends


def test_reveal_is_allowed_to_the_province_admin(province, talent):
    r = province.get(f"/api/v1/talents/{talent['id']}", params={"reveal": "true"})
    assert r.json()["fields"]["phone"] == "0377-63073372"


def test_ten_thousand_rows_import_and_export(province, tree):
    content = sheet([row(i) for i in range(10000)])
    r = province.post(
        "/api/v1/talents/import",
        files={"file": ("汇总表.xlsx", content, XLSX)},
        data={"tenant_id": tree["wolong"]["id"]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["inserted"]) == ("succeeded", 10000)
    r = province.get("/api/v1/talents/export", params={"tenant_id": tree["nanyang"]["id"]})
    rows = list(
        openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active.iter_rows(
            values_only=True
        )
    )
    assert len(rows) >= 3 + 10000 and tuple(rows[2]) == tuple(HEADERS)


def test_a_mixed_file_writes_nothing_and_an_async_import_reports_progress(province, tree):
    bad = row(1, "139")
    bad[5] = "１２３"
    r = province.post(
        "/api/v1/talents/import",
        data={"tenant_id": tree["wolong"]["id"]},
        files={"file": ("a.xlsx", sheet([row(1, "139"), bad]), XLSX)},
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["row"] == 5
    assert province.get("/api/v1/talents", params={"q": "人才00001"}).json()["total"] == 1
    r = province.post(
        "/api/v1/talents/import",
        data={"tenant_id": tree["wolong"]["id"], "wait": "false"},
        files={"file": ("b.xlsx", sheet([row(i, "137") for i in range(500)]), XLSX)},
    )
    job = r.json()
    for _ in range(120):
        job = province.get(f"/api/v1/talents/imports/{job['id']}").json()
        if job["status"] in ("succeeded", "failed", "partial"):
            break
        time.sleep(0.25)
    assert (job["status"], job["inserted"]) == ("succeeded", 500)
    r = province.post(
        "/api/v1/talents/import",
        data={"tenant_id": tree["wolong"]["id"]},
        files={"file": ("a.xlsx", b"not a workbook", XLSX)},
    )
    assert is_problem(r, 422)


def test_quota_progress(province):
    stats = province.get("/api/v1/talents/stats").json()
    assert stats["own"]["quota"] == 10000
    nanyang = next(c for c in stats["children"] if c["code"] == "411300")
    assert nanyang["quota"] == 1000 and nanyang["certified"] == 0


def test_the_recommendation_form(province, talent):
    r = province.get(f"/api/v1/talents/{talent['id']}/form.docx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
