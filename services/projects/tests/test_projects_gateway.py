"""The gateway router over the real servicer and database: REST paths, problem+json with
Chinese details, sibling denial on every endpoint, and the whole lifecycle over HTTP."""

import pytest
from kepu.projects.v1 import projects_pb2_grpc
from kepu_devstack.gateway_testing import gateway_client
from kepu_projects.grpc_api import ProjectsServicer
from projects_testkit import form, sh, system_rows

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(db, tree, ring):
    pytest.importorskip("kepu_gateway.app")
    now = {"t": sh(2026, 3, 1, 9)}
    with gateway_client(
        "projects",
        projects_pb2_grpc.add_ProjectsServiceServicer_to_server,
        lambda verifier: ProjectsServicer(verifier, db, ring, now=lambda: now["t"]),
    ) as (c, headers):
        yield c, headers, now


def is_problem(r, status, needle=""):
    return (
        r.status_code == status
        and r.headers["content-type"].startswith(PROBLEM)
        and needle in r.json()["detail"]
    )


@pytest.fixture(scope="module")
def flow(client, tree):
    """安阳 opens a call; 文峰区's project goes through to evaluation over REST."""
    c, h, now = client
    city, county = tree["410500"], tree["410502"]
    r = c.post(
        "/api/v1/calls",
        headers=h(city),
        json={
            "title": "2026年i科普科技志愿服务项目",
            "programme": "i科普科技志愿服务",
            "deadline": "2026-04-30",
            "quota": 50,
            "criteria": [{"name": "科学性", "weight": 50}, {"name": "可行性", "weight": 50}],
        },
    )
    assert r.status_code == 201, r.text
    call = r.json()
    assert (call["quota"], call["open"], call["owner_name"]) == (50, True, "安阳市科协")
    r = c.post("/api/v1/projects", headers=h(county), json=form(call_id=call["id"], budget=12000.5))
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["status"], p["contact_phone"], p["budget"]) == ("draft", "138****5678", "12000.50")
    r = c.put(
        f"/api/v1/projects/{p['id']}",
        headers=h(county),
        json=form(call_id=call["id"], name="科技志愿者进乡村"),
    )
    assert r.json()["name"] == "科技志愿者进乡村"
    r = c.post(f"/api/v1/projects/{p['id']}/submit", headers=h(county))
    assert r.json()["status"] == "submitted" and r.json()["awaiting_code"] == "410500"
    awaiting = c.get("/api/v1/projects?awaiting_me=true", headers=h(city)).json()
    assert [x["id"] for x in awaiting["projects"]] == [p["id"]]
    r = c.post(
        f"/api/v1/projects/{p['id']}/review",
        headers=h(city),
        json={"decision": "pass", "opinion": "同意"},
    )
    assert r.json()["status"] == "expert_review"
    for reviewer, a, b in (("u-expert-1", 90, 70), ("赵专家", 80, 100)):
        r = c.post(
            f"/api/v1/calls/{call['id']}/scores",
            headers=h(city),
            json={
                "project_id": p["id"],
                "reviewer": reviewer,
                "scores": {"科学性": a, "可行性": b},
            },
        )
        assert r.status_code == 201, r.text
    rank = c.get(f"/api/v1/calls/{call['id']}/ranking", headers=h(city)).json()
    assert [(e["rank"], e["mean"], e["spread"], e["reviewers"]) for e in rank["entries"]] == [
        (1, 85.0, 5.0, 2)
    ]
    r = c.post(f"/api/v1/calls/{call['id']}/select", headers=h(city), json={"top_n": 1})
    assert [x["status"] for x in r.json()["approved"]] == ["approved"]
    return {"call": call, "project": p}


