"""The gateway router over the real servicer: REST paths, problem+json with Chinese details,
publication and sibling denial."""

from __future__ import annotations

import copy

import pytest
from assessment_testkit import PROVINCE_SCHEME, certified, feed
from kepu.assessment.v1 import assessment_pb2_grpc
from kepu_assessment.grpc_api import AssessmentServicer
from kepu_devstack.gateway_testing import gateway_client

PROBLEM = "application/problem+json"
BASE = "/api/v1/assessment/schemes"


@pytest.fixture(scope="module")
def client(db, tree):
    pytest.importorskip("kepu_gateway.app")
    with gateway_client(
        "assessment",
        assessment_pb2_grpc.add_AssessmentServiceServicer_to_server,
        lambda verifier: AssessmentServicer(verifier, db),
    ) as (c, headers):
        yield c, headers


def is_problem(r, status, needle=""):
    return (
        r.status_code == status
        and r.headers["content-type"].startswith(PROBLEM)
        and needle in r.json()["detail"]
    )


def test_scheme_flow_over_rest(client, tree, db):
    c, h = client
    prov, ny, kf = tree["410000"], tree["411300"], tree["410200"]
    feed(db, *(certified(tree["411303"]) for _ in range(4)), certified(kf))
    r = c.post(BASE, headers=h(prov), json=copy.deepcopy(PROVINCE_SCHEME))
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["children"] == 3 and r.json()["status_label"] == "考核中"

    r = c.put(
        f"{BASE}/{sid}/scores/{ny.id}",
        headers=h(prov),
        json={"entries": [{"indicator_code": "4", "score": 18, "evidence": "有文件"},
                          {"indicator_code": "5", "value": 10.1}]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert (
        c.get(f"{BASE}/{sid}/scores/{ny.id}", headers=h(prov)).json()["entries"][0]["score"] == 18
    )

    r = c.post(f"{BASE}/{sid}/compute", headers=h(prov))
    assert r.status_code == 200, r.text
    top = r.json()["results"][0]
    assert (top["name"], top["rank"], top["total"]) == ("南阳市科协", 1, 58)

    # before publication a city sees nothing; a sibling city cannot read or write scores
    assert is_problem(c.get(f"{BASE}/{sid}/results", headers=h(ny)), 403, "尚未发布")
    assert is_problem(c.get(f"{BASE}/{sid}/scores/{ny.id}", headers=h(kf)), 403)
    assert is_problem(
        c.put(f"{BASE}/{sid}/scores/{ny.id}", headers=h(kf),
              json={"entries": [{"indicator_code": "4", "score": 0}]}),
        403,
    )  # fmt: skip
    assert is_problem(c.post(f"{BASE}/{sid}/publish", headers=h(kf)), 403, "制定该考核方案")

    r = c.post(f"{BASE}/{sid}/publish", headers=h(prov))
    assert r.status_code == 200, r.text
    assert [x["name"] for x in r.json()["honours"]] == ["南阳市科协"]
    seen = c.get(f"{BASE}/{sid}/results", headers=h(kf)).json()
    assert seen["scheme"]["status"] == "published"
    ranks = {x["name"]: (x["rank"], len(x["indicators"])) for x in seen["results"]}
    assert ranks["南阳市科协"] == (1, 0) and ranks["开封市科协"] == (2, 5)
    assert is_problem(c.post(f"{BASE}/{sid}/compute", headers=h(prov)), 409, "冻结")
    assert sid in {s["id"] for s in c.get(f"{BASE}?year=2026", headers=h(kf)).json()["schemes"]}
    as_child = c.get(f"{BASE}/{sid}", headers=h(kf)).json()
    assert (as_child["owner_name"], as_child["children"]) == (prov.name, 3)  # who assessed them


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"indicators": [{"code": "1", "name": "甲", "weight": 90, "kind": "manual"}]}, 422, "100分"),
        ({"year": 1800}, 422, "年度"),
        ({"indicators": [{"code": "1", "name": "甲", "weight": 100, "kind": "value",
                          "target": -3}]}, 422, "负数"),
        ({"indicators": [{"code": "1", "name": "甲", "weight": 100, "kind": "automatic",
                          "metric": "x"}]}, 422, "未知"),
    ],
)  # fmt: skip
def test_bad_schemes_are_problems_in_chinese(client, tree, change, status, needle):
    c, h = client
    body = {**copy.deepcopy(PROVINCE_SCHEME), **change}
    assert is_problem(c.post(BASE, headers=h(tree["410000"]), json=body), status, needle)


def test_allocation_over_rest_and_unknown_scheme(client, tree):
    c, h = client
    prov, ny, kf, jy = tree["410000"], tree["411300"], tree["410200"], tree["419001"]
    sid = c.post(BASE, headers=h(prov), json=copy.deepcopy(PROVINCE_SCHEME)).json()["id"]
    body = {"indicator_code": "1", "total": 100, "quotas": {ny.id: 50, kf.id: 30, jy.id: 10}}
    assert is_problem(c.put(f"{BASE}/{sid}/allocations", headers=h(prov), json=body), 422, "少于")
    body["quotas"][jy.id] = 20
    r = c.put(f"{BASE}/{sid}/allocations", headers=h(prov), json=body)
    assert r.status_code == 200 and r.json()["allocated"] == 100
    mine = c.get(f"{BASE}/{sid}/allocations", headers=h(kf)).json()["allocations"][0]["quotas"]
    assert [(q["name"], q["quota"]) for q in mine] == [("开封市科协", 30)]
    assert is_problem(
        c.get(f"{BASE}/00000000-0000-0000-0000-000000000000", headers=h(prov)), 404, "未找到"
    )
    assert is_problem(c.get(f"{BASE}/xyz/results", headers=h(prov)), 422, "格式")


def test_the_owner_resolves_a_tie_at_the_honours_boundary_over_rest(client, tree):
    c, h = client
    prov, ny, kf, jy = tree["410000"], tree["411300"], tree["410200"], tree["419001"]
    body = {"year": 2026, "name": "前1名", "honours_top_n": 1,
            "indicators": [{"code": "1", "name": "工作实绩", "weight": 100, "kind": "manual"}]}  # fmt: skip
    sid = c.post(BASE, headers=h(prov), json=body).json()["id"]
    for node in (ny, kf):
        entries = {"entries": [{"indicator_code": "1", "score": 70}]}
        assert c.put(f"{BASE}/{sid}/scores/{node.id}", headers=h(prov), json=entries).is_success
    r = c.post(f"{BASE}/{sid}/close", headers=h(prov)).json()
    assert [x["honoured"] for x in r["results"]] == [False, False, False]
    assert r["honours"] == [] and "请考核单位确定取舍" in r["honours_note"]
    assert sorted(r["tie"]["tenant_ids"]) == sorted([ny.id, kf.id]) and r["tie"]["seats"] == 1
    tie = f"{BASE}/{sid}/honours/tie"
    assert is_problem(c.put(tie, headers=h(prov), json={"tenant_ids": [jy.id]}), 422, "并列单位")
    assert is_problem(c.put(tie, headers=h(kf), json={"tenant_ids": [kf.id]}), 403)
    r = c.put(tie, headers=h(prov), json={"tenant_ids": [kf.id]})
    assert r.status_code == 200, r.text
    assert r.json()["tie"]["resolved"] is True
    assert [
        x["name"] for x in c.post(f"{BASE}/{sid}/publish", headers=h(prov)).json()["honours"]
    ] == ["开封市科协"]
    assert is_problem(c.put(tie, headers=h(prov), json={"tenant_ids": []}), 409, "已经发布")
