"""The gateway router over the real servicer: REST paths, problem+json with Chinese details,
sibling denial and the .docx download."""

import io

import pytest
from docx import Document
from kepu.reporting.v1 import reporting_pb2_grpc
from kepu_devstack.gateway_testing import gateway_client
from kepu_reporting.clock import FixedClock
from kepu_reporting.grpc_api import ReportingServicer
from reporting_testkit import sh

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(db, tree):
    pytest.importorskip("kepu_gateway.app")
    clock = FixedClock(sh(2026, 11, 2, 10))
    with gateway_client(
        "reporting",
        reporting_pb2_grpc.add_ReportingServiceServicer_to_server,
        lambda verifier: ReportingServicer(verifier, db, clock),
    ) as (c, headers):
        yield c, headers


def is_problem(r, status, needle=""):
    return (
        r.status_code == status
        and r.headers["content-type"].startswith(PROBLEM)
        and needle in r.json()["detail"]
    )


def test_report_flow_over_rest(client, tree):
    c, h = client
    t1, t2, wolong = tree["411303001"], tree["411303002"], tree["411303"]
    r = c.post(
        "/api/v1/activities",
        headers=h(t1),
        json={
            "title": "农技培训",
            "date": "2026-10-12",
            "place": "乡政府",
            "form": "培训",
            "target": "进乡村",
            "participants": 45,
        },
    )
    assert r.status_code == 201, r.text
    r = c.get("/api/v1/reports/monthly_brief/2026-10", headers=h(t1))
    assert r.status_code == 200
    assert r.json()["prefilled"] is True
    assert r.json()["values"]["trainees"] == 45
    r = c.put(
        "/api/v1/reports/monthly_brief/2026-10",
        headers=h(t1),
        json={"values": {"trainees": 45, "resources": 1, "narrative": "开展农技培训"}},
    )
    assert r.json()["status"] == "draft"
    r = c.post("/api/v1/reports/monthly_brief/2026-10/submit", headers=h(t1))
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["on_time"]) == ("submitted", True)

    # a sibling can neither read, accept nor return it
    assert is_problem(
        c.get(f"/api/v1/reports/monthly_brief/2026-10?tenant_id={t1.id}", headers=h(t2)),
        403,
        "只能查看",
    )
    assert is_problem(
        c.post(f"/api/v1/reports/monthly_brief/2026-10/{t1.id}/accept", headers=h(t2)),
        403,
        "直属下级",
    )
    assert is_problem(
        c.post(
            f"/api/v1/reports/monthly_brief/2026-10/{t1.id}/return",
            headers=h(t2),
            json={"reason": "x"},
        ),
        403,
    )
    assert c.get("/api/v1/activities?subtree=true", headers=h(t2)).json() == {
        "activities": [],
        "total": 0,
    }

    r = c.post(
        f"/api/v1/reports/monthly_brief/2026-10/{t1.id}/return",
        headers=h(wolong),
        json={"reason": "请补充资源开发情况"},
    )
    assert r.json()["status"] == "returned"
    r = c.post(
        "/api/v1/reports/monthly_brief/2026-10/submit",
        headers=h(t1),
        json={"values": {"trainees": 45, "resources": 3}},
    )
    assert r.json()["status"] == "submitted"
    r = c.post(f"/api/v1/reports/monthly_brief/2026-10/{t1.id}/accept", headers=h(wolong))
    assert r.json()["status"] == "accepted"
    assert is_problem(
        c.post("/api/v1/reports/monthly_brief/2026-10/submit", headers=h(t1)), 409, "已被上级接收"
    )

    ov = c.get("/api/v1/reports/monthly_brief/2026-10/children", headers=h(wolong)).json()
    assert (ov["expected"], ov["submitted"]) == (3, 1)
    assert {s["key"]: s["value"] for s in ov["sums"]}["resources"] == 3
    statuses = {x["name"]: x["status"] for x in ov["children"]}
    assert statuses["七一乡科协"] == "accepted"

    doc = c.get("/api/v1/reports/monthly_brief/2026-10/brief.docx", headers=h(wolong))
    assert doc.status_code == 200
    assert "卧龙区科协" in Document(io.BytesIO(doc.content)).paragraphs[0].text


