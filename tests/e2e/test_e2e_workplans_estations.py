"""Issue 14 through the gateway, on both engine sets.

平顶山's year: the city adds its member departments (成员单位), issues their accounts, publishes a
要点 of 10 tasks, the departments report quarterly progress on their own tasks only (403 on
anything else), the city supervises one department and confirms its rectification, scores each
department's 目标责任书 at year end and the scores rank the departments in a scheme.

The e站 coverage of seed 002 (锦州's targets 60 / 90 / 30 %), played in 许昌 whose counties the
seeded tree holds: stations certified with a 科普信息员 from the talent pool, monthly activities
and 未达标, denominators, coverage ratios and the three automatic indicators computed."""

from __future__ import annotations

import io
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from docx import Document
from kepu_devstack.e2e import api, issue_accounts

PASSWORD = "Kepu#Plans2026"
PDS, XC, SIBLING, SIBLING2 = "410400", "411000", "411100", "411200"  # 平顶山, 许昌, 漯河, 三门峡
DEPTS = {
    "410400D01": "平顶山市教育局",
    "410400D02": "平顶山市卫健委",
    "410400D03": "平顶山市农业农村局",
}
FIVE = [
    {"code": c, "met": True, "evidence": "现场照片"}
    for c in ("network", "staff", "place", "activities", "terminal")
]
SH = ZoneInfo("Asia/Shanghai")


def eventually(fn, what: str, timeout: float = 60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"never happened: {what}")


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


def child(client, parent_id: str, code: str) -> dict:
    return next(
        c for c in client.get(f"/api/v1/tenants/{parent_id}/children").json() if c["code"] == code
    )


