"""Certified bases over the gateway and the real servicers: a certification call without its
criteria is a 422 problem+json naming the criteria field (no call written); with them, the
city selects 文峰区's project and the base answers at /api/v1/bases with its number; the
city's 复核 is recorded, a sibling county meets 404 and a county's 复核 403."""

from __future__ import annotations

import pytest
from kepu.projects.v1 import bases_pb2_grpc, projects_pb2_grpc
from kepu_devstack.gateway_testing import gateway_client
from kepu_projects.bases.grpc_api import BaseServicer
from kepu_projects.grpc_api import ProjectsServicer
from projects_testkit import form, sh, system_rows

PROBLEM = "application/problem+json"
CALL = {
    "title": "2026年省级科普教育基地认定", "programme": "科普教育基地", "deadline": "2026-04-30",
    "outcome": "certification", "base_kind": "科普教育基地", "quota": 1,
}  # fmt: skip


@pytest.fixture(scope="module")
def client(db, tree, ring):
    pytest.importorskip("kepu_gateway.app")
    now = {"t": sh(2026, 3, 1, 9)}

    def add(servicers, server):
        projects_pb2_grpc.add_ProjectsServiceServicer_to_server(servicers[0], server)
        bases_pb2_grpc.add_BaseServiceServicer_to_server(servicers[1], server)

    with gateway_client(
        "projects",
        add,
        lambda v: (
            ProjectsServicer(v, db, ring, now=lambda: now["t"]),
            BaseServicer(v, db, now=lambda: now["t"]),
        ),
    ) as (c, headers):
        yield c, headers, now


def test_a_call_certifies_a_base_reviewed_over_the_api(client, tree, db):
    c, h, now = client
    city, county, sibling = tree["410500"], tree["410502"], tree["410503"]
    before = system_rows(db, "SELECT count(*) FROM calls")
    r = c.post("/api/v1/calls", headers=h(city), json=CALL)
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["errors"][0]["field"] == "criteria" and "认定标准" in r.json()["detail"]
    assert system_rows(db, "SELECT count(*) FROM calls") == before

    criteria = [{"name": "场馆条件", "weight": 50}, {"name": "开放服务", "weight": 50}]
    call = c.post("/api/v1/calls", headers=h(city), json=CALL | {"criteria": criteria}).json()
    assert (call["outcome"], call["base_kind"], call["validity_years"]) == (
        "certification",
        "科普教育基地",
        3,
    )
    p = c.post(
        "/api/v1/projects", headers=h(county), json=form(call_id=call["id"], name="殷墟科普馆")
    )
    pid = p.json()["id"]
    assert c.post(f"/api/v1/projects/{pid}/submit", headers=h(county)).status_code == 200
    r = c.post(f"/api/v1/projects/{pid}/review", headers=h(city), json={"decision": "pass"})
    assert r.status_code == 200, r.text
    scores = {"project_id": pid, "reviewer": "王专家", "scores": {"场馆条件": 90, "开放服务": 80}}
    r = c.post(f"/api/v1/calls/{call['id']}/scores", headers=h(city), json=scores)
    assert r.status_code in (200, 201), r.text
    r = c.post(f"/api/v1/calls/{call['id']}/select", headers=h(city), json={"top_n": 1})
    assert r.status_code == 200, r.text

    [base] = c.get("/api/v1/bases", headers=h(county)).json()["bases"]
    assert (base["number"], base["status_label"]) == ("410500-JD2026-001", "已认定")
    assert base["allowed_actions"] == []
    assert c.get(f"/api/v1/bases/{base['id']}", headers=h(city)).json()["allowed_actions"] == [
        "review"
    ]
    assert c.get(f"/api/v1/bases/{base['id']}", headers=h(sibling)).status_code == 404
    now["t"] = sh(2027, 2, 1, 9)
    body = {"year": 2027, "outcome": "passed", "opinion": "开放正常"}
    assert (
        c.post(f"/api/v1/bases/{base['id']}/reviews", headers=h(county), json=body).status_code
        == 403
    )
    r = c.post(f"/api/v1/bases/{base['id']}/reviews", headers=h(city), json=body)
    assert r.status_code == 201 and r.json()["reviews"][0]["outcome_label"] == "复核通过"
    reg = c.get("/api/v1/bases/registry", headers=h(city)).json()
    assert {k["kind"]: k["certified"] for k in reg["total"]["kinds"]}["科普教育基地"] == 1
