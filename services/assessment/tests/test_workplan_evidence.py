"""Evidence files 佐证材料 of work-plan progress over the gateway and the real servicer: a
department uploads a pdf to its quarterly progress, the entry lists it, the department, the
city that owns the plan and the province above download it; another department of the same
task, a sibling county and another city's department meet 404; a bad type, a disguised file
and an oversized one are 422 problems in Chinese naming the field, with nothing written."""

from __future__ import annotations

from datetime import date

import pytest
from assessment_testkit import feed_tree, system
from kepu.assessment.v1 import workplans_pb2_grpc
from kepu_assessment.workplans.grpc_api import WorkPlanServicer
from kepu_common.objects import FileSystemStore
from kepu_devstack.gateway_testing import gateway_client
from sqlalchemy import text

TREE = [
    ("410000", "河南省科协", "province", None),
    ("410400", "平顶山市科协", "city", "410000"),
    ("410400D01", "市教育局", "department", "410400"),
    ("410400D02", "市卫健委", "department", "410400"),
    ("410402", "新华区科协", "county", "410400"),
    ("411300", "南阳市科协", "city", "410000"),
    ("411300D01", "南阳市教育局", "department", "411300"),
]
YEAR = date.today().year
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PROBLEM = "application/problem+json"
STAFF = ("staff",)


@pytest.fixture(scope="module")
def t(db):
    return feed_tree(db, TREE)


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    return tmp_path_factory.mktemp("evidence")


@pytest.fixture(scope="module")
def client(db, t, objects):
    pytest.importorskip("kepu_gateway.app")
    with gateway_client(
        "assessment",
        workplans_pb2_grpc.add_WorkPlanServiceServicer_to_server,
        lambda verifier: WorkPlanServicer(verifier, db, FileSystemStore(objects)),
    ) as (c, headers):
        yield c, headers


@pytest.fixture(scope="module")
def entry(client, t):
    """The city's plan with one task led by 市教育局 (市卫健委 participating) and 教育局's Q1
    progress on it: (plan id, progress id)."""
    c, h = client
    edu, health = t["410400D01"], t["410400D02"]
    r = c.post("/api/v1/workplans", headers=h(t["410400"]), json={
        "title": f"平顶山市{YEAR}年全民科学素质工作要点", "start_year": YEAR,
        "tasks": [{"seq": 1, "text": "开展首届“科技工作者日”活动", "lead_unit_id": edu.id,
                   "participant_ids": [health.id],
                   "milestones": [{"title": "活动举办", "due": f"{YEAR}-05-30"}]}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    plan = r.json()
    r = c.post(
        f"/api/v1/workplans/{plan['id']}/tasks/{plan['tasks'][0]['id']}/progress",
        headers=h(edu, STAFF), json={"quarter": f"{YEAR}Q1", "text": "已制定活动方案"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return plan["id"], r.json()["id"]


def upload(client, node, plan_id, progress_id, name, content, roles=STAFF):
    c, h = client
    return c.post(
        f"/api/v1/workplans/{plan_id}/progress/{progress_id}/files",
        headers=h(node, roles), files={"file": (name, content, "application/octet-stream")},
    )  # fmt: skip


def counts(db):
    with system(db) as s:
        return s.execute(
            text(
                "SELECT (SELECT count(*) FROM plan_evidence), (SELECT count(*) FROM outbox"
                " WHERE type = 'assessment.plan.evidence_attached')"
            )
        ).one()


def test_a_department_attaches_a_pdf_that_the_owner_and_its_ancestors_download(
    client, t, entry, db, objects
):
    c, h = client
    plan_id, progress_id = entry
    edu = t["410400D01"]
    r = upload(client, edu, plan_id, progress_id, "活动方案.pdf", PDF)
    assert r.status_code == 201, r.text
    f = r.json()
    assert (f["filename"], f["content_type"], int(f["size"])) == (
        "活动方案.pdf",
        "application/pdf",
        len(PDF),
    )
    assert f["created_at"].endswith("+08:00")  # Beijing time for users
    # the progress entry lists the file, for the unit and for the owner
    for node, roles in ((edu, STAFF), (t["410400"], ("admin",))):
        task = c.get(f"/api/v1/workplans/{plan_id}", headers=h(node, roles)).json()["tasks"][0]
        assert [x["filename"] for x in task["progress"][0]["files"]] == ["活动方案.pdf"]
    url = f"/api/v1/workplans/{plan_id}/files/{f['id']}"
    for node, roles in ((edu, STAFF), (t["410400"], ("admin",)), (t["410000"], ("admin",))):
        r = c.get(url, headers=h(node, roles))
        assert r.status_code == 200, (node.code, r.text)
        assert r.content == PDF and r.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''" in r.headers["content-disposition"]
    # 市卫健委 works on the same task but did not report this entry; siblings see nothing
    for node in (t["410400D02"], t["410402"], t["411300"], t["411300D01"]):
        r = c.get(url, headers=h(node, STAFF))
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM), node.code
        assert "未找到" in r.json()["detail"]
        r = upload(client, node, plan_id, progress_id, "x.pdf", PDF)
        assert r.status_code == 404, (node.code, r.text)
    # the row and its event sit under the department's path, so RLS keeps them there
    with system(db) as s:
        paths = s.execute(
            text(
                "SELECT e.tenant_path::text, o.tenant_path::text FROM plan_evidence e JOIN outbox o"
                " ON o.type = 'assessment.plan.evidence_attached' WHERE e.id = CAST(:id AS uuid)"
            ),
            {"id": f["id"]},
        ).all()
    assert paths == [(edu.path, edu.path)]
    assert len([p for p in objects.rglob("*") if p.is_file()]) == 1


def test_the_owner_admin_attaches_for_a_unit_and_the_province_above_may_not(client, t, entry):
    plan_id, progress_id = entry
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    r = upload(client, t["410400"], plan_id, progress_id, "现场照片.png", png, ("admin",))
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/png"
    r = upload(client, t["410000"], plan_id, progress_id, "x.png", png, ("admin",))
    assert r.status_code == 403 and "佐证材料" in r.json()["detail"]


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("程序.exe", b"MZ\x90\x00", "不支持的文件类型"),
        ("方案.pdf", b"not a pdf at all", "不符"),
        ("空.docx", b"", "为空"),
        ("大.pdf", b"%PDF" + b"0" * (20 * 1024 * 1024), "过大"),
    ],
)
def test_a_bad_file_is_a_422_problem_naming_the_field_and_nothing_is_written(
    client, t, entry, db, objects, name, content, needle
):
    plan_id, progress_id = entry
    before, files = counts(db), sorted(objects.rglob("*"))
    r = upload(client, t["410400D01"], plan_id, progress_id, name, content)
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text
    assert needle in r.json()["detail"]
    assert [e["field"] for e in r.json()["errors"]] == ["file"]
    assert counts(db) == before and sorted(objects.rglob("*")) == files
