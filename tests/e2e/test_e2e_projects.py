"""The key project library through the whole stack (SPEC section 4): 安阳市 opens a call, 文峰区
files a 入库表 and submits it, 安阳 reviews it, experts score, the best is approved into the
library, 文峰区 reports progress and completes it, 安阳 evaluates it; 北关区 (a sibling) sees
none of it; the yearly counts roll up and the events reach Kafka through the outbox."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition
from kepu.events.v1 import envelope_pb2
from kepu.projects.v1 import projects_pb2
from kepu_devstack.e2e import api, eventually, issue_accounts

PASSWORD = "Kepu#Anyang2026"
SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.e2e


def accounts(stack, parent_token: str, parent_id: str, codes: list[str]) -> dict[str, str]:
    return issue_accounts(stack, parent_token, parent_id, codes, PASSWORD)


def wait_for_child(client: httpx.Client, code: str, year: int, timeout: float = 30.0) -> None:
    """The projects read model learns the tree from identity.events."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        stats = client.get(f"/api/v1/projects/stats?year={year}").json()
        if code in {c["code"] for c in stats.get("children", [])}:
            return
        time.sleep(0.5)
    raise AssertionError(f"the projects read model never saw {code}")


def project_events(bootstrap: str, project_id: str, want: set[str], timeout: float = 30.0):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=1000)
    try:
        parts = [
            TopicPartition("projects.events", p)
            for p in consumer.partitions_for_topic("projects.events") or {0}
        ]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        seen: list[str] = []
        end = time.monotonic() + timeout
        while time.monotonic() < end and not want <= set(seen):
            for batch in consumer.poll(timeout_ms=1000).values():
                for record in batch:
                    env = envelope_pb2.EventEnvelope.FromString(record.value)
                    ev = projects_pb2.ProjectEvent()
                    if env.payload.Unpack(ev) and ev.project_id == project_id:
                        seen.append(env.type)
        return seen
    finally:
        consumer.close()