def test_pingdingshan_plans_a_year_with_its_departments(stack):
    year = datetime.now(SH).year
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    tokens = issue_accounts(stack, stack.admin_token(), me["id"], [PDS, SIBLING], PASSWORD)
    city, sibling = api(stack, tokens[PDS]), api(stack, tokens[SIBLING])
    city_id = city.get("/api/v1/tenants/me").json()["id"]
    for code, name in DEPTS.items():
        r = city.post(
            f"/api/v1/tenants/{city_id}/children",
            json={"code": code, "name": name, "kind": "department"},
        )
        assert r.status_code in (201, 409), r.text  # 409: a rerun on the same stack
    dept_tokens = issue_accounts(stack, tokens[PDS], city_id, list(DEPTS), PASSWORD)
    depts = {c: api(stack, tok) for c, tok in dept_tokens.items()}
    ids = {c: d.get("/api/v1/tenants/me").json()["id"] for c, d in depts.items()}
    county_id = child(city, city_id, "410402")["id"]
    sibling_id = sibling.get("/api/v1/tenants/me").json()["id"]
    edu, health, agri = (ids[c] for c in DEPTS)

    units = [edu, health, agri, county_id]
    tasks = [
        {"seq": i + 1, "text": f"第{i + 1}项重点工作", "lead_unit_id": units[i % 4],
         "participant_ids": [units[(i + 1) % 4]],
         "milestones": [{"title": "完成", "due": f"{year}-{(i % 12) + 1:02d}-28"}]}
        for i in range(10)
    ]  # fmt: skip
    plan_in = {"title": f"平顶山市{year}年全民科学素质工作要点", "start_year": year, "tasks": tasks,
               "phases": [{"name": "启动", "start": f"{year}-01-01", "end": f"{year}-03-31"},
                          {"name": "深入实施", "start": f"{year}-04-01", "end": f"{year}-12-31"}]}  # fmt: skip

    # a lead unit of another city, a milestone after the year: 422 with the field, nothing written
    bad = {**plan_in, "tasks": [{**tasks[0], "lead_unit_id": sibling_id}]}
    body = problem(city.post("/api/v1/workplans", json=bad), 422)
    assert body["errors"][0]["field"] == "tasks.0.lead_unit_id" and "牵头单位" in body["detail"]
    late = {**plan_in, "tasks": [{**tasks[0], "milestones": [{"due": f"{year + 1}-01-10"}]}]}
    assert (
        problem(city.post("/api/v1/workplans", json=late), 422)["errors"][0]["field"]
        == "tasks.0.milestones.0.due"
    )

    # assessment learns the departments from identity.events
    r = eventually(
        lambda: (x := city.post("/api/v1/workplans", json=plan_in)).status_code == 201 and x, "plan"
    )
    plan = r.json()
    assert len(plan["tasks"]) == 10 and len(city.get("/api/v1/workplans").json()["plans"]) >= 1

    # a department sees its own tasks only, reports on them, and nothing else of the platform
    mine = depts["410400D01"].get(f"/api/v1/workplans/{plan['id']}").json()["tasks"]
    assert {t["seq"] for t in mine} == {1, 4, 5, 8, 9}  # lead of 1,5,9; participant of 4,8
    for q in ("Q1", "Q2", "Q3"):
        r = depts["410400D01"].post(
            f"/api/v1/workplans/{plan['id']}/tasks/{mine[0]['id']}/progress",
            json={"quarter": f"{year}{q}", "text": f"{q}完成科普进校园12场",
                  "figures": [{"year": year, "label": "活动场次", "value": 12}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    # the Q3 entry's evidence: a real .docx, uploaded as a file, listed on the entry and
    # downloaded by the city; 卫健委 (another department) and the sibling city meet 404
    buf = io.BytesIO()
    doc = Document()
    doc.add_paragraph("科普进校园活动签到表：第三季度12场，参加学生1860人次。")
    doc.save(buf)
    evidence = buf.getvalue()
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    r = depts["410400D01"].post(
        f"/api/v1/workplans/{plan['id']}/progress/{r.json()['id']}/files",
        files={"file": ("第三季度活动签到表.docx", evidence, docx_type)},
    )
    assert r.status_code == 201, r.text
    file_url = f"/api/v1/workplans/{plan['id']}/files/{r.json()['id']}"
    owner_view = city.get(f"/api/v1/workplans/{plan['id']}").json()["tasks"]
    seen = next(t for t in owner_view if t["id"] == mine[0]["id"])["progress"]
    assert [f["filename"] for e in seen for f in e["files"]] == ["第三季度活动签到表.docx"]
    got = city.get(file_url)
    assert got.status_code == 200 and got.content == evidence
    assert Document(io.BytesIO(got.content)).paragraphs[0].text.startswith("科普进校园")
    assert depts["410400D02"].get(file_url).status_code == 404
    assert sibling.get(file_url).status_code == 404
    bad_file = depts["410400D01"].post(
        f"/api/v1/workplans/{plan['id']}/progress/{seen[0]['id']}/files",
        files={"file": ("签到表.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert problem(bad_file, 422)["errors"][0]["field"] == "file"
    other = next(t for t in plan["tasks"] if t["seq"] == 2)  # 卫健委's
    r = depts["410400D01"].post(f"/api/v1/workplans/{plan['id']}/tasks/{other['id']}/progress",
                                json={"quarter": f"{year}Q1", "text": "x"})  # fmt: skip
    assert r.status_code == 404
    assert problem(depts["410400D01"].get("/api/v1/talents"), 403)["detail"].startswith("成员单位")
    assert depts["410400D01"].post(f"/api/v1/workplans/{plan['id']}/supervisions", json={
        "unit_id": edu, "visited_on": f"{year}-06-01", "findings": "x"}).status_code == 403  # fmt: skip
    assert sibling.get(f"/api/v1/workplans/{plan['id']}").status_code == 404
    assert sibling.get("/api/v1/workplans").json()["plans"] == []

    # supervision with rectification; the to-do lists of the owner and the department
    r = city.post(f"/api/v1/workplans/{plan['id']}/supervisions", json={
        "unit_id": agri, "task_id": plan["tasks"][2]["id"], "visited_on": f"{year}-09-15",
        "findings": "乡村科普阵地建设滞后", "rectify_by": f"{year}-12-31"})  # fmt: skip
    assert r.status_code == 201, r.text
    sup = r.json()
    todo = depts["410400D03"].get("/api/v1/workplans/todo").json()["items"]
    assert any(i["kind"] == "rectification_open" for i in todo)
    assert not any(
        i["kind"] == "rectification_open"
        for i in depts["410400D02"].get("/api/v1/workplans/todo").json()["items"]
    )
    owner_todo = city.get("/api/v1/workplans/todo").json()["items"]
    assert {"rectification_open", "milestone_overdue"} <= {i["kind"] for i in owner_todo}
    r = city.post(
        f"/api/v1/workplans/{plan['id']}/supervisions/{sup['id']}/rectify",
        json={"note": "已整改到位"},
    )
    assert r.json()["rectified"] is True
    assert not any(
        i["kind"] == "rectification_open"
        for i in depts["410400D03"].get("/api/v1/workplans/todo").json()["items"]
    )
    ms = plan["tasks"][0]["milestones"][0]
    r = city.put(f"/api/v1/workplans/{plan['id']}/tasks/{plan['tasks'][0]['id']}/milestones/{ms['id']}",
                 json={"status": "done"})  # fmt: skip
    assert r.json()["milestones"][0]["status"] == "done"

    # year end: each department's 目标责任书, fed to a scheme over the city's units
    def score(unit: str, per_task: float) -> float:
        items = [{"task_id": t["id"], "result": "completed" if per_task >= 10 else "partly", "score": per_task}
                 for t in plan["tasks"] if unit in (t["lead_unit_id"], *t["participant_ids"])]  # fmt: skip
        r = city.put(
            f"/api/v1/workplans/{plan['id']}/scores/{unit}", json={"year": year, "items": items}
        )
        assert r.status_code == 200, r.text
        return r.json()["total"]

    totals = {edu: score(edu, 16), health: score(health, 10), agri: score(agri, 5)}
    scheme = {"year": year, "name": "成员单位目标责任书考核", "indicators": [
        {"code": "1", "name": "目标责任书完成情况", "weight": 100, "kind": "automatic",
         "metric": "workplan_score", "rule": "linear", "target": 80}]}  # fmt: skip
    r = city.post("/api/v1/assessment/schemes", json=scheme)
    assert r.status_code == 201, r.text
    results = city.post(f"/api/v1/assessment/schemes/{r.json()['id']}/compute").json()["results"]
    ranked = {x["tenant_id"]: x for x in results}
    assert ranked[edu]["rank"] == 1 and ranked[edu]["total"] == 100  # 80 of 80
    assert ranked[edu]["total"] > ranked[health]["total"] > ranked[agri]["total"] > 0
    assert totals[edu] == 80

    # the 督查 report form and the xlsx
    r = city.get(f"/api/v1/workplans/{plan['id']}/export", params={"format": "docx"})
    doc = Document(io.BytesIO(r.content))
    assert "督查情况报告" in doc.paragraphs[0].text
    assert any("乡村科普阵地建设滞后" in c.text for row in doc.tables[1].rows for c in row.cells)
    r = city.get(f"/api/v1/workplans/{plan['id']}/export", params={"format": "xlsx"})
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_xuchang_stations_coverage_and_the_three_indicators(stack):
    year = datetime.now(SH).year
    month = datetime.now(SH).strftime("%Y-%m")
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    tokens = issue_accounts(stack, stack.admin_token(), me["id"], [XC, SIBLING2], PASSWORD)
    city, sibling = api(stack, tokens[XC]), api(stack, tokens[SIBLING2])
    city_id = city.get("/api/v1/tenants/me").json()["id"]
    ctokens = issue_accounts(stack, tokens[XC], city_id, ["411002", "411003"], PASSWORD)
    county, other_county = api(stack, ctokens["411002"]), api(stack, ctokens["411003"])
    county_id = county.get("/api/v1/tenants/me").json()["id"]
    r = county.post(f"/api/v1/tenants/{county_id}/children",
                    json={"code": "411002001", "name": "西大街道", "kind": "township"})  # fmt: skip
    assert r.status_code in (201, 409), r.text
    town_id = child(county, county_id, "411002001")["id"]

    # a 科普信息员: a talent of the county, recommended, reviewed by the city, certified
    r = eventually(lambda: (x := province.post("/api/v1/talents", json={
        "name": "信息员甲", "gender": "女", "phone": "13803740001", "employer": "西大街道办",
        "categories": ["社区科普"], "tenant_id": county_id})).status_code == 201 and x, "talent")  # fmt: skip
    talent_id = r.json()["id"]
    assert (
        county.post(f"/api/v1/talents/{talent_id}/recommend", json={"opinion": "推荐"}).status_code
        == 200
    )
    assert (
        city.post(
            f"/api/v1/talents/{talent_id}/review",
            json={"decision": "approve", "opinion": "同意推荐"},
        ).status_code
        == 200
    )
    r = province.post(f"/api/v1/talents/{talent_id}/review", json={"decision": "approve"})
    assert r.json()["status"] == "certified", r.text

    def station(kind: str, name: str) -> dict:
        r = eventually(lambda: (x := county.post("/api/v1/estations", json={
            "tenant_id": town_id, "kind": kind, "name": name, "conditions": FIVE})).status_code == 201 and x,
            "reporting knows the township")  # fmt: skip
        st = r.json()
        assert county.post(f"/api/v1/estations/{st['id']}/submit").status_code == 200
        r = county.post(f"/api/v1/estations/{st['id']}/actions", json={"action": "county_approve"})
        assert r.json()["status"] == "county_reviewed", r.text
        return st

    first = station("community", "西大社区e站")
    body = problem(
        city.post(f"/api/v1/estations/{first['id']}/actions", json={"action": "city_certify"}), 422
    )
    assert body["errors"][0]["field"] == "informant_ids"  # no 信息员: not certified
    outside = county.post("/api/v1/estations", json={"tenant_id": child(city, city_id, "411003")["id"],
                                                      "kind": "school", "name": "x", "conditions": FIVE})  # fmt: skip
    assert problem(outside, 422)["errors"][0]["field"] == "tenant_id"

    certified = []
    for st in [first, station("community", "北大社区e站"), station("school", "魏都小学e站"),
               station("village", "丁庄村e站")]:  # fmt: skip
        eventually(lambda st=st: county.post(f"/api/v1/estations/{st['id']}/informants",
                                             json={"talent_id": talent_id}).status_code == 200,
                   "reporting knows the certified talent")  # fmt: skip
        r = city.post(
            f"/api/v1/estations/{st['id']}/actions",
            json={"action": "city_certify", "opinion": "予以认定"},
        )
        assert r.json()["status"] == "certified" and r.json()["plaque_no"], r.text
        certified.append(r.json())
    assert other_county.get(f"/api/v1/estations/{first['id']}").status_code == 404
    assert sibling.get(f"/api/v1/estations/{first['id']}").status_code == 404

    # monthly schedule and activities: only the station with 60 people is 达标 this month
    sid = certified[0]["id"]
    assert (
        county.put(
            f"/api/v1/estations/{sid}/schedules/{month}", json={"items": ["防诈骗讲座"]}
        ).status_code
        == 200
    )
    r = county.post(f"/api/v1/estations/{sid}/activities",
                    json={"title": "防诈骗讲座", "date": f"{month}-01", "participants": 60})  # fmt: skip
    assert r.status_code == 201, r.text
    comp = city.get("/api/v1/estations/compliance", params={"month": month}).json()
    assert comp["certified"] >= 4 and sid not in {x["id"] for x in comp["unmet"]}
    assert certified[1]["id"] in {x["id"] for x in comp["unmet"]}

    # denominators: smaller than the certified stations is refused; ratios rolled up to the city
    r = county.put(f"/api/v1/estations/denominators/{county_id}",
                   json={"year": year, "communities": 1, "schools": 1, "villages": 3})  # fmt: skip
    assert problem(r, 422)["errors"][0]["field"] == "communities"
    r = county.put(f"/api/v1/estations/denominators/{county_id}",
                   json={"year": year, "communities": 3, "schools": 1, "villages": 3})  # fmt: skip
    assert r.status_code == 200, r.text
    cov = city.get("/api/v1/estations/coverage", params={"year": year}).json()
    row = next(c for c in cov["children"] if c["tenant_id"] == county_id)
    assert (row["community_ratio"], row["school_ratio"], row["village_ratio"]) == (
        66.67,
        100.0,
        33.33,
    )

    # the three automatic indicators with 锦州's targets, fed by reporting.events
    scheme = {"year": year, "name": "e站覆盖考核", "indicators": [
        {"code": "1", "name": "e站社区覆盖率", "weight": 40, "kind": "automatic",
         "metric": "estation_community_coverage", "rule": "threshold", "target": 60, "unit": "%"},
        {"code": "2", "name": "e站校园覆盖率", "weight": 30, "kind": "automatic",
         "metric": "estation_school_coverage", "rule": "threshold", "target": 90, "unit": "%"},
        {"code": "3", "name": "e站乡村覆盖率", "weight": 30, "kind": "automatic",
         "metric": "estation_village_coverage", "rule": "threshold", "target": 30, "unit": "%"}]}  # fmt: skip
    r = city.post("/api/v1/assessment/schemes", json=scheme)
    assert r.status_code == 201, r.text
    url = f"/api/v1/assessment/schemes/{r.json()['id']}/compute"

    def county_full():
        res = {x["tenant_id"]: x for x in city.post(url).json()["results"]}
        return res.get(county_id) if res.get(county_id, {}).get("total") == 100 else None

    mine = eventually(county_full, "the coverage reached assessment")
    assert [round(i["actual"], 2) for i in mine["indicators"]] == [66.67, 100.0, 33.33]

    # seed 002's quarterly progress report: a report type the city defines for its counties
    r = city.post("/api/v1/report-types", json={
        "code": f"xc_estation_q{year}", "name": "百千万行动季度进展", "period_kind": "quarter",
        "fields": [{"key": "stations", "label": "已认定e站数", "kind": "number", "unit": "个"},
                   {"key": "progress", "label": "工作进展", "kind": "text"}],
        "due_rules": {"county": {"month_offset": 1, "day": 10}}})  # fmt: skip
    assert r.status_code in (201, 409), r.text
    r = county.put(
        f"/api/v1/reports/xc_estation_q{year}/{year}Q3",
        json={"values": {"stations": 4, "progress": "已建成4个e站"}},
    )
    assert r.status_code == 200, r.text
