"""项目 and 考核 in a real headless browser through the portal.

Accounts: 周口市 (411600) and its 川汇区 (411602) — tenants no other e2e test touches. 周口 opens
a call; 川汇区 files a 入库表 to it and submits; 周口 gives its opinion, enters two experts'
scores, reads the ranking (mean, spread) and selects the best into the library. Then the
province sets an assessment scheme over its cities in the editor, scores 周口 by hand, computes
and publishes; 周口 sees nothing before publication and its own rank after."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CITY, COUNTY = "411600", "411602"  # 周口市, 川汇区
CITY_PASSWORD = "Zhoukou#Portal2026"
COUNTY_PASSWORD = "Chuanhui#Portal2026"
SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _embedded_sign_in_pages(stack):
    """These flows read the embedded provider's sign-in pages; Keycloak's own pages (login,
    UPDATE_PASSWORD) are driven in Chromium by test_e2e_real_engines.py."""
    if stack.keycloak is not None:
        pytest.skip(
            "portal UI flows use the embedded sign-in pages; Keycloak's: test_e2e_real_engines"
        )


def issue_and_set(stack, parent_token: str, code: str, password: str) -> str:
    """(Re-)issue the admin account of child ``code`` and set its password; the username."""
    client = httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {parent_token}"}, timeout=60
    )
    me = client.get("/api/v1/tenants/me").json()
    kids = {k["code"]: k for k in client.get(f"/api/v1/tenants/{me['id']}/children").json()}
    r = client.post(
        f"/api/v1/tenants/{me['id']}/credentials",
        headers={"Accept": "application/json"},
        json={"scope": "children", "reset_tenant_ids": [kids[code]["id"]]},
    )
    assert r.status_code == 200, r.text
    c = next(c for c in r.json()["issued"] if c["tenant_code"] == code)
    r = httpx.post(
        f"{stack.gateway_url}/auth/realms/kepu/account/password",
        json={
            "username": c["username"],
            "currentPassword": c["initial_password"],
            "newPassword": password,
        },
    )
    assert r.status_code == 204, r.text
    return c["username"]


@pytest.fixture(scope="module")
def accounts(stack):
    city = issue_and_set(stack, stack.admin_token(), CITY, CITY_PASSWORD)
    county = issue_and_set(stack, stack.login(city, CITY_PASSWORD), COUNTY, COUNTY_PASSWORD)
    return {"city": city, "county": county}


def signed_in(browser, stack, path: str, username: str, password: str):
    # wait_for_function evaluates strings in the page, which our Content-Security-Policy
    # forbids (no eval); the policy itself is tested in tests/security.
    ctx = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    page.set_default_timeout(30_000)
    page.goto(stack.gateway_url + path)
    page.wait_for_selector("#kc-login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")
    page.wait_for_url(re.compile(re.escape(stack.gateway_url + path) + r"(\?.*)?$"))
    return ctx, page


def no_error(page) -> None:
    assert page.locator("#js-error").is_hidden(), page.inner_text("#js-error")
    body = page.inner_text("main")
    assert "Internal Server Error" not in body and "Traceback" not in body


def hide_messages(page) -> None:
    page.evaluate(
        "['js-ok', 'js-error'].forEach(function (id) { document.getElementById(id).hidden = true; })"
    )


def act(page, selector: str) -> str:
    """Click a button of the page's script; the Chinese message it shows (on this page or on
    the page it reloads or opens)."""
    hide_messages(page)
    page.click(selector)
    page.wait_for_selector("#js-ok:not([hidden]), #js-error:not([hidden])")
    page.wait_for_load_state()
    no_error(page)
    return page.inner_text("#js-ok")


def refused(page, selector: str) -> str:
    """Click a button that must be refused; the Chinese explanation."""
    hide_messages(page)
    page.click(selector)
    page.wait_for_selector("#js-error:not([hidden])")
    return page.inner_text("#js-error")


def test_call_filing_ranking_selection_and_assessment_ranking(stack, browser, accounts):
    n = iter(range(1, 100))

    def step(page, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"pa-{next(n):02d}-{name}.png"), full_page=True)

    year = datetime.now(SH).year
    deadline = (datetime.now(SH) + timedelta(days=30)).date().isoformat()
    title = f"{year}年周口市科普示范社区项目申报"

    # -- 周口 opens a call -------------------------------------------------------------------------
    city_ctx, city = signed_in(browser, stack, "/calls", accounts["city"], CITY_PASSWORD)
    assert "周口" in city.inner_text("#tenant-name")
    city.fill("#call-form [name=title]", title)
    city.fill("#call-form [name=deadline]", deadline)
    assert "专项" in refused(city, "#open-call")  # no programme: said in Chinese, nothing sent
    city.fill("#call-form [name=programme]", "科普示范社区")
    city.fill("#call-form [name=quota]", "1")
    city.fill("#call-form [name=min_reviewers]", "2")
    assert city.locator("#criteria .c-name").count() == 4  # the default criteria
    step(city, "city-opens-call")
    ok = act(city, "#open-call")
    assert f"已发布申报批次“{title}”" in ok, ok
    assert re.search(r"/calls/[0-9a-f-]+$", city.url)
    call_url = city.url
    assert "科学性" in city.inner_text("#call-summary")
    step(city, "city-call-opened")

    # -- 川汇区 files its 入库表 to the call and submits ---------------------------------------------
    county_ctx, county = signed_in(browser, stack, "/projects", accounts["county"], COUNTY_PASSWORD)
    assert "川汇区" in county.inner_text("#tenant-name")
    call_option = county.locator("#project-call option", has_text=title)
    call_id = call_option.get_attribute("value")
    county.select_option("#project-call", call_id)
    county.fill("#project-form [name=name]", "川汇区七一路街道科普示范社区建设")
    assert "请填写完成单位" in refused(county, "#project-file")  # nothing sent
    county.fill("#project-form [name=applicant_unit]", "川汇区科协")
    county.fill("#project-form [name=completing_unit]", "七一路街道办事处")
    county.fill("#project-form [name=contact_person]", "王芳")
    county.fill("#project-form [name=contact_phone]", "13839412345")
    county.select_option("#project-form [name=category]", "facility")
    county.fill("#project-form [name=start_month]", f"{year}-12")
    county.fill("#project-form [name=end_month]", f"{year}-03")
    county.fill("#project-form [name=content]", "建设社区科普长廊、科普活动室，配备科普大屏。")
    county.fill(
        "#project-form [name=expected_performance]", "年开展社区科普活动24场，服务居民1万人次。"
    )
    county.fill("#project-form [name=budget]", "120000")
    assert "不能早于" in refused(county, "#project-file")
    county.fill("#project-form [name=start_month]", f"{year}-03")
    county.fill("#project-form [name=end_month]", f"{year}-12")
    step(county, "county-fills-project")
    ok = act(county, "#project-file")
    assert "已提交申报“川汇区七一路街道科普示范社区建设”" in ok, ok
    assert re.search(r"/projects/[0-9a-f-]+$", county.url)
    project_id = county.url.rsplit("/", 1)[1]
    assert "已申报" in county.inner_text("#project-status")
    phone = county.inner_text('#project-fields tr[data-field="contact_phone"]')
    assert "138****2345" in phone and "13839412345" not in phone
    step(county, "county-project-submitted")
    county.goto(stack.gateway_url + "/projects")
    row = county.locator(f'#project-list tr[data-id="{project_id}"]')
    assert "138****2345" in row.inner_text() and title in row.inner_text()

    # -- 周口 gives its opinion, two experts score, the ranking, top 1 selected ------------------
    city.goto(call_url)
    row = f'#filed tr[data-id="{project_id}"]'
    city.wait_for_selector(row)
    assert "理由" in refused(city, f'{row} button[data-review="fail"]')  # no reason: refused
    city.fill(f'[data-opinion="{project_id}"]', "社区基础好，同意进入专家评审。")
    step(city, "city-filed-projects")
    ok = act(city, f'{row} button[data-review="pass"]')
    assert "进入专家评审" in ok, ok
    assert "专家评审中" in city.inner_text(row)

    for expert, scores in (("专家甲", (90, 80, 85, 80)), ("专家乙", (80, 90, 75, 70))):
        city.select_option("#score-project", project_id)
        city.fill("#score-reviewer", expert)
        for inp, value in zip(city.locator(".score-input").all(), scores, strict=True):
            inp.fill(str(value))
        ok = act(city, "#score-save")
        assert f"已保存专家“{expert}”" in ok, ok
    step(city, "city-expert-scores")
    entry = city.locator(f'#ranking tr[data-id="{project_id}"]')
    # 专家甲 84.25, 专家乙 79.25 (weights 30/25/25/20): mean 81.75, spread 2.5
    assert float(entry.get_attribute("data-mean")) == pytest.approx(81.75)
    assert float(entry.get_attribute("data-spread")) == pytest.approx(2.5)
    assert entry.get_attribute("data-rank") == "1" and "可入选" in entry.inner_text()
    step(city, "city-ranking")
    city.fill("#select-n", "1")
    ok = act(city, "#select-btn")
    assert "已择优立项 1 个项目" in ok and "入库编号" in ok, ok
    assert "已入库立项" in city.inner_text(row)
    assert city.inner_text("#call-approved") == "1"
    step(city, "city-selected-top1")

    county.goto(f"{stack.gateway_url}/projects/{project_id}")
    assert "已入库立项" in county.inner_text("#project-status")
    assert re.search(rf"{year}-[0-9A-F]{{6}}-\d{{3}}", county.inner_text("#library-no"))
    history = county.inner_text("#history")
    assert "周口市" in history and "择优入库立项" in history
    step(county, "county-project-approved")

    # progress, completion, the evaluation (score -> grade) and the 科普成果奖 flag
    assert "请填写实施进展" in refused(county, "#progress-btn")
    county.fill("#progress-content", "科普长廊主体完工，活动室投入使用。")
    county.fill("#progress-percent", "80")
    assert "已报送" in act(county, "#progress-btn")
    assert "80%" in county.inner_text("#progress")
    county.fill("#complete-summary", "如期建成，已开展活动12场。")
    assert "已结项" in act(county, "#complete-btn")
    assert "已完成" in county.inner_text("#project-status")
    city.goto(f"{stack.gateway_url}/projects/{project_id}")
    city.fill("#evaluate-score", "92")
    city.fill("#evaluate-comment", "示范作用明显")
    assert "等次为优秀" in act(city, "#evaluate-btn")
    assert "优秀" in city.inner_text("#evaluation")
    assert "已推荐" in act(city, "#award-btn")
    assert city.locator("#award-flag").is_visible()
    step(city, "city-project-evaluated")

    # -- the province sets an assessment scheme for its cities -----------------------------------
    prov_ctx, prov = signed_in(
        browser, stack, "/assessment", stack.admin_user, stack.admin_password
    )
    scheme_name = f"{year}年度全省科协工作考核（门户）"
    prov.fill("#scheme-form [name=name]", scheme_name)
    prov.fill("#scheme-form [name=honours_top_n]", "1")
    assert "已载入省级默认模板" in act(prov, "#load-template")
    rows = prov.locator("#indicators tr.indicator")
    assert rows.count() == 5
    assert rows.nth(0).locator(".i-metric").input_value() == "talents_certified"
    assert "100 分" in prov.inner_text("#weight-sum")
    prov.click("#add-indicator")
    extra = rows.nth(5)
    extra.locator(".i-code").fill("6")
    extra.locator(".i-name").fill("工作创新与特色")
    extra.locator(".i-weight").fill("10")
    extra.locator(".i-kind").select_option("manual")
    assert "应为 100 分" in prov.inner_text("#weight-sum")
    assert "100分" in refused(prov, "#scheme-create")  # 110 points: refused before sending
    rows.nth(4).locator(".i-weight").fill("10")  # projects approved: 20 -> 10
    step(prov, "province-scheme-editor")
    ok = act(prov, "#scheme-create")
    assert f"已保存考核方案“{scheme_name}”" in ok, ok
    assert re.search(r"/assessment/[0-9a-f-]+$", prov.url)
    scheme_url = prov.url

    # 周口 sees the scheme, but no results before publication
    city.goto(stack.gateway_url + "/assessment")
    upper = city.locator("#upper-list tr", has_text=scheme_name)
    assert "考核结果尚未发布" in upper.inner_text()
    city.goto(scheme_url)
    assert "考核结果尚未发布" in city.inner_text("#not-published")
    assert city.locator("#results").count() == 0
    step(city, "city-assessment-unpublished")

    # the province scores 周口 by hand, computes and publishes
    prov.goto(scheme_url)
    prov.wait_for_selector('#manual-child option:has-text("周口市")', state="attached")
    prov.select_option("#manual-child", label="周口市")
    value = prov.locator('#manual-entries tr[data-code="6"] .m-value')
    value.fill("11")
    assert "0到10分" in refused(prov, "#manual-save")
    value.fill("9")
    prov.fill('#manual-entries tr[data-code="6"] .m-evidence', "创建省级科普示范社区2个")
    assert "已保存周口市的 1 项评分" in act(prov, "#manual-save")
    ok = act(prov, "#compute-btn")
    assert "已计算" in ok and "排名" in ok, ok
    zk = prov.locator('#results tr[data-name="周口市"]')
    assert float(zk.get_attribute("data-total")) >= 9
    bar = prov.locator('#ranking-chart svg g.bar-row[data-name="周口市"]')
    assert bar.get_attribute("data-rank") == zk.get_attribute("data-rank")
    assert prov.locator("#results tr[data-tenant]").count() >= 18
    step(prov, "province-results-computed")
    ok = act(prov, "#publish-btn")
    assert "考核结果已发布" in ok, ok
    assert "已发布" in prov.inner_text("#scheme-status")
    assert prov.locator("#compute-btn").count() == 0
    rank = prov.locator('#results tr[data-name="周口市"]').get_attribute("data-rank")
    step(prov, "province-published")

    # -- 周口 sees the published ranking and its own detail --------------------------------------
    city.goto(stack.gateway_url + "/assessment")
    city.locator("#upper-list tr", has_text=scheme_name).locator("a").click()
    city.wait_for_selector("#my-detail")
    no_error(city)
    mine = city.locator('#results tr[data-name="周口市"]')
    assert mine.get_attribute("data-rank") == rank
    assert "own" in (mine.get_attribute("class") or "")
    detail = city.inner_text("#my-detail")
    assert f"第 {rank} 名" in detail and "创建省级科普示范社区2个" in detail
    assert city.locator('#ranking-chart svg g.bar-row[data-name="周口市"]').count() == 1
    step(city, "city-sees-published-rank")

    for c in (county_ctx, city_ctx, prov_ctx):
        c.close()
