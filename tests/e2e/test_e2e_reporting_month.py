"""A month of 工作简报 through the gateway (issue 4): townships and a society file and submit
(one late), the county returns one and accepts the rest, its pre-filled brief goes to the city,
the city's to the province, and the province sees completeness, timeliness and sums.

"Now" is played with the reporting service's clock file: the stack must start the reporting
processes with ``REPORTING_CLOCK_FILE`` set (skipped otherwise)."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from kepu_devstack.e2e import api, issue_accounts

BRIEF = "/api/v1/reports/monthly_brief/2026-10"
PASSWORD = "Kepu#Month2026"


@pytest.fixture(scope="module")
def clock(stack):
    path = (getattr(stack, "env", None) or {}).get("REPORTING_CLOCK_FILE")
    if not path:
        pytest.skip("the stack does not set REPORTING_CLOCK_FILE for the reporting service")
    clock_file = Path(path)

    def set_now(iso: str) -> None:
        clock_file.write_text(iso)

    yield set_now
    clock_file.write_text("")


def accounts(stack, parent_token: str, parent_id: str, codes: list[str]) -> dict[str, str]:
    return issue_accounts(stack, parent_token, parent_id, codes, PASSWORD)


def wait_for_children(client: httpx.Client, names: set[str], timeout: float = 30.0) -> None:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ov = client.get(f"{BRIEF}/children").json()
        if names <= {c["name"] for c in ov.get("children", [])}:
            return
        time.sleep(0.5)
    raise AssertionError(f"the reporting read model never saw {names}")


def test_a_month_of_briefs_through_the_gateway(stack, clock):
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    city_token = accounts(stack, stack.admin_token(), me["id"], ["410300"])["410300"]  # 洛阳
    city = api(stack, city_token)
    city_me = city.get("/api/v1/tenants/me").json()
    county_token = accounts(stack, city_token, city_me["id"], ["410302"])["410302"]  # 老城区
    county = api(stack, county_token)
    county_me = county.get("/api/v1/tenants/me").json()
    suffix = secrets.randbelow(800) + 100
    new = {
        f"410302{suffix}": ("township", "邙山乡科协"),
        f"410302{suffix + 1}": ("township", "西关街道科协"),
        f"410302S{suffix % 90 + 10}": ("society", "老城区农学会"),
    }
    for code, (kind, name) in new.items():
        r = county.post(
            f"/api/v1/tenants/{county_me['id']}/children",
            json={"code": code, "name": name, "kind": kind},
        )
        assert r.status_code == 201, r.text
    tokens = accounts(stack, county_token, county_me["id"], list(new))
    t1, t2, soc = (api(stack, tokens[c]) for c in new)
    wait_for_children(county, {"邙山乡科协", "西关街道科协", "老城区农学会"})

    clock("2026-10-20T10:00:00+08:00")
    r = t1.post(
        "/api/v1/activities",
        json={
            "title": "果树修剪技术培训",
            "date": "2026-10-10",
            "place": "邙山乡",
            "form": "培训",
            "target": "进乡村",
            "participants": 30,
        },
    )
    assert r.status_code == 201, r.text
    # a sibling does not see it
    assert t2.get("/api/v1/activities?subtree=true").json()["activities"] == []

    clock("2026-11-02T09:00:00+08:00")
    brief = t1.get(BRIEF).json()
    assert brief["prefilled"] is True
    assert brief["values"]["trainees"] == 30
    assert t1.put(BRIEF, json={"values": {**brief["values"], "resources": 2}}).status_code == 200
    assert t1.post(f"{BRIEF}/submit").json()["on_time"] is True
    clock("2026-11-03T23:30:00+08:00")
    r = t2.post(f"{BRIEF}/submit", json={"values": {"activities": 1, "participants": 200}})
    assert r.json()["on_time"] is True
    # bad input and a sibling acting for another: Chinese problems, nothing changed
    bad = t2.put("/api/v1/reports/monthly_brief/2026-13", json={"values": {}})
    assert bad.status_code == 422
    assert "报告期" in bad.json()["detail"]
    t1_id = t1.get(BRIEF).json()["tenant_id"]
    assert t2.post(f"{BRIEF}/{t1_id}/accept").status_code == 403

    clock("2026-11-04T09:00:00+08:00")
    t2_id = t2.get(BRIEF).json()["tenant_id"]
    r = county.post(f"{BRIEF}/{t2_id}/return", json={"reason": "参与人次与活动记录不符"})
    assert r.json()["status"] == "returned"
    assert (
        t2.post(f"{BRIEF}/submit", json={"values": {"activities": 1, "participants": 180}}).json()[
            "status"
        ]
        == "submitted"
    )
    clock("2026-11-05T10:00:00+08:00")
    late = soc.post(f"{BRIEF}/submit", json={"values": {"training_sessions": 2, "trainees": 60}})
    assert late.json()["on_time"] is False
    soc_id = late.json()["tenant_id"]
    for tid in (t1_id, t2_id, soc_id):
        assert county.post(f"{BRIEF}/{tid}/accept").json()["status"] == "accepted"
    assert t1.post(f"{BRIEF}/submit").status_code == 409

    county_brief = county.get(BRIEF).json()
    assert county_brief["values"]["trainees"] == 90
    assert county_brief["values"]["participants"] == 210
    clock("2026-11-05T11:00:00+08:00")
    assert county.post(f"{BRIEF}/submit").json()["on_time"] is False  # county deadline: 4 Nov
    city_brief = city.get(BRIEF).json()
    assert city_brief["values"]["participants"] == 210
    clock("2026-11-05T15:00:00+08:00")
    assert city.post(f"{BRIEF}/submit").json()["on_time"] is True

    clock("2026-11-09T09:00:00+08:00")
    ov = province.get(f"{BRIEF}/children").json()
    luoyang = next(c for c in ov["children"] if c["tenant_id"] == city_me["id"])
    assert luoyang["status"] == "submitted"
    # The top-level figures are of the direct children listed beside them (only 洛阳 reported);
    # the whole subtree is counted apart (issue 10: completeness per level).
    assert (ov["submitted"], ov["on_time"]) == (1, 1)
    assert ov["completeness"] == pytest.approx(1 / ov["expected"])
    subtree = ov["subtree"]
    assert (subtree["submitted"], subtree["on_time"]) == (5, 3)
    assert subtree["completeness"] == pytest.approx(5 / subtree["expected"])
    assert subtree["timeliness"] == pytest.approx(3 / subtree["expected"])  # of what is due
    sums = {s["key"]: s["value"] for s in ov["sums"]}
    assert (sums["trainees"], sums["participants"], sums["resources"]) == (90, 210, 2)
    overdue = {o["name"] for o in ov["overdue"]}
    assert any("开封" in n for n in overdue)  # 开封 has not reported
    assert not any("洛阳" in n for n in overdue)

    doc = province.get(f"{BRIEF}/brief.docx")
    assert doc.status_code == 200
    assert doc.content[:2] == b"PK"
