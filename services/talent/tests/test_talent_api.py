"""The talent REST routes through the gateway router and a real gRPC server (no stack)."""

import io
import uuid
from datetime import datetime, timedelta

import openpyxl
import pytest
from fastapi.testclient import TestClient
from kepu.talent.v1 import talent_pb2_grpc
from kepu_common import grpcio
from kepu_devstack.tokens import TestIssuer
from kepu_talent.xlsx import HEADERS, TITLE
from talent_support import (
    KAIFENG,
    KINDS,
    NANYANG,
    PROVINCE,
    TENANT_IDS,
    WOLONG,
    fresh_phone,
    record,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def issuer():
    return TestIssuer()


@pytest.fixture(scope="module")
def client(app, issuer, monkeypatch_module):
    server, port = grpcio.make_server(0)
    talent_pb2_grpc.add_TalentServiceServicer_to_server(app.servicer(issuer.verifier()), server)
    server.start()
    monkeypatch_module.setenv("TALENT_GRPC_TARGET", f"127.0.0.1:{port}")
    from kepu_gateway import grpc_clients
    from kepu_gateway.app import create_app
    from kepu_gateway.settings import GatewaySettings

    grpc_clients.close_all()
    gateway = create_app(GatewaySettings(OIDC_ISSUER=issuer.issuer))
    gateway.state.verifier = issuer.verifier()
    with TestClient(gateway) as c:
        yield c
    grpc_clients.close_all()
    server.stop(0)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def auth(issuer, path, *roles):
    token = issuer.token(
        tenant_id=TENANT_IDS[path],
        tenant_path=path,
        tenant_kind=KINDS[path],
        roles=roles or ("admin",),
        username=f"api-{path}",
    )
    return {"Authorization": f"Bearer {token}"}


def is_problem(r, status):
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    )


def create(client, issuer, **overrides):
    r = client.post("/api/v1/talents", json=record(**overrides), headers=auth(issuer, WOLONG))
    assert r.status_code == 201, r.text
    return r.json()