def test_a_call_from_anyang_runs_from_filing_to_evaluation(stack):
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    city_token = accounts(stack, stack.admin_token(), me["id"], ["410500"])["410500"]  # 安阳
    city = api(stack, city_token)
    city_me = city.get("/api/v1/tenants/me").json()
    tokens = accounts(stack, city_token, city_me["id"], ["410502", "410503"])
    wenfeng, beiguan = api(stack, tokens["410502"]), api(stack, tokens["410503"])
    year = datetime.now(SH).year
    wait_for_child(city, "410502", year)

    deadline = (datetime.now(SH) + timedelta(days=30)).date().isoformat()
    r = city.post(
        "/api/v1/calls",
        json={
            "title": f"{year}年现代农业科普园项目申报",
            "programme": "现代农业科普园",
            "deadline": deadline,
            "quota": 50,
            "criteria": [{"name": "科学性", "weight": 40}, {"name": "示范带动", "weight": 60}],
            "min_reviewers": 2,
        },
    )
    assert r.status_code == 201, r.text
    call = r.json()
    assert call["id"] in [
        c["id"] for c in wenfeng.get("/api/v1/calls?fileable=true&open=true").json()["calls"]
    ]

    form = {
        "name": "文峰区现代农业科普园建设",
        "applicant_unit": "文峰区科协",
        "completing_unit": "文峰区农业科技示范园",
        "contact_person": "李华",
        "contact_phone": "13937212345",
        "category": "科普设施建设",
        "start_month": f"{year}-04",
        "end_month": f"{year}-12",
        "content": "建设农业科普长廊与科普教室，开展农技培训。",
        "expected_performance": "年接待参观群众1万人次，培训农民500人次。",
        "budget": 300000,
        "call_id": call["id"],
    }
    bad = wenfeng.post(
        "/api/v1/projects", json={**form, "start_month": f"{year}-12", "end_month": f"{year}-01"}
    )
    assert bad.status_code == 422 and "不能早于" in bad.json()["detail"]
    r = wenfeng.post("/api/v1/projects", json=form)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["contact_phone"] == "139****2345"
    assert wenfeng.post(f"/api/v1/projects/{pid}/submit").json()["status"] == "submitted"

    # the city's full view of the contact phone is in the audit log the province reads
    full = city.get(f"/api/v1/projects/{pid}", params={"reveal": "true"})
    assert full.json()["contact_phone"] == "13937212345"

    def seen():
        rows = province.get(
            "/api/v1/audit", params={"action": "personal_data_viewed", "limit": 200}
        ).json()
        return next((e for e in rows if e["object"] == f"project:{pid}"), None)

    entry = eventually(seen, "the project view in the audit log")
    assert entry["username"] == "kx410500" and entry["client_ip"]
    assert "文峰区现代农业科普园建设" in entry["summary"] and "联系电话" in entry["summary"]
    assert "13937212345" not in str(entry)

    # the sibling county sees nothing and can change nothing
    assert beiguan.get(f"/api/v1/projects/{pid}").status_code == 404
    assert (
        beiguan.post(
            f"/api/v1/projects/{pid}/review", json={"decision": "fail", "opinion": "x"}
        ).status_code
        == 404
    )
    assert beiguan.get("/api/v1/projects?subtree=true").json()["projects"] == []
    assert beiguan.get(f"/api/v1/calls/{call['id']}/ranking").status_code == 403

    assert (
        city.post(
            f"/api/v1/projects/{pid}/review", json={"decision": "pass", "opinion": "推荐"}
        ).json()["status"]
        == "expert_review"
    )
    for expert, a, b in (("专家甲", 90, 80), ("专家乙", 70, 90)):
        r = city.post(
            f"/api/v1/calls/{call['id']}/scores",
            json={"project_id": pid, "reviewer": expert, "scores": {"科学性": a, "示范带动": b}},
        )
        assert r.status_code == 201, r.text
    entry = city.get(f"/api/v1/calls/{call['id']}/ranking").json()["entries"][0]
    assert (entry["mean"], entry["spread"], entry["eligible"]) == (83.0, 1.0, True)
    approved = city.post(f"/api/v1/calls/{call['id']}/select", json={"top_n": 1}).json()["approved"]
    assert [p["id"] for p in approved] == [pid] and approved[0]["library_no"]

    r = wenfeng.post(f"/api/v1/projects/{pid}/complete", json={})
    assert r.status_code == 409 and "进展" in r.json()["detail"]
    wenfeng.post(
        f"/api/v1/projects/{pid}/progress", json={"content": "科普长廊主体完工", "percent": 60}
    )
    assert (
        wenfeng.post(f"/api/v1/projects/{pid}/complete", json={"summary": "如期完成"}).json()[
            "status"
        ]
        == "completed"
    )
    ev = city.post(
        f"/api/v1/projects/{pid}/evaluate", json={"score": 91, "comment": "示范作用明显"}
    ).json()
    assert (ev["status"], ev["evaluation_grade"]) == ("evaluated", "优秀")

    stats = province.get(f"/api/v1/projects/stats?year={year}").json()
    anyang = {c["code"]: c for c in stats["children"]}["410500"]
    assert anyang["approved"] >= 1 and anyang["completed"] >= 1
    city_stats = city.get(f"/api/v1/projects/stats?year={year}").json()
    assert {c["code"]: c["approved"] for c in city_stats["children"]}["410502"] == 1
    assert {c["category"]: c["approved"] for c in city_stats["by_category"]}["facility"] >= 1

    seen = project_events(
        stack.env["KAFKA_BOOTSTRAP_SERVERS"],
        pid,
        {
            "projects.project.submitted",
            "projects.project.approved",
            "projects.project.completed",
            "projects.project.evaluated",
        },
    )
    assert seen == [
        "projects.project.submitted",
        "projects.project.approved",
        "projects.project.completed",
        "projects.project.evaluated",
    ]