def test_the_lifecycle_over_rest(client, tree, flow):
    c, h, now = client
    city, county = tree["410500"], tree["410502"]
    pid = flow["project"]["id"]
    assert is_problem(
        c.post(f"/api/v1/projects/{pid}/complete", headers=h(county), json={}), 409, "先报送"
    )
    r = c.post(
        f"/api/v1/projects/{pid}/progress",
        headers=h(county),
        json={"content": "已开展3次志愿服务", "percent": 30},
    )
    assert r.json()["status"] == "in_progress"
    now["t"] = sh(2026, 12, 1, 9)
    assert (
        c.post(
            f"/api/v1/projects/{pid}/complete", headers=h(county), json={"summary": "完成"}
        ).json()["status"]
        == "completed"
    )
    r = c.post(
        f"/api/v1/projects/{pid}/evaluate", headers=h(city), json={"score": 78, "comment": "良好"}
    )
    assert (r.json()["status"], r.json()["evaluation_grade"]) == ("evaluated", "良好")
    assert c.post(f"/api/v1/projects/{pid}/award", headers=h(city), json={}).json()[
        "award_recommended"
    ]
    stats = c.get("/api/v1/projects/stats?year=2026", headers=h(city)).json()
    assert (stats["total"]["approved"], stats["total"]["completed"]) == (1, 1)
    assert {x["category"]: x["approved"] for x in stats["by_category"]}["activity"] == 1
    assert {x["code"]: x["completed"] for x in stats["children"]}["410502"] == 1
    full = c.get(f"/api/v1/projects/{pid}?reveal=true", headers=h(county)).json()
    assert (full["contact_phone"], full["phone_revealed"]) == ("13812345678", True)
    assert (
        c.get(f"/api/v1/projects/{pid}", headers=h(county)).json()["contact_phone"] == "138****5678"
    )


def endpoints(flow):
    pid, cid = flow["project"]["id"], flow["call"]["id"]
    return [
        ("get", f"/api/v1/projects/{pid}", None),
        ("get", f"/api/v1/projects/{pid}?reveal=true", None),
        ("put", f"/api/v1/projects/{pid}", form()),
        ("post", f"/api/v1/projects/{pid}/submit", None),
        ("post", f"/api/v1/projects/{pid}/review", {"decision": "fail", "opinion": "x"}),
        ("post", f"/api/v1/projects/{pid}/progress", {"content": "x"}),
        ("post", f"/api/v1/projects/{pid}/complete", {}),
        ("post", f"/api/v1/projects/{pid}/evaluate", {"score": 60}),
        ("post", f"/api/v1/projects/{pid}/award", {}),
        ("get", f"/api/v1/calls/{cid}", None),
        ("get", f"/api/v1/calls/{cid}/ranking", None),
        ("post", f"/api/v1/calls/{cid}/scores", {"project_id": pid, "reviewer": "x", "scores": {}}),
        ("post", f"/api/v1/calls/{cid}/select", {"top_n": 1}),
    ]


@pytest.mark.parametrize("i", range(13))
def test_another_city_gets_404_on_every_endpoint(client, tree, flow, i):
    c, h, _now = client
    method, path, body = endpoints(flow)[i]
    kw = {"json": body} if body is not None else {}
    r = getattr(c, method)(path, headers=h(tree["410300"]), **kw)
    assert is_problem(r, 404, "未找到"), r.text


