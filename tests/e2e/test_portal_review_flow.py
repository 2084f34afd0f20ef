"""The whole county -> city -> province talent review and a monthly brief, played in a real
headless browser through the portal (issue 5, "done when").

Accounts: 许昌市 (411000) and its 魏都区 (411002) — tenants no other e2e test touches. The
province re-issues 许昌's account through the API (the one-time sheet as JSON), 许昌 changes its
initial password through the account API and issues 魏都区's account; 魏都区 then signs in to the
portal with its initial password and is forced to change it in the browser."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from kepu_devstack.e2e import api

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CITY, COUNTY = "411000", "411002"  # 许昌市, 魏都区
CITY_PASSWORD = "Xuchang#Portal2026"
COUNTY_PASSWORD = "Weidu#Portal2026"
PERIOD = "2026-10"

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _embedded_sign_in_pages(stack):
    """These flows read the embedded provider's sign-in pages; Keycloak's own pages (login,
    UPDATE_PASSWORD) are driven in Chromium by test_e2e_real_engines.py."""
    if stack.keycloak is not None:
        pytest.skip(
            "portal UI flows use the embedded sign-in pages; Keycloak's: test_e2e_real_engines"
        )


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def issue(stack, parent_token: str, code: str) -> tuple[str, str]:
    """(Re-)issue the admin account of child ``code``; returns (username, initial password)."""
    client = api(stack, parent_token)
    me = client.get("/api/v1/tenants/me").json()
    kids = {k["code"]: k for k in client.get(f"/api/v1/tenants/{me['id']}/children").json()}
    r = client.post(
        f"/api/v1/tenants/{me['id']}/credentials",
        headers={"Accept": "application/json"},
        json={"scope": "children", "reset_tenant_ids": [kids[code]["id"]]},
    )
    assert r.status_code == 200, r.text
    c = next(c for c in r.json()["issued"] if c["tenant_code"] == code)
    return c["username"], c["initial_password"]


@pytest.fixture(scope="module")
def accounts(stack):
    city_user, initial = issue(stack, stack.admin_token(), CITY)
    r = httpx.post(
        f"{stack.gateway_url}/auth/realms/kepu/account/password",
        json={"username": city_user, "currentPassword": initial, "newPassword": CITY_PASSWORD},
    )
    assert r.status_code == 204, r.text
    county_user, county_initial = issue(stack, stack.login(city_user, CITY_PASSWORD), COUNTY)
    return {"city": city_user, "county": county_user, "county_initial": county_initial}


def sso_login(page, username: str, password: str) -> None:
    page.wait_for_selector("#kc-login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")


def signed_in(browser, stack, path: str, username: str, password: str):
    # wait_for_function evaluates strings in the page, which our Content-Security-Policy
    # forbids (no eval); the policy itself is tested in tests/security.
    ctx = browser.new_context(accept_downloads=True, locale="zh-CN", bypass_csp=True)
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    page.set_default_timeout(30_000)
    page.goto(stack.gateway_url + path)
    sso_login(page, username, password)
    page.wait_for_url(re.compile(re.escape(stack.gateway_url + path) + r"(\?.*)?$"))
    return ctx, page


def no_error(page) -> None:
    assert page.locator("#js-error").is_hidden(), page.inner_text("#js-error")
    body = page.inner_text("main")
    assert "Internal Server Error" not in body and "Traceback" not in body


def act(page, selector: str) -> str:
    """Click a button handled by the page's script; the Chinese message it shows."""
    page.evaluate(
        "['js-ok', 'js-error'].forEach(function (id) { document.getElementById(id).hidden = true; })"
    )
    page.click(selector)
    page.wait_for_function(
        "!document.querySelector('#js-ok').hidden || !document.querySelector('#js-error').hidden"
    )
    no_error(page)
    return page.inner_text("#js-ok")