def test_the_review_chain_over_rest(client, issuer):
    t = create(client, issuer)
    assert "****" in t["fields"]["phone"]
    r = client.post(
        f"/api/v1/talents/{t['id']}/review",
        json={"decision": "approve"},
        headers=auth(issuer, PROVINCE),
    )
    assert is_problem(r, 409)  # not recommended yet
    r = client.post(
        f"/api/v1/talents/{t['id']}/recommend",
        json={"opinion": "同意推荐"},
        headers=auth(issuer, WOLONG),
    )
    assert r.json()["status"] == "recommended"
    r = client.post(
        f"/api/v1/talents/{t['id']}/review",
        json={"decision": "approve", "opinion": "好"},
        headers=auth(issuer, WOLONG),
    )
    assert is_problem(r, 403)  # a county cannot review
    r = client.post(
        f"/api/v1/talents/{t['id']}/review",
        json={"decision": "approve", "opinion": "同意"},
        headers=auth(issuer, KAIFENG, "reviewer"),
    )
    assert is_problem(r, 404)  # a sibling city does not even see it
    r = client.post(
        f"/api/v1/talents/{t['id']}/review",
        json={"decision": "approve"},
        headers=auth(issuer, PROVINCE),
    )
    assert is_problem(r, 409)  # the city has not given its opinion
    for path in (NANYANG, PROVINCE):
        r = client.post(
            f"/api/v1/talents/{t['id']}/review",
            json={"decision": "approve", "opinion": "同意"},
            headers=auth(issuer, path),
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "certified" and r.json()["certificate_no"]


def test_each_record_says_what_the_caller_may_do_next(client, issuer):
    t = create(client, issuer)
    assert t["allowed_actions"] == ["edit", "recommend"]

    def seen_by(path, *roles):
        one = client.get(f"/api/v1/talents/{t['id']}", headers=auth(issuer, path, *roles)).json()
        page = client.get(
            "/api/v1/talents", params={"q": t["fields"]["name"]}, headers=auth(issuer, path, *roles)
        ).json()
        [listed] = [x for x in page["talents"] if x["id"] == t["id"]]
        assert listed["allowed_actions"] == one["allowed_actions"]
        return one["allowed_actions"]

    assert seen_by(NANYANG) == []
    assert seen_by(WOLONG, "viewer") == []
    r = client.post(
        f"/api/v1/talents/{t['id']}/recommend",
        json={"opinion": "同意推荐"},
        headers=auth(issuer, WOLONG),
    )
    assert r.json()["allowed_actions"] == []
    assert seen_by(NANYANG, "reviewer") == ["review"]
    assert seen_by(PROVINCE) == []  # the city gives its opinion first


def test_a_sibling_city_cannot_read_list_or_export(client, issuer):
    t = create(client, issuer, name="南阳专属")
    assert (
        client.get(f"/api/v1/talents/{t['id']}", headers=auth(issuer, KAIFENG)).status_code == 404
    )
    listed = client.get(
        "/api/v1/talents", params={"q": "南阳专属"}, headers=auth(issuer, KAIFENG)
    ).json()
    assert listed["total"] == 0
    r = client.get(
        "/api/v1/talents/export",
        params={"tenant_id": TENANT_IDS[WOLONG]},
        headers=auth(issuer, KAIFENG),
    )
    assert is_problem(r, 404)
    r = client.get(f"/api/v1/talents/{t['id']}/form.docx", headers=auth(issuer, KAIFENG))
    assert is_problem(r, 404)


def test_reveal_needs_a_reviewer_role(client, issuer):
    phone = fresh_phone()
    t = create(client, issuer, phone=phone)
    r = client.get(
        f"/api/v1/talents/{t['id']}",
        params={"reveal": "true"},
        headers=auth(issuer, NANYANG, "viewer"),
    )
    assert is_problem(r, 403)
    r = client.get(
        f"/api/v1/talents/{t['id']}",
        params={"reveal": "true"},
        headers=auth(issuer, NANYANG, "reviewer"),
    )
    assert r.json()["fields"]["phone"] == phone


def test_import_export_and_form_over_rest(client, issuer):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.append(["南阳 市 卧龙区 县（区）科协"])
    ws.append(list(HEADERS))
    ws.append(
        [1, "农村科普", "接口导入", "男", "某合作社", "社长", fresh_phone(), "农业", "养殖", "培训"]
    )
    ws.append([2, "农村科普", "坏行", "男", "某合作社", "社长", "123", "农业", "养殖", "培训"])
    buf = io.BytesIO()
    wb.save(buf)
    files = {"file": ("汇总表.xlsx", buf.getvalue(), XLSX)}
    before = client.get("/api/v1/talents", params={"q": "接口导入"}, headers=auth(issuer, WOLONG))
    r = client.post("/api/v1/talents/import", files=files, headers=auth(issuer, WOLONG))
    # the caller waited and the sheet failed: a 422 with the row errors, nothing written
    assert is_problem(r, 422), r.text
    problem = r.json()
    assert problem["errors"][0]["row"] == 5 and problem["errors"][0]["column"] == "G"
    assert problem["errors"][0]["label"] == "联系电话" and "未导入任何数据" in problem["detail"]
    after = client.get("/api/v1/talents", params={"q": "接口导入"}, headers=auth(issuer, WOLONG))
    assert after.json()["total"] == before.json()["total"]
    job = client.get(r.headers["Location"], headers=auth(issuer, WOLONG)).json()
    assert job["status"] == "failed"
    # a background import is accepted (202) and polled, even when it will fail
    r = client.post(
        "/api/v1/talents/import",
        files=files,
        data={"wait": "false"},
        headers=auth(issuer, WOLONG),
    )
    assert r.status_code == 202 and r.headers["Location"].endswith(r.json()["id"])
    r = client.post(
        "/api/v1/talents/import",
        files=files,
        data={"mode": "valid_only"},
        headers=auth(issuer, WOLONG),
    )
    assert r.json()["inserted"] == 1
    assert (
        client.get(
            f"/api/v1/talents/imports/{r.json()['id']}", headers=auth(issuer, WOLONG)
        ).json()["status"]
        == "partial"
    )
    r = client.post(
        "/api/v1/talents/import",
        files={"file": ("a.xlsx", b"garbage", XLSX)},
        headers=auth(issuer, WOLONG),
    )
    assert is_problem(r, 422)
    r = client.get("/api/v1/talents/export", headers=auth(issuer, NANYANG))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    names = [
        row[2]
        for row in openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)
    ]
    assert "接口导入" in names
    t = create(client, issuer)
    r = client.get(f"/api/v1/talents/{t['id']}/form.docx", headers=auth(issuer, WOLONG))
    assert r.status_code == 200 and r.content.startswith(b"PK")