def test_sibling_lists_and_stats_stay_empty(client, tree, flow):
    c, h, _now = client
    sib = h(tree["410503"])
    assert c.get("/api/v1/projects?subtree=true", headers=sib).json()["projects"] == []
    assert flow["call"]["id"] not in [
        x["id"] for x in c.get("/api/v1/calls", headers=h(tree["410300"])).json()["calls"]
    ]
    assert is_problem(
        c.get(f"/api/v1/projects/stats?year=2026&tenant_id={tree['410502'].id}", headers=sib), 404
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        (
            "post",
            "/api/v1/projects",
            form(start_month="2026-09", end_month="2026-01"),
            422,
            "不能早于",
        ),
        ("post", "/api/v1/projects", form(budget=-5), 422, "负数"),
        ("post", "/api/v1/projects", form(category="科普旅游"), 422, "项目类别"),
        ("post", "/api/v1/projects", form(budget="很多"), 422, "项目预算（元）须为数字"),
        ("post", "/api/v1/projects", {**form(), "extra": 1}, 422, "不允许"),
        (
            "post",
            "/api/v1/calls",
            {"title": "x", "programme": "y", "deadline": "2020-01-01"},
            403,
            "乡镇",
        ),
        # the gateway refuses NUL in any body or query before a service sees it
        ("post", "/api/v1/projects", form(name="殷墟\u0000"), 422, "空字符"),
        ("get", "/api/v1/projects?q=%00", None, 422, "空字符"),
        ("get", "/api/v1/projects/not-a-uuid", None, 422, "编号"),
        ("get", "/api/v1/projects?status=nope", None, 422, "状态"),
        ("get", "/api/v1/projects/stats?year=1900", None, 422, ""),
        (
            "post",
            "/api/v1/projects/00000000-0000-0000-0000-000000000000/submit",
            None,
            404,
            "未找到",
        ),
    ],
)
def test_bad_input_gives_a_chinese_problem(client, tree, method, path, body, status, needle):
    c, h, _now = client
    kw = {"json": body} if body is not None else {}
    r = getattr(c, method)(path, headers=h(tree["410502001"]), **kw)
    assert is_problem(r, status, needle), r.text


def test_scores_outside_0_100_are_refused_and_change_nothing(client, tree, flow):
    c, h, now = client
    now["t"] = sh(2026, 3, 2, 9)  # before the call's deadline
    city, county = h(tree["410500"]), h(tree["410503"])
    cid = flow["call"]["id"]
    pid = c.post("/api/v1/projects", headers=county, json=form(call_id=cid)).json()["id"]
    c.post(f"/api/v1/projects/{pid}/submit", headers=county)
    assert (
        c.post(f"/api/v1/projects/{pid}/review", headers=city, json={"decision": "pass"}).json()[
            "status"
        ]
        == "expert_review"
    )
    before = c.get(f"/api/v1/calls/{cid}/ranking", headers=city).json()
    for bad in ({"科学性": 120, "可行性": 80}, {"科学性": -1, "可行性": 80}):
        r = c.post(
            f"/api/v1/calls/{cid}/scores",
            headers=city,
            json={"project_id": pid, "reviewer": "钱专家", "scores": bad},
        )
        assert is_problem(r, 422, "0到100"), r.text
    assert c.get(f"/api/v1/calls/{cid}/ranking", headers=city).json() == before


def test_without_a_token_it_is_401(client):
    c, _h, _now = client
    assert is_problem(c.get("/api/v1/projects"), 401)


def test_landlines_are_masked_to_area_code_and_last_four_in_lists(client, tree):
    c, h, _now = client
    county = h(tree["410503"])
    made = {}
    for phone in ("0372-5951234", "037163073372", "010-62345678-801", "13912345678"):
        r = c.post("/api/v1/projects", headers=county, json=form(contact_phone=phone))
        assert r.status_code == 201, r.text
        made[r.json()["id"]] = r.json()["contact_phone"]
    assert sorted(made.values()) == [
        "010-****5678",
        "0371-****3372",
        "0372-****1234",
        "139****5678",
    ]
    listed = c.get("/api/v1/projects?limit=500", headers=county).json()["projects"]
    assert {x["id"]: x["contact_phone"] for x in listed if x["id"] in made} == made


def in_expert_review(c, h, tree, call_id):
    county, city = h(tree["410503"]), h(tree["410500"])
    pid = c.post("/api/v1/projects", headers=county, json=form(call_id=call_id)).json()["id"]
    assert c.post(f"/api/v1/projects/{pid}/submit", headers=county).status_code == 200
    r = c.post(f"/api/v1/projects/{pid}/review", headers=city, json={"decision": "pass"})
    assert r.json()["status"] == "expert_review", r.text
    return pid


