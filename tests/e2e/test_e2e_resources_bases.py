"""Issue 15 through the gateway: the 科普资源库 and certified bases, played in 郑州.

惠济区 uploads a 微视频 for the whole province (an .exe is refused, naming the file field),
submits it; 郑州市 returns it with a reason, then publishes it; 中原区 downloads it (counted).
The publication travels projects -> outbox -> broker to reporting, where 惠济's brief of the
month pre-fills 资源开发数量, and to assessment, where a scheme's automatic indicator on
resources_published scores 惠济. 郑州 opens a 科普示范社区 certification call (refused without
criteria), 惠济's community is selected and certified with a number, the city's 复核 passes,
and the registry shows it against 惠济's targets 2 / 6 / 7."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from kepu_devstack.e2e import api, issue_accounts

PASSWORD = "Kepu#Resources2026"
CITY, HUIJI, ZHONGYUAN = "410100", "410108", "410102"  # 郑州市, 惠济区, 中原区
SH = ZoneInfo("Asia/Shanghai")
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000
PROBLEM = "application/problem+json"


def eventually(fn, what: str, timeout: float = 90.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"never happened: {what}")


def created(client, path: str, body: dict, timeout: float = 60.0) -> dict:
    """POST until 201: the projects service learns new tenants from identity's events."""
    end = time.monotonic() + timeout
    while True:
        r = client.post(path, json=body)
        if r.status_code == 201 or r.status_code not in (403, 404) or time.monotonic() > end:
            break
        time.sleep(0.5)
    assert r.status_code == 201, r.text
    return r.json()


