"""What a caller may do with a scheme or a work plan, from the domain, as the API answers it
(``allowed_actions``): the buttons the portal shows, with no rule of its own. The answer must
agree with what the use cases then accept or refuse."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from assessment_testkit import PROVINCE_SCHEME
from kepu.assessment.v1 import assessment_pb2_grpc, workplans_pb2_grpc
from kepu_assessment import domain
from kepu_assessment.grpc_api import AssessmentServicer
from kepu_assessment.workplans import domain as plans
from kepu_assessment.workplans.grpc_api import WorkPlanServicer
from kepu_common.objects import FileSystemStore
from kepu_devstack.gateway_testing import gateway_client

SCHEMES = "/api/v1/assessment/schemes"
OWNER_OPEN = [
    "view_results", "view_scores", "score", "allocate", "compute", "resolve_tie", "close",
    "publish",
]  # fmt: skip
READ = ["view_results", "view_scores"]
YEAR = date.today().year


# ---------------------------------------------------------------- the rules


def test_the_owner_admin_runs_an_open_scheme_and_only_settles_and_publishes_a_closed_one():
    owner, roles = "410000", ("admin",)
    assert domain.scheme_actions(domain.OPEN, owner, owner, roles) == OWNER_OPEN
    assert domain.scheme_actions(domain.CLOSED, owner, owner, roles) == [
        *READ,
        "resolve_tie",
        "publish",
    ]
    assert domain.scheme_actions(domain.PUBLISHED, owner, owner, roles) == READ
    assert domain.scheme_actions(domain.OPEN, owner, owner, ("viewer",)) == READ


def test_an_assessed_unit_reads_the_results_once_published_and_never_changes_them():
    owner, city = "410000", "410000.411300"
    assert domain.scheme_actions(domain.OPEN, owner, city, ("admin",)) == []
    assert domain.scheme_actions(domain.CLOSED, owner, city, ("admin",)) == []
    assert domain.scheme_actions(domain.PUBLISHED, owner, city, ("admin",)) == ["view_results"]
    # the owner's ancestor reads everything, changes nothing
    assert domain.scheme_actions(domain.OPEN, city, owner, ("admin",)) == READ


def test_plan_actions_for_the_owner_its_users_its_ancestors_and_a_named_unit():
    owner, county, province = "410000.411300", "410000.411300.411303", "410000"
    assert plans.plan_actions(owner, owner, ("admin",)) == list(plans.PLAN_ACTIONS)
    assert plans.plan_actions(owner, owner, ("viewer",)) == ["export"]
    assert plans.plan_actions(owner, province, ("admin",)) == ["export"]
    assert plans.plan_actions(owner, county, ("viewer",)) == ["report_progress", "upload_evidence"]


# ---------------------------------------------------------------- over the API


@pytest.fixture(scope="module")
def schemes(db, tree):
    pytest.importorskip("kepu_gateway.app")
    with gateway_client(
        "assessment",
        assessment_pb2_grpc.add_AssessmentServiceServicer_to_server,
        lambda verifier: AssessmentServicer(verifier, db),
    ) as (c, headers):
        yield c, headers


@pytest.fixture(scope="module")
def workplans(db, tree, tmp_path_factory):
    pytest.importorskip("kepu_gateway.app")
    store = FileSystemStore(tmp_path_factory.mktemp("evidence"))
    with gateway_client(
        "assessment",
        workplans_pb2_grpc.add_WorkPlanServiceServicer_to_server,
        lambda verifier: WorkPlanServicer(verifier, db, store),
    ) as (c, headers):
        yield c, headers


def actions_in_list(c, h, node, scheme_id, roles=("admin",)):
    listed = c.get(SCHEMES, headers=h(node, roles)).json()["schemes"]
    return next(s["allowed_actions"] for s in listed if s["id"] == scheme_id)


def test_scheme_actions_follow_the_scheme_through_close_and_publish(schemes, tree):
    c, h = schemes
    prov, city = tree["410000"], tree["411300"]
    body = {**copy.deepcopy(PROVINCE_SCHEME), "name": "可执行操作测试方案"}
    r = c.post(SCHEMES, headers=h(prov), json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["allowed_actions"] == OWNER_OPEN
    assert c.get(f"{SCHEMES}/{sid}", headers=h(prov, ("viewer",))).json()["allowed_actions"] == READ
    assert actions_in_list(c, h, city, sid) == []
    # what the list withholds, the API refuses
    assert c.get(f"{SCHEMES}/{sid}/results", headers=h(city)).status_code == 403
    assert c.post(f"{SCHEMES}/{sid}/close", headers=h(prov, ("viewer",))).status_code == 403

    r = c.post(f"{SCHEMES}/{sid}/close", headers=h(prov))
    assert r.status_code == 200, r.text
    assert r.json()["scheme"]["allowed_actions"] == [*READ, "resolve_tie", "publish"]
    assert c.post(f"{SCHEMES}/{sid}/compute", headers=h(prov)).status_code == 409

    r = c.post(f"{SCHEMES}/{sid}/publish", headers=h(prov))
    assert r.status_code == 200, r.text
    assert r.json()["scheme"]["allowed_actions"] == READ
    assert actions_in_list(c, h, city, sid) == ["view_results"]
    r = c.get(f"{SCHEMES}/{sid}/results", headers=h(city))
    assert r.status_code == 200 and r.json()["scheme"]["allowed_actions"] == ["view_results"]


def test_plan_actions_for_the_owner_a_named_county_and_the_province(workplans, tree):
    c, h = workplans
    city, county, prov = tree["411300"], tree["411303"], tree["410000"]
    r = c.post("/api/v1/workplans", headers=h(city), json={
        "title": f"南阳市{YEAR}年科普工作要点", "start_year": YEAR,
        "tasks": [{"seq": 1, "text": "建设科普e站", "lead_unit_id": county.id,
                   "milestones": [{"title": "建成", "due": f"{YEAR}-11-30"}]}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["allowed_actions"] == list(plans.PLAN_ACTIONS)
    got = c.get(f"/api/v1/workplans/{plan['id']}", headers=h(county, ("viewer",))).json()
    assert got["allowed_actions"] == ["report_progress", "upload_evidence"]
    listed = c.get("/api/v1/workplans", headers=h(prov)).json()["plans"]
    assert next(p for p in listed if p["id"] == plan["id"])["allowed_actions"] == ["export"]
    # the province may not supervise, the county may report
    task = plan["tasks"][0]
    r = c.post(f"/api/v1/workplans/{plan['id']}/supervisions", headers=h(prov), json={
        "unit_id": county.id, "visited_on": f"{YEAR}-03-01", "findings": "进度滞后",
    })  # fmt: skip
    assert r.status_code == 403
    r = c.post(
        f"/api/v1/workplans/{plan['id']}/tasks/{task['id']}/progress",
        headers=h(county, ("viewer",)), json={"quarter": f"{YEAR}Q1", "text": "已选址"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