def test_the_import_template_is_the_summary_sheet_without_anyones_data(client, issuer):
    create(client, issuer, name="模板不含此人")
    r = client.get("/api/v1/talents/import-template", headers=auth(issuer, WOLONG))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    cells = {str(c) for row in rows for c in row if c is not None}
    assert {"序号", "姓名"} <= cells  # the headers an import reads
    assert "模板不含此人" not in cells
    # sent back empty, the template is read as a summary sheet with nobody on it
    r = client.post(
        "/api/v1/talents/import",
        params={"wait": "true"},
        files={"file": ("模板.xlsx", r.content, XLSX)},
        headers=auth(issuer, WOLONG),
    )
    assert is_problem(r, 422) and r.json()["detail"] == "汇总表中没有人才数据。"


def test_bulk_review_and_stats(client, issuer):
    ids = []
    for _ in range(3):
        t = create(client, issuer)
        client.post(
            f"/api/v1/talents/{t['id']}/recommend",
            json={"opinion": "同意推荐"},
            headers=auth(issuer, WOLONG),
        )
        ids.append(t["id"])
    r = client.post(
        "/api/v1/talents/bulk-review",
        json={"ids": ids + [str(uuid.uuid4())], "decision": "approve", "opinion": "同意"},
        headers=auth(issuer, NANYANG),
    )
    body = r.json()
    assert body["succeeded"] == 3 and body["failed"] == 1
    stats = client.get("/api/v1/talents/stats", headers=auth(issuer, NANYANG)).json()
    assert stats["own"]["quota"] == 1000
    assert any(c["path"] == WOLONG and c["pending"] >= 3 for c in stats["children"])


def test_bad_input_is_a_chinese_problem_never_a_500(client, issuer):
    h = auth(issuer, WOLONG)
    assert is_problem(client.post("/api/v1/talents", json={"name": "x"}, headers=h), 422)
    assert is_problem(client.post("/api/v1/talents", json=record(phone="abc"), headers=h), 422)
    assert is_problem(client.get("/api/v1/talents/not-a-uuid", headers=h), 404)
    assert is_problem(client.get("/api/v1/talents", params={"category": "x"}, headers=h), 422)
    assert is_problem(client.get("/api/v1/talents"), 401)


def test_each_bad_field_comes_back_with_its_chinese_message_for_the_form(client, issuer):
    h = auth(issuer, WOLONG)
    r = client.post(
        "/api/v1/talents", json=record(phone="abc", email="zhang@", ethnicity="火星族"), headers=h
    )
    assert is_problem(r, 422)
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(errors) == {"phone", "email", "ethnicity"}, errors
    assert errors["phone"].startswith("联系电话“abc”格式不正确")
    assert errors["email"] == "电子邮箱“zhang@”格式不正确"
    assert "民族" in errors["ethnicity"]
    assert all(m in r.json()["detail"] for m in errors.values())
    # the gateway's own checks name the field by its label in the same shape
    r = client.post("/api/v1/talents", json=record(name="张" * 51), headers=h)
    assert is_problem(r, 422)
    [error] = r.json()["errors"]
    assert (error["field"], error["message"]) == ("name", "不能超过50个字")
    assert "姓名不能超过50个字" in r.json()["detail"]


def test_landlines_keep_their_area_code_and_last_four_in_lists_and_exports(client, issuer):
    landline = f"0377-6307{uuid.uuid4().int % 10000:04d}-801"  # 南阳, with an extension
    t = create(client, issuer, name="座机号", phone=landline)
    masked = "0377-****" + landline[9:13]
    assert t["fields"]["phone"] == masked
    listed = client.get("/api/v1/talents", params={"q": "座机号"}, headers=auth(issuer, WOLONG))
    assert masked in [x["fields"]["phone"] for x in listed.json()["talents"]]
    r = client.get("/api/v1/talents/export", headers=auth(issuer, WOLONG))
    rows = openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)
    assert masked in [row[6] for row in rows if row[2] == "座机号"]


def test_times_in_responses_are_shanghai_time_with_their_offset(client, issuer):
    t = create(client, issuer)
    for key in ("created_at", "updated_at"):
        assert t[key].endswith("+08:00"), t[key]
        assert datetime.fromisoformat(t[key]).utcoffset() == timedelta(hours=8)
    got = client.get(f"/api/v1/talents/{t['id']}", headers=auth(issuer, WOLONG)).json()
    assert got["created_at"] == t["created_at"]