def test_zhengzhou_develops_shares_and_counts_resources_and_certifies_a_base(stack):
    now = datetime.now(SH)
    year, month = now.year, f"{now:%Y-%m}"
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    tokens = issue_accounts(stack, stack.admin_token(), me["id"], [CITY], PASSWORD)
    city = api(stack, tokens[CITY])
    city_id = city.get("/api/v1/tenants/me").json()["id"]
    tokens |= issue_accounts(stack, tokens[CITY], city_id, [HUIJI, ZHONGYUAN], PASSWORD)
    huiji, zhongyuan = api(stack, tokens[HUIJI]), api(stack, tokens[ZHONGYUAN])
    huiji_id = huiji.get("/api/v1/tenants/me").json()["id"]

    # 1. 惠济 uploads a 微视频 shared with the province; a forbidden type is refused
    res = created(huiji, "/api/v1/resources", {
        "kind": "微视频", "title": "黄河滩区防汛避险", "theme": "应急科普", "share_scope": "province",
    })  # fmt: skip
    rid = res["id"]
    bad = huiji.post(
        f"/api/v1/resources/{rid}/files", files={"file": ("a.exe", b"MZ" + b"\0" * 64)}
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    assert bad.json()["errors"][0]["field"] == "file"
    f = huiji.post(f"/api/v1/resources/{rid}/files", files={"file": ("防汛避险.mp4", MP4)})
    assert f.status_code == 201, f.text
    assert huiji.get(f"/api/v1/resources/{rid}").json()["files"][0]["content_type"] == "video/mp4"
    assert huiji.post(f"/api/v1/resources/{rid}/submit").json()["status"] == "submitted"
    assert zhongyuan.get(f"/api/v1/resources/{rid}").status_code == 404  # not published yet

    # 2. the city returns it with a reason, then publishes it
    back = city.post(f"/api/v1/resources/{rid}/review", json={"decision": "return"})
    assert back.status_code == 422 and back.json()["errors"][0]["field"] == "reason"
    back = city.post(
        f"/api/v1/resources/{rid}/review", json={"decision": "return", "reason": "请补充字幕"}
    )
    assert back.json()["status_label"] == "已退回修改"
    assert huiji.get(f"/api/v1/resources/{rid}").json()["return_reason"] == "请补充字幕"
    assert huiji.post(f"/api/v1/resources/{rid}/submit").status_code == 200
    done = city.post(f"/api/v1/resources/{rid}/review", json={"decision": "approve"}).json()
    assert done["status"] == "published"

    # 3. shared with the province: 中原区 finds it and downloads it, which counts
    shared = zhongyuan.get("/api/v1/resources", params={"shared": True}).json()["resources"]
    assert rid in [x["id"] for x in shared]
    got = zhongyuan.get(f"/api/v1/resources/{rid}/files/{f.json()['id']}")
    assert got.status_code == 200 and got.content == MP4
    assert huiji.get(f"/api/v1/resources/{rid}").json()["downloads"] == 1
    count = city.get("/api/v1/resources/count", params={"year": year}).json()
    assert {c["tenant_id"]: c["published"] for c in count["children"]}[huiji_id] == 1

    # 4. the month's brief of 惠济 pre-fills 资源开发数量 from the published resource
    def brief_counts():
        r = huiji.get(f"/api/v1/reports/monthly_brief/{month}")
        return r.status_code == 200 and r.json()["values"].get("resources") == 1

    eventually(brief_counts, "the resource pre-filled in 惠济's brief", timeout=120)

    # 5. a scheme's automatic indicator on resources_published scores 惠济
    base = "/api/v1/assessment/schemes"
    scheme = created(city, base, {
        "year": year, "name": f"{year}年郑州市科普资源开发考核",
        "indicators": [{"code": "1", "name": "科普资源开发", "weight": 100, "kind": "automatic",
                        "metric": "resources_published", "rule": "threshold", "target": 1}],
    })  # fmt: skip

    def huiji_scored():
        results = city.post(f"{base}/{scheme['id']}/compute").json()["results"]
        mine = next((x for x in results if x["tenant_id"] == huiji_id), None)
        return mine if mine and mine["total"] == 100 else None

    eventually(huiji_scored, "the resource counted in the scheme", timeout=120)

    # 6. a certification call needs its criteria
    call = {
        "title": f"{year}年郑州市科普示范社区认定", "programme": "科普示范社区",
        "deadline": f"{year}-12-31", "quota": 1, "outcome": "certification",
        "base_kind": "科普示范社区",
    }  # fmt: skip
    r = city.post("/api/v1/calls", json=call)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "criteria"
    call = city.post(
        "/api/v1/calls", json=call | {"criteria": [{"name": "科普活动", "weight": 100}]}
    ).json()
    project = created(huiji, "/api/v1/projects", {
        "name": "新城街道科普示范社区", "applicant_unit": "新城街道", "completing_unit": "新城街道",
        "contact_person": "张敏", "contact_phone": "13803710000", "category": "科普活动",
        "start_month": f"{year}-01", "end_month": f"{year}-12", "content": "社区科普大讲堂。",
        "expected_performance": "全年活动24场。", "call_id": call["id"],
    })  # fmt: skip
    pid = project["id"]
    assert huiji.post(f"/api/v1/projects/{pid}/submit").status_code == 200
    assert city.post(f"/api/v1/projects/{pid}/review", json={"decision": "pass"}).status_code == 200
    score = {"project_id": pid, "reviewer": "李专家", "scores": {"科普活动": 92}}
    assert city.post(f"/api/v1/calls/{call['id']}/scores", json=score).status_code == 201
    assert city.post(f"/api/v1/calls/{call['id']}/select", json={"top_n": 1}).status_code == 200

    # 7. the base: a number, a validity, the city's 复核, the registry against 2 / 6 / 7
    [b] = huiji.get("/api/v1/bases").json()["bases"]
    assert b["number"].startswith(f"{CITY}-SQ{year}-") and b["status_label"] == "已认定"
    assert b["valid_until"] > b["certified_on"]
    assert zhongyuan.get(f"/api/v1/bases/{b['id']}").status_code == 404
    review = {"year": year, "outcome": "passed", "opinion": "活动台账齐全"}
    assert huiji.post(f"/api/v1/bases/{b['id']}/reviews", json=review).status_code == 403
    r = city.post(f"/api/v1/bases/{b['id']}/reviews", json=review)
    assert r.status_code == 201 and r.json()["reviews"][0]["outcome_label"] == "复核通过"
    again = city.post(f"/api/v1/bases/{b['id']}/reviews", json=review | {"outcome": "failed"})
    assert again.status_code == 409  # one 复核 a year
    targets = [{"kind": "科普教育基地", "target": 2}, {"kind": "科普示范社区", "target": 6},
               {"kind": "现代农业科普园", "target": 7}]  # fmt: skip
    r = city.put(f"/api/v1/bases/targets/{huiji_id}", json={"targets": targets})
    assert r.status_code == 200, r.text
    reg = city.get("/api/v1/bases/registry").json()
    row = next(c for c in reg["children"] if c["tenant_id"] == huiji_id)
    kinds = {k["kind"]: (k["certified"], k["target"]) for k in row["kinds"]}
    assert kinds["科普示范社区"] == (1, 6) and kinds["科普教育基地"] == (0, 2)
    assert kinds["现代农业科普园"] == (0, 7)
