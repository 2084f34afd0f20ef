"""A year's assessment through the gateway (SPEC section 6): the province sets a scheme over its
cities, a city's activity reaches the assessment read model through Kafka, the province scores,
computes and publishes, and the city reads its published rank (but nothing before)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kepu_devstack.e2e import api, eventually, issue_accounts

PASSWORD = "Kepu#Assess2026"
CITY = "410700"  # 新乡市
SIBLING = "410800"  # 焦作市
BASE = "/api/v1/assessment/schemes"


def accounts(stack, parent_token: str, parent_id: str, codes: list[str]) -> dict[str, str]:
    return issue_accounts(stack, parent_token, parent_id, codes, PASSWORD)


def test_province_publishes_and_a_city_reads_its_rank(stack):
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    tokens = accounts(stack, stack.admin_token(), me["id"], [CITY, SIBLING])
    city, sibling = api(stack, tokens[CITY]), api(stack, tokens[SIBLING])
    city_id = city.get("/api/v1/tenants/me").json()["id"]
    sibling_id = sibling.get("/api/v1/tenants/me").json()["id"]

    scheme = {
        "year": year,
        "name": f"{year}年度百千万科普工程考核",
        "honours_top_n": 1,
        "indicators": [
            {"code": "1", "name": "科普活动开展", "weight": 60, "kind": "automatic",
             "metric": "activities", "rule": "threshold", "target": 1},
            {"code": "2", "name": "组织领导", "weight": 40, "kind": "manual"},
        ],
    }  # fmt: skip
    r = province.post(BASE, json=scheme)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    # the assessment service learns the tenant tree from identity.events
    eventually(lambda: province.get(f"{BASE}/{sid}").json()["children"] >= 18, "18 cities")

    bad = province.put(
        f"{BASE}/{sid}/scores/{city_id}", json={"entries": [{"indicator_code": "2", "score": 41}]}
    )
    assert bad.status_code == 422 and "0到40分" in bad.json()["detail"]
    r = province.put(
        f"{BASE}/{sid}/scores/{city_id}",
        json={"entries": [{"indicator_code": "2", "score": 40, "evidence": "领导小组文件"}]},
    )
    assert r.status_code == 200, r.text

    # the city's activity travels reporting -> outbox -> Kafka -> assessment read model
    r = city.post(
        "/api/v1/activities",
        json={"title": "科普进社区讲座", "date": today, "place": "新乡市", "form": "讲座",
              "target": "进社区", "participants": 80},
    )  # fmt: skip
    assert r.status_code == 201, r.text

    def city_scored():
        res = province.post(f"{BASE}/{sid}/compute").json()["results"]
        mine = next(x for x in res if x["tenant_id"] == city_id)
        return mine if mine["total"] == 100 else None

    # reporting -> outbox -> relay -> broker -> assessment worker on a stack that has just
    # started: allow for its consumer groups' first join
    mine = eventually(city_scored, "the activity counted for the city", timeout=120)
    assert mine["rank"] == 1

    # unpublished: the city sees nothing; a sibling city cannot read its scores
    early = city.get(f"{BASE}/{sid}/results")
    assert early.status_code == 403 and "尚未发布" in early.json()["detail"]
    assert sibling.get(f"{BASE}/{sid}/scores/{city_id}").status_code == 403
    assert sibling.post(f"{BASE}/{sid}/publish").status_code == 403

    r = province.post(f"{BASE}/{sid}/publish")
    assert r.status_code == 200, r.text
    assert city_id in {h["tenant_id"] for h in r.json()["honours"]}

    published = city.get(f"{BASE}/{sid}/results").json()
    ranks = {x["tenant_id"]: x for x in published["results"]}
    assert ranks[city_id]["rank"] == 1 and ranks[city_id]["honoured"] is True
    assert ranks[city_id]["indicators"][1]["evidence"] == "领导小组文件"
    assert ranks[sibling_id]["indicators"] == []  # a sibling's ranking only
    assert province.post(f"{BASE}/{sid}/compute").status_code == 409