def test_completeness_is_shown_per_level_beside_the_list_of_direct_children(client, tree):
    c, h = client
    sep = "/api/v1/reports/monthly_brief/2026-09"
    for code in ("411303001", "411303002", "411302001"):  # three townships, no county
        r = c.post(f"{sep}/submit", headers=h(tree[code]), json={"values": {"participants": 10}})
        assert r.status_code == 200, r.text
    ov = c.get(f"{sep}/children", headers=h(tree["411300"])).json()
    # the figures beside the list are the list's: 2 counties, none submitted
    assert [x["name"] for x in ov["children"]] == ["宛城区科协", "卧龙区科协"]
    assert (ov["expected"], ov["submitted"], ov["completeness"]) == (2, 0, 0)
    assert ov["direct"]["expected"] == len(ov["children"])
    levels = {x["label"]: (x["expected"], x["submitted"]) for x in ov["levels"]}
    assert levels == {"县（区）": (2, 0), "乡镇（街道）": (3, 3), "学会": (1, 0)}
    assert (ov["subtree"]["label"], ov["subtree"]["expected"], ov["subtree"]["submitted"]) == (
        "全辖区",
        6,
        3,
    )
    # the sums say which briefs they include, and by which rule
    assert {s["key"]: s["value"] for s in ov["sums"]}["participants"] == 30
    assert sorted(x["name"] for x in ov["sum_sources"]) == [
        "七一乡科协",
        "汉冶街道科协",
        "蒲山镇科协",
    ]
    assert ov["sum_briefs"] == 3 and "与报送先后无关" in ov["sums_rule"]


def test_numbers_stay_numbers(client, tree):
    c, h = client
    t3 = tree["411302001"]
    body = {"title": "科普讲座", "date": "2026-10-20", "form": "讲座", "target": "进社区",
            "participants": 120}  # fmt: skip
    created = c.post("/api/v1/activities", headers=h(t3), json=body).json()
    assert created["participants"] == 120 and type(created["participants"]) is int
    listed = c.get("/api/v1/activities?period=2026-10", headers=h(t3)).json()["activities"]
    assert [a["participants"] for a in listed] == [120]
    report = c.get("/api/v1/reports/monthly_brief/2026-10", headers=h(t3)).json()
    assert report["values"]["participants"] == 120 and type(report["version"]) is int
    ov = c.get("/api/v1/reports/monthly_brief/2026-10/children", headers=h(tree["411302"])).json()
    assert all(type(ov[k]) is int for k in ("expected", "submitted", "on_time", "sum_briefs"))


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("put", "/api/v1/reports/monthly_brief/2026-13", {"values": {}}, 422, "报告期"),
        ("put", "/api/v1/reports/monthly_brief/2026Q5", {"values": {}}, 422, "报告期"),
        ("put", "/api/v1/reports/monthly_brief/2027-01", {"values": {}}, 422, "尚未开始"),
        ("put", "/api/v1/reports/monthly_brief/2026-10", {"values": {"trainees": -1}}, 422, "负数"),
        (
            "put",
            "/api/v1/reports/monthly_brief/2026-10",
            {"values": {"trainees": "十"}},
            422,
            "数字",
        ),
        ("put", "/api/v1/reports/nope/2026-10", {"values": {}}, 404, "报告类型"),
        (
            "post",
            "/api/v1/activities",
            {
                "title": "x",
                "date": "2026-10-01",
                "form": "讲座",
                "target": "进校园",
                "participants": -4,
            },
            422,
            "负数",
        ),
        (
            "post",
            "/api/v1/activities",
            {
                "title": "x",
                "date": "2026-10-01",
                "form": "讲座",
                "target": "进校园",
                "participants": 10**30,
            },
            422,
            "",
        ),
        (
            "post",
            "/api/v1/activities",
            {
                "title": "x",
                "date": "2026-10-01",
                "form": "讲座",
                "target": "进校园",
                "participants": 3_000_000_000,  # beyond the column: a 422, never a 5xx
            },
            422,
            "参与人数",
        ),
    ],
)
def test_bad_input_gives_a_chinese_problem(client, tree, method, path, body, status, needle):
    c, h = client
    r = getattr(c, method)(path, headers=h(tree["411302001"]), json=body)
    assert is_problem(r, status, needle), r.text


