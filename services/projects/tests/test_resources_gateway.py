"""The resource library over the gateway and the real servicer: 文峰区 uploads a pdf and
submits, 安阳市 publishes, the town below downloads it (counted); a sibling county meets 404;
an .exe, a disguised file and an oversized file are 422 problems in Chinese naming the file
field, with no row written and nothing left in the object store."""

from __future__ import annotations

import pytest
from kepu.projects.v1 import resources_pb2_grpc
from kepu_common.objects import FileSystemStore
from kepu_devstack.gateway_testing import gateway_client
from kepu_projects.resources.grpc_api import ResourceServicer
from projects_testkit import system_rows

PDF = b"%PDF-1.4\n%%EOF\n"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    return tmp_path_factory.mktemp("resource-files")


@pytest.fixture(scope="module")
def client(db, tree, objects):
    pytest.importorskip("kepu_gateway.app")
    with gateway_client(
        "projects",
        resources_pb2_grpc.add_ResourceServiceServicer_to_server,
        lambda verifier: ResourceServicer(verifier, db, FileSystemStore(objects), 64 * 1024),
    ) as (c, headers):
        yield c, headers


def new_resource(client, node, **over):
    c, h = client
    body = {"kind": "文章", "title": "秋冬季流感防护", "theme": "安全健康"} | over
    r = c.post("/api/v1/resources", headers=h(node), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def upload(client, node, rid, name, content):
    c, h = client
    files = {"file": (name, content, "application/octet-stream")}
    return c.post(f"/api/v1/resources/{rid}/files", headers=h(node), files=files)


def test_upload_review_publish_and_download_over_the_api(client, tree):
    c, h = client
    county, city, town, sibling = (tree[k] for k in ("410502", "410500", "410502001", "410503"))
    res = new_resource(client, county)
    assert res["status_label"] == "草稿" and res["allowed_actions"] == ["edit", "upload", "submit"]
    f = upload(client, county, res["id"], "流感防护.pdf", PDF)
    assert f.status_code == 201, f.text
    r = c.post(f"/api/v1/resources/{res['id']}/submit", headers=h(county))
    assert r.json()["status"] == "submitted"
    pending = c.get(f"/api/v1/resources/{res['id']}", headers=h(city)).json()
    assert pending["allowed_actions"] == ["approve", "return"]
    r = c.post(
        f"/api/v1/resources/{res['id']}/review", headers=h(city), json={"decision": "approve"}
    )
    assert r.json()["status_label"] == "已发布"
    got = c.get(f"/api/v1/resources/{res['id']}/files/{f.json()['id']}", headers=h(town))
    assert got.status_code == 200 and got.content == PDF
    assert c.get(f"/api/v1/resources/{res['id']}", headers=h(county)).json()["downloads"] == 1
    for path in (
        f"/api/v1/resources/{res['id']}",
        f"/api/v1/resources/{res['id']}/files/{f.json()['id']}",
    ):
        r = c.get(path, headers=h(sibling))
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    count = c.get("/api/v1/resources/count", headers=h(tree["410000"]), params={"year": 2026})
    assert count.status_code == 200 and count.json()["target"] == 1000


def test_bad_files_are_refused_with_the_field_and_nothing_stored(client, tree, db, objects):
    county = tree["410502"]
    res = new_resource(client, county, title="地震避险课件", kind="课件")
    before = system_rows(db, "SELECT count(*) FROM resource_files")
    for name, content in (
        ("课件.exe", b"MZ\x90\x00" + b"\0" * 20),
        ("课件.pptx", b"MZ\x90\x00" + b"\0" * 20),
        ("课件.pdf", b"%PDF-1.4" + b"\0" * (64 * 1024)),
    ):
        r = upload(client, county, res["id"], name, content)
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
        body = r.json()
        assert body["errors"][0]["field"] == "file" and "文件" in body["detail"]
    assert system_rows(db, "SELECT count(*) FROM resource_files") == before
    assert not [p for p in objects.rglob("*") if p.is_file() and res["id"] in str(p)]