def test_a_second_score_by_the_same_expert_is_refused_unless_it_is_a_correction(client, tree, flow):
    c, h, now = client
    now["t"] = sh(2026, 3, 2, 9)
    city, cid = h(tree["410500"]), flow["call"]["id"]
    pid = in_expert_review(c, h, tree, cid)
    url = f"/api/v1/calls/{cid}/scores"
    first = {"project_id": pid, "reviewer": "孙专家", "scores": {"科学性": 80, "可行性": 60}}
    assert c.post(url, headers=city, json=first).status_code == 201
    ranking = c.get(f"/api/v1/calls/{cid}/ranking", headers=city).json()
    second = first | {"scores": {"科学性": 100, "可行性": 100}}
    r = c.post(url, headers=city, json=second)
    assert is_problem(r, 409, "不能重复评分"), r.text
    r = c.post(url, headers=city, json=second | {"correction": True})
    assert is_problem(r, 422, "更正理由"), r.text
    r = c.post(
        url,
        headers=city,
        json=second | {"reviewer": "周专家", "correction": True, "reason": "补录"},
    )
    assert is_problem(r, 409, "尚未"), r.text
    assert c.get(f"/api/v1/calls/{cid}/ranking", headers=city).json() == ranking  # unchanged
    r = c.post(url, headers=city, json=second | {"correction": True, "reason": "评分表抄录错误"})
    assert r.status_code == 201, r.text
    assert r.json()["total"] == 100
    history = [(x["total"], x["correction"], x["reason"]) for x in r.json()["history"]]
    assert history == [(70, False, ""), (100, True, "评分表抄录错误")]
    entry = next(
        e
        for e in c.get(f"/api/v1/calls/{cid}/ranking", headers=city).json()["entries"]
        if e["project_id"] == pid
    )
    assert (entry["reviewers"], entry["mean"]) == (1, 100)
    assert [x["total"] for x in entry["scores"][0]["history"]] == [70, 100]


def test_every_level_can_return_a_project_for_revision_and_the_applicant_resubmits(
    client, db, tree, flow
):
    c, h, now = client
    now["t"] = sh(2026, 3, 2, 9)
    township, county, city = h(tree["410502001"]), h(tree["410502"]), h(tree["410500"])
    cid = flow["call"]["id"]
    pid = c.post("/api/v1/projects", headers=township, json=form(call_id=cid)).json()["id"]
    c.post(f"/api/v1/projects/{pid}/submit", headers=township)
    review = f"/api/v1/projects/{pid}/review"
    for body in ({"decision": "return"}, {"decision": "return", "opinion": " "}):
        r = c.post(review, headers=county, json=body)
        assert is_problem(r, 422, "退回理由"), r.text
    assert c.get(f"/api/v1/projects/{pid}", headers=township).json()["status"] == "submitted"
    # 文峰区 (the first level) returns it; the township revises and files it again
    r = c.post(review, headers=county, json={"decision": "return", "opinion": "请补充预算明细"})
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["status"], p["status_label"], p["return_reason"]) == (
        "returned",
        "已退回修改",
        "请补充预算明细",
    )
    assert p["awaiting_code"] == "" and p["returned_at"]
    assert is_problem(c.post(review, headers=county, json={"decision": "pass"}), 409)
    r = c.put(f"/api/v1/projects/{pid}", headers=township, json=form(call_id=cid, budget=30000))
    assert r.status_code == 200 and r.json()["budget"] == "30000.00", r.text
    r = c.post(f"/api/v1/projects/{pid}/submit", headers=township)
    assert (r.json()["status"], r.json()["awaiting_code"]) == ("submitted", "410502")
    assert c.post(review, headers=county, json={"decision": "pass"}).json()["awaiting_code"] == (
        "410500"
    )
    # 安阳 (the call owner) returns it too; after the deadline it may still be filed again
    r = c.post(review, headers=city, json={"decision": "return", "opinion": "实施周期过长"})
    assert r.json()["status"] == "returned", r.text
    now["t"] = sh(2026, 5, 10, 9)
    r = c.post(f"/api/v1/projects/{pid}/submit", headers=township)
    assert (r.json()["status"], r.json()["awaiting_code"]) == ("submitted", "410502"), r.text
    history = [(o["tenant_name"], o["decision"], o["opinion"]) for o in r.json()["opinions"]]
    assert history == [
        ("文峰区科协", "return", "请补充预算明细"),
        ("文峰区科协", "pass", ""),
        ("安阳市科协", "return", "实施周期过长"),
    ]
    # a project that was never returned still cannot be filed after the deadline
    late = c.post("/api/v1/projects", headers=township, json=form(call_id=cid))
    assert is_problem(late, 409, "截止"), late.text
    events = system_rows(
        db, "SELECT count(*) FROM outbox WHERE type = 'projects.project.returned'"
    )[0][0]
    assert events == 2  # each return committed with its event