def test_without_a_token_it_is_401(client):
    c, _h = client
    assert is_problem(c.get("/api/v1/notifications"), 401)


def test_each_brief_says_what_the_caller_may_do_next(client, tree):
    c, h = client
    t2, wolong = tree["411303002"], tree["411303"]
    url = "/api/v1/reports/monthly_brief/2026-07"
    assert c.get(url, headers=h(t2)).json()["allowed_actions"] == ["save", "submit"]
    r = c.post(f"{url}/submit", headers=h(t2), json={"values": {"trainees": 5, "resources": 1}})
    assert r.json()["allowed_actions"] == []  # submitted: its parent acts now
    mine = c.get(f"{url}?tenant_id={t2.id}", headers=h(wolong)).json()
    assert mine["allowed_actions"] == ["return", "accept"]
    r = c.post(f"{url}/{t2.id}/return", headers=h(wolong), json={"reason": "请补充"})
    assert r.json()["allowed_actions"] == []
    assert c.get(url, headers=h(t2)).json()["allowed_actions"] == ["save", "submit"]


def test_allowed_actions_of_a_brief_follow_its_status():
    from kepu_reporting import domain

    admin = frozenset({"admin"})
    mine = {"own": True, "must_report": True, "direct_parent": False}
    parent = {"own": False, "must_report": True, "direct_parent": True}
    assert domain.allowed_actions("none", admin, **mine) == ["save", "submit"]
    assert domain.allowed_actions("submitted", admin, **mine) == []
    assert domain.allowed_actions("submitted", admin, **parent) == ["return", "accept"]
    assert domain.allowed_actions("submitted", frozenset({"reporter"}), **parent) == []
    assert domain.allowed_actions("accepted", admin, **parent) == []
    assert domain.allowed_actions("none", admin, **(mine | {"must_report": False})) == ["save"]


def test_activities_come_in_pages_with_a_total(client, tree):
    c, h = client
    society = tree["411303S01"]
    for day in range(1, 6):
        body = {"title": f"学会讲座{day}", "date": f"2026-08-0{day}", "form": "讲座",
                "target": "进社区", "participants": day}  # fmt: skip
        assert c.post("/api/v1/activities", headers=h(society), json=body).status_code == 201

    def page(n, size):
        r = c.get(
            f"/api/v1/activities?period=2026-08&page={n}&page_size={size}", headers=h(society)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        return [a["title"] for a in body["activities"]], body["total"]

    assert page(1, 2) == (["学会讲座5", "学会讲座4"], 5)
    assert page(3, 2) == (["学会讲座1"], 5)
    assert page(4, 2) == ([], 5)
    # the parent county sees the society's five in its subtree total; a sibling none
    county = c.get(
        "/api/v1/activities?period=2026-08&subtree=true&page=1", headers=h(tree["411303"])
    )
    assert county.json()["total"] >= 5
    sibling = c.get("/api/v1/activities?period=2026-08&page=1", headers=h(tree["411302"])).json()
    assert (sibling["activities"], sibling["total"]) == ([], 0)
    r = c.get("/api/v1/activities?page=0", headers=h(society))
    assert is_problem(r, 422) and [e["field"] for e in r.json()["errors"]] == ["query.page"], r.text
