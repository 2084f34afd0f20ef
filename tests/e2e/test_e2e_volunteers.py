"""i科普 科技志愿服务 through the gateway (issue 15, seed 001 items 10-12), played in 鹤壁.

A township of a county records a person of its talent pool, who registers as 科技志愿者 on the
consent text; the township's 志愿服务队 enters what the volunteer did (a bad entry is refused
field by field and writes nothing), the county confirms two records and returns one with a
reason; the confirmed hours roll up to the county and the city, the county downloads the
volunteer's certificate, a sibling county reaches none of it; the province opens the call for
the 50 supported 科技志愿服务项目 and the county files one into it."""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from docx import Document
from kepu_devstack.e2e import api, issue_accounts

PASSWORD = "Kepu#Volunteer2026"
CITY = "410600"  # 鹤壁市
SH = ZoneInfo("Asia/Shanghai")


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body
    return body


def created(client, path: str, body: dict, timeout: float = 60.0) -> dict:
    """POST until 201: the talent service learns new tenants from identity's events."""
    end = time.monotonic() + timeout
    while True:
        r = client.post(path, json=body)
        if r.status_code == 201 or r.status_code not in (403, 404) or time.monotonic() > end:
            break
        time.sleep(0.5)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_township_team_serves_the_county_confirms_and_the_hours_roll_up(stack):
    today = datetime.now(SH).date()
    year = today.year
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    tokens = issue_accounts(stack, stack.admin_token(), me["id"], [CITY], PASSWORD)
    city = api(stack, tokens[CITY])
    city_id = city.get("/api/v1/tenants/me").json()["id"]
    counties = sorted(
        (
            c
            for c in city.get(f"/api/v1/tenants/{city_id}/children").json()
            if c["kind"] == "county"
        ),
        key=lambda c: c["code"],
    )
    c1, c2 = counties[0], counties[1]
    tokens |= issue_accounts(stack, tokens[CITY], city_id, [c1["code"], c2["code"]], PASSWORD)
    county, sibling = api(stack, tokens[c1["code"]]), api(stack, tokens[c2["code"]])
    town_code = c1["code"] + "101"
    r = county.post(
        f"/api/v1/tenants/{c1['id']}/children",
        json={"code": town_code, "name": "志愿服务试点镇", "kind": "township"},
    )
    assert r.status_code in (201, 409), r.text  # 409: a rerun on the same stack
    tokens |= issue_accounts(stack, tokens[c1["code"]], c1["id"], [town_code], PASSWORD)
    town = api(stack, tokens[town_code])
    town_id = town.get("/api/v1/tenants/me").json()["id"]

    # a person of the township's talent pool registers, on the consent text
    phone = f"137{int(time.time() * 1000) % 10**8:08d}"
    talent = created(
        town,
        "/api/v1/talents",
        {"name": "赵志远", "gender": "男", "phone": phone, "employer": "镇农技站",
         "categories": ["农村科普"]},
    )  # fmt: skip
    form = town.get("/api/v1/volunteers").json()
    assert "自愿注册" in form["consent_text"]
    reg = {"talent_id": talent["id"], "phone": phone, "consent": False,
           "consent_version": form["consent_version"]}  # fmt: skip
    body = problem(town.post("/api/v1/volunteers", json=reg), 422)
    assert body["errors"][0]["field"] == "consent"
    volunteer = created(town, "/api/v1/volunteers", {**reg, "consent": True})
    assert volunteer["phone"] == phone[:3] + "****" + phone[-4:]
    assert volunteer["consent_version"] == form["consent_version"] and volunteer["consented_at"]
    assert volunteer["volunteer_no"].startswith("ZY")
    team = created(
        town, "/api/v1/volunteer-orgs", {"name": "试点镇科技志愿服务队", "contact_name": "刘队长"}
    )
    records = f"/api/v1/volunteer-orgs/{team['id']}/records"

    # hours over 24, a date in the future and an unknown kind: every field named, nothing written
    bad = {"volunteer_id": volunteer["id"], "served_on": (today + timedelta(days=2)).isoformat(),
           "place": "新时代文明实践站", "kind": "广场舞", "hours": 25, "beneficiaries": 30}  # fmt: skip
    body = problem(town.post(records, json=bad), 422)
    assert {e["field"] for e in body["errors"]} == {"served_on", "kind", "hours"}
    assert "24小时" in body["detail"]
    assert town.get("/api/v1/volunteer-records").json()["records"] == []

    served = {**bad, "served_on": today.isoformat()}
    entries = [
        {**served, "kind": "agriculture", "hours": 4, "beneficiaries": 60},
        {**served, "kind": "lecture", "hours": 2.5, "beneficiaries": 120},
        {**served, "kind": "clinic", "hours": 3, "beneficiaries": 25},
    ]
    ids = [created(town, records, e)["id"] for e in entries]
    over = {**served, "kind": "youth", "hours": 15}  # 9.5 h already that day
    assert problem(town.post(records, json=over), 422)["errors"][0]["field"] == "hours"

    # the township cannot confirm its own entries; the county confirms two, returns one
    decision = f"/api/v1/volunteer-records/{ids[0]}/decision"
    problem(town.post(decision, json={"action": "confirm"}), 403)
    pending = county.get("/api/v1/volunteer-records", params={"status": "submitted"}).json()
    assert {r["id"] for r in pending["records"]} >= set(ids)
    assert all(r["allowed_actions"] == ["confirm", "reject"] for r in pending["records"])
    for rid in ids[:2]:
        r = county.post(f"/api/v1/volunteer-records/{rid}/decision", json={"action": "confirm"})
        assert r.status_code == 200 and r.json()["status_label"] == "已确认", r.text
    reject = f"/api/v1/volunteer-records/{ids[2]}/decision"
    assert (
        problem(county.post(reject, json={"action": "reject"}), 422)["errors"][0]["field"]
        == "reason"
    )
    back = county.post(reject, json={"action": "reject", "reason": "缺少签到表"}).json()
    assert back["status"] == "rejected" and back["reason"] == "缺少签到表"

    # a sibling county reaches none of it
    for path in (f"/api/v1/volunteers/{volunteer['id']}", f"/api/v1/volunteer-orgs/{team['id']}"):
        problem(sibling.get(path), 404)
    problem(
        sibling.get(f"/api/v1/volunteers/{volunteer['id']}/certificate", params={"year": year}), 404
    )
    problem(sibling.post(decision, json={"action": "reject", "reason": "x"}), 404)
    assert volunteer["id"] not in {
        v["id"] for v in sibling.get("/api/v1/volunteers").json()["volunteers"]
    }

    # confirmed hours: 6.5 for the volunteer, the team, the township, the county and the city
    mine = county.get("/api/v1/volunteers/hours", params={"year": year}).json()
    assert mine["total"]["hours"] >= 6.5
    assert next(c for c in mine["children"] if c["id"] == town_id)["hours"] == 6.5
    assert next(o for o in mine["orgs"] if o["id"] == team["id"])["beneficiaries"] == 180
    assert next(v for v in mine["volunteers"] if v["id"] == volunteer["id"])["hours"] == 6.5
    up = city.get("/api/v1/volunteers/hours", params={"year": year}).json()
    assert next(c for c in up["children"] if c["id"] == c1["id"])["hours"] == mine["total"]["hours"]
    assert county.get(f"/api/v1/volunteers/{volunteer['id']}").json()["year_hours"] == 6.5

    # the certificate, issued by the county
    r = county.get(f"/api/v1/volunteers/{volunteer['id']}/certificate", params={"year": year})
    assert r.status_code == 200 and "wordprocessingml" in r.headers["content-type"]
    doc = Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "赵志远" in text and "共计6.5小时" in text and c1["name"] in text

    # the supported 科技志愿服务项目 are applied for through a call of the province (50 places)
    call = province.post(
        "/api/v1/calls",
        json={"title": f"{year}年“i科普”科技志愿服务项目", "programme": "i科普科技志愿服务",
              "deadline": (today + timedelta(days=30)).isoformat(), "quota": 50,
              "criteria": [{"name": "服务成效", "weight": 100}]},
    )  # fmt: skip
    assert call.status_code == 201, call.text
    assert call.json()["quota"] == 50
    project = created(
        county,
        "/api/v1/projects",
        {"name": "科技志愿服务进乡村", "applicant_unit": c1["name"], "completing_unit": team["name"],
         "contact_person": "刘队长", "contact_phone": "13937212345", "category": "科普活动",
         "start_month": f"{year}-04", "end_month": f"{year}-12", "content": "农技服务与科普报告。",
         "expected_performance": "服务群众一千人次。", "budget": 5, "call_id": call.json()["id"]},
    )  # fmt: skip
    assert project["call_id"] == call.json()["id"]