def test_each_project_says_what_the_caller_may_do_next(client, tree):
    c, h, now = client
    city, county, province = tree["410500"], tree["410502"], tree["410000"]
    call = c.post(
        "/api/v1/calls",
        headers=h(city),
        json={"title": "按钮来自领域规则", "programme": "i科普", "deadline": "2026-05-30"},
    ).json()
    p = c.post("/api/v1/projects", headers=h(county), json=form(call_id=call["id"])).json()
    assert p["allowed_actions"] == ["edit", "submit"]

    def seen_by(node, roles=("admin",)):
        got = c.get(f"/api/v1/projects/{p['id']}", headers=h(node, roles))
        assert got.status_code == 200, got.text
        return got.json()["allowed_actions"]

    assert seen_by(county, ("viewer",)) == []
    assert seen_by(city) == []  # not filed yet
    r = c.post(f"/api/v1/projects/{p['id']}/submit", headers=h(county))
    assert r.json()["allowed_actions"] == []
    assert seen_by(city, ("reviewer",)) == ["review"]
    assert seen_by(province) == []  # the city's opinion is awaited
    awaiting = c.get("/api/v1/projects?awaiting_me=true", headers=h(city)).json()["projects"]
    assert [x["allowed_actions"] for x in awaiting if x["id"] == p["id"]] == [["review"]]


def test_the_list_sorts_by_a_named_column_and_refuses_another_in_chinese(client, tree):
    c, h, _ = client
    town = tree["410502001"]
    for name, budget in (("按预算排序二", 2000), ("按预算排序一", 1000), ("按预算排序三", 3000)):
        r = c.post("/api/v1/projects", headers=h(town), json=form(name=name, budget=budget))
        assert r.status_code == 201, r.text

    def listed(query):
        r = c.get(f"/api/v1/projects?q=按预算排序&{query}", headers=h(town))
        assert r.status_code == 200, r.text
        return [p["name"] for p in r.json()["projects"]], r.json()["total"]

    assert listed("sort=budget&order=desc") == (["按预算排序三", "按预算排序二", "按预算排序一"], 3)
    assert listed("sort=budget&order=asc&limit=2&offset=1") == (["按预算排序二", "按预算排序三"], 3)
    for query, field in (("sort=contact_phone", "sort"), ("sort=name&order=upward", "order")):
        r = c.get(f"/api/v1/projects?{query}", headers=h(town))
        assert is_problem(r, 422, "只能是"), r.text
        assert [e["field"] for e in r.json()["errors"]] == [f"query.{field}"], r.text


def test_the_call_owner_closes_filing_over_rest(client, tree):
    c, h, now = client
    city, county = tree["410500"], tree["410502"]
    call = c.post(
        "/api/v1/calls",
        headers=h(city),
        json={"title": "截止申报", "programme": "科普示范社区", "deadline": "2026-05-30"},
    ).json()
    assert is_problem(c.post(f"/api/v1/calls/{call['id']}/close", headers=h(county)), 403, "截止")
    r = c.post(f"/api/v1/calls/{call['id']}/close", headers=h(city))
    assert r.status_code == 200 and r.json()["open"] is False, r.text
    assert c.get(f"/api/v1/calls/{call['id']}", headers=h(county)).json()["open"] is False
    assert is_problem(c.post(f"/api/v1/calls/{call['id']}/close", headers=h(city)), 409, "已经截止")