def create_talent(page, name: str, phone: str, category: str) -> str:
    page.fill("#create [name=name]", name)
    page.select_option("#create [name=gender]", "女")
    page.fill("#create [name=birth_month]", "1986-04")
    page.fill("#create [name=ethnicity]", "汉族")
    page.select_option("#create [name=political_status]", "中共党员")
    page.select_option("#create [name=education]", "大学本科")
    page.fill("#create [name=employer]", "魏都区实验小学")
    page.fill("#create [name=position]", "高级教师")
    page.fill("#create [name=industry]", "教育")
    page.fill("#create [name=specialty]", "青少年科技创新")
    page.fill("#create [name=phone]", phone)
    page.fill("#create [name=email]", "weidu.kepu@example.com")
    page.check(f"#create [name=categories][value={category}]")
    page.fill("#create [name=biography]", "从事小学科学教育十五年。")
    page.fill("#create [name=experience]", "指导学生参加青少年科技创新大赛。")
    page.fill("#create [name=plan]", "每月进校园开展一次科普讲座。")
    page.click("#create-btn")
    page.wait_for_url(re.compile(r"/talents/[0-9a-f-]+\?msg=created$"))
    return page.url.split("/talents/")[1].split("?")[0]


def test_county_city_province_review_and_monthly_brief(stack, browser, accounts):
    n = iter(range(1, 100))

    def step(page, name: str) -> None:
        shot(page, f"flow-{next(n):02d}-{name}")

    # -- 魏都区 signs in with its initial password and must change it -------------------------
    # wait_for_function evaluates strings in the page, which our Content-Security-Policy
    # forbids (no eval); the policy itself is tested in tests/security.
    county_ctx = browser.new_context(accept_downloads=True, locale="zh-CN", bypass_csp=True)
    county = county_ctx.new_page()
    county.on("dialog", lambda d: d.accept())
    county.set_default_timeout(30_000)
    county.goto(stack.gateway_url + "/talents")
    sso_login(county, accounts["county"], accounts["county_initial"])
    county.wait_for_selector("#password-new")
    assert "首次登录须修改" in county.inner_text("body")
    step(county, "county-forced-password-change")
    county.fill("#password-new", COUNTY_PASSWORD)
    county.fill("#password-confirm", COUNTY_PASSWORD)
    county.click("button[type=submit]")
    county.wait_for_url(stack.gateway_url + "/talents")
    assert "魏都区" in county.inner_text("#tenant-name")
    county.wait_for_selector("#create")
    step(county, "county-talents")

    # -- the county fills the 推荐表 form: a draft with masked personal data --------------------
    # a required category missing: said in Chinese, nothing saved
    county.fill("#create [name=name]", "缺类别")
    county.fill("#create [name=employer]", "魏都区实验小学")
    county.fill("#create [name=phone]", "13912345678")
    county.click("#create-btn")
    county.wait_for_selector("#js-error:not([hidden])")
    assert "服务类别" in county.inner_text("#js-error")
    county.goto(stack.gateway_url + "/talents")
    first = create_talent(county, "魏晓燕", "13912345678", "青少年科普")
    assert "已保存为草稿" in county.inner_text(".flash.ok")
    assert county.inner_text("#talent-status") == "草稿"
    phone = county.inner_text('#talent-fields tr[data-field="phone"]')
    assert "****" in phone and "13912345678" not in phone
    step(county, "county-talent-draft")

    # the full view is an explicit, logged action
    county.click("#reveal-btn")
    county.wait_for_selector("#revealed-note")
    assert "13912345678" in county.inner_text('#talent-fields tr[data-field="phone"]')
    assert "记入操作日志" in county.inner_text("main")
    step(county, "county-talent-revealed")
    county.goto(f"{stack.gateway_url}/talents/{first}")
    assert "****" in county.inner_text('#talent-fields tr[data-field="phone"]')

    with county.expect_download() as dl:
        county.click("#form-docx")
    assert Path(dl.value.path()).read_bytes()[:2] == b"PK"  # the 推荐表 .docx

    county.fill("#action-recommend [name=opinion]", "该同志长期从事青少年科普，同意推荐。")
    county.click("#recommend-btn")
    assert "已推荐“魏晓燕”" in county.inner_text(".flash.ok")
    assert county.inner_text("#talent-status") == "已推荐"
    assert "县（市、区）科协推荐" in county.inner_text("#history")
    step(county, "county-recommended")

    # a second talent, recommended from the list's queue
    county.goto(stack.gateway_url + "/talents")
    second = create_talent(county, "许志强", "13812345678", "农村科普")
    county.goto(stack.gateway_url + "/talents")
    county.wait_for_selector(f'#review-queue tr[data-id="{second}"]')
    assert "已推荐“许志强”" in act(
        county, f'#review-queue tr[data-id="{second}"] button[data-recommend]'
    )

    # -- 许昌市 gives its opinion on both -------------------------------------------------------
    city_ctx, city = signed_in(browser, stack, "/talents", accounts["city"], CITY_PASSWORD)
    assert "许昌" in city.inner_text("#tenant-name")
    for tid in (first, second):
        city.wait_for_selector(f'#review-queue tr[data-id="{tid}"]')
    step(city, "city-review-queue")
    city.fill(f'#review-queue [data-opinion="{first}"]', "")
    city.click(f'#review-queue tr[data-id="{first}"] button[data-review=reject]')
    city.wait_for_selector("#js-error:not([hidden])")
    assert "理由" in city.inner_text("#js-error")  # nothing sent without a reason
    for tid in (first, second):
        city.fill(f'#review-queue [data-opinion="{tid}"]', "同意推荐，报省科协审核。")
        approve = f'#review-queue tr[data-id="{tid}"] button[data-review=approve]'
        assert "已出具市级意见" in act(city, approve)
        city.wait_for_selector(f'#review-queue tr[data-id="{tid}"]', state="detached")
    city.goto(f"{stack.gateway_url}/talents/{first}")
    assert city.inner_text("#talent-status") == "市级已审"
    assert city.locator("#action-review").count() == 0  # the city's part is done
    step(city, "city-opinion-given")

    # -- the province certifies: one in bulk, one on its detail page ----------------------------
    prov_ctx, prov = signed_in(browser, stack, "/talents", stack.admin_user, stack.admin_password)
    prov.wait_for_selector(f'#review-queue tr[data-id="{first}"]')
    prov.wait_for_selector(f'#review-queue tr[data-id="{second}"]')
    step(prov, "province-queue")
    prov.check(f'#review-queue [data-pick="{first}"]')
    prov.fill("#bulk-opinion", "资格审核通过，予以认定。")
    assert "成功 1 人" in act(prov, "#bulk-approve")
    prov.goto(f"{stack.gateway_url}/talents/{first}")
    cert = prov.inner_text("#certificate-no")
    assert re.search(r"KP410000-\d{4}-\d{6}", cert), cert
    assert prov.inner_text("#talent-status") == "已认定"
    history = prov.inner_text("#history")
    assert "省辖市科协意见" in history and "省科协资格审核" in history
    step(prov, "province-certified-bulk")

    prov.goto(f"{stack.gateway_url}/talents/{second}")
    prov.click("#approve-btn")
    ok = prov.inner_text(".flash.ok")
    assert "已认定建档" in ok and re.search(r"KP410000-\d{4}-\d{6}", ok), ok
    assert re.search(r"KP410000-\d{4}-\d{6}", prov.inner_text("#certificate-no"))
    step(prov, "province-certified-single")

    # the province's dashboard: quotas, the chart of certified talents per city
    prov.goto(stack.gateway_url + "/")
    bar = prov.locator('#talent-chart svg g.bar-row[data-name="许昌市"]')
    assert int(bar.get_attribute("data-value")) >= 2
    assert "省科协为最高一级" in prov.inner_text("#deadlines")
    step(prov, "province-dashboard")

    # the province has no parent: nothing to submit, said so; the period is the month reported now
    prov.goto(stack.gateway_url + "/reports")
    prov.wait_for_function("document.querySelector('#report-fields').children.length > 0")
    assert prov.locator("#report-submit").count() == 0
    assert "省科协为最高一级，无需上报" in prov.inner_text("#no-submit")
    period = prov.input_value("#report-period")
    assert re.fullmatch(r"\d{4}-\d{2}", period) and period in prov.inner_text("#report-picker")

    # -- the monthly brief: 魏都区 fills and submits 2026-10 -----------------------------------
    county.goto(stack.gateway_url + "/")
    county.wait_for_selector("#deadlines")
    no_error(county)
    step(county, "county-dashboard-deadlines")
    county.goto(f"{stack.gateway_url}/reports?type=monthly_brief&period={PERIOD}")
    county.wait_for_function("document.querySelector('#report-fields').children.length > 0")
    no_error(county)
    county.fill('#report-fields [data-key="activities"]', "3")
    county.fill('#report-fields [data-key="participants"]', "150")
    county.fill('#report-fields [data-key="narrative"]', "开展科普进校园活动3次。")
    step(county, "county-brief-filled")
    assert "已提交上级" in act(county, "#report-submit")
    county.wait_for_function("document.querySelector('#report-status').innerText.includes('已')")
    assert county.locator("#report-submit").is_disabled()
    step(county, "county-brief-submitted")

    # -- 许昌市 sees 魏都区's status, looks at it, and accepts it ---------------------------------
    city.goto(f"{stack.gateway_url}/reports?type=monthly_brief&period={PERIOD}")
    row = '#children-status tr[data-name="魏都区"]'
    city.wait_for_selector(row)
    assert "已提交" in city.inner_text(row)
    assert "应报" in city.inner_text("#children-summary")
    city.click(f"{row} button[data-view]")
    city.wait_for_selector("#child-report:not([hidden])")
    assert "150" in city.inner_text("#child-report-values")
    city.click(f"{row} button[data-return]")  # no reason: explained, nothing returned
    city.wait_for_selector("#js-error:not([hidden])")
    assert "退回理由" in city.inner_text("#js-error")
    step(city, "city-sees-county-brief")
    assert "已接收魏都区的报告" in act(city, f"{row} button[data-accept]")
    city.wait_for_function(
        f"document.querySelector('{row}') && document.querySelector('{row}').innerText.includes('接收')"
        " && !document.querySelector('" + row + " button[data-accept]')"
    )
    step(city, "city-accepted")

    # the city's dashboard: the current reporting month's completeness and the chart
    city.goto(stack.gateway_url + "/")
    now = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    prev = date(now.year, now.month, 1) - timedelta(days=1)
    if f"{prev.year:04d}-{prev.month:02d}" == PERIOD:  # 2026-10 is the month reported now
        assert int(city.inner_text("#month-submitted")) >= 1
        assert int(city.inner_text("#month-expected")) >= 6  # 许昌's counties
    weidu = city.locator('#talent-chart svg g.bar-row[data-name="魏都区"]')
    assert (
        int(weidu.get_attribute("data-value")) >= 2
    )  # other modules on the session stack certify in 魏都区 too
    step(city, "city-dashboard")

    # a talent of another city (南阳's 卧龙区) is not 许昌's to open: a plain Chinese page
    other = api(stack, stack.admin_token())
    me = other.get("/api/v1/tenants/me").json()
    cities = {c["code"]: c for c in other.get(f"/api/v1/tenants/{me['id']}/children").json()}
    counties = other.get(f"/api/v1/tenants/{cities['411300']['id']}/children").json()
    wolong = next(c for c in counties if c["code"] == "411303")
    r = other.post(
        "/api/v1/talents",
        json={
            "name": "宛南人",
            "gender": "男",
            "phone": "13700001111",
            "employer": "卧龙区农技站",
            "categories": ["农村科普"],
            "tenant_id": wolong["id"],
        },
    )
    assert r.status_code == 201, r.text
    resp = city.goto(f"{stack.gateway_url}/talents/{r.json()['id']}")
    assert resp.status == 404 and "出错了" in city.inner_text("body")
    assert "宛南人" not in city.inner_text("body")

    # the county sees its brief accepted
    county.goto(f"{stack.gateway_url}/reports?type=monthly_brief&period={PERIOD}")
    county.wait_for_function("document.querySelector('#report-status').innerText.includes('接收')")
    step(county, "county-brief-accepted")

    for c in (county_ctx, city_ctx, prov_ctx):
        c.close()
