"""The 8月 step end to end: the province distributes credentials, a city signs in, changes its
initial password, and sees its own subtree and nothing else (issue: foundation).

The module runs twice: on the embedded engines, and on the production engines (a real
Keycloak with the realm of ``kepu_identity.realm``, a real Apache Kafka). The public surface
is the same: python-keycloak, the gateway's ``/auth`` and the account password API.
"""

from __future__ import annotations

import base64
import io
import secrets
import time

import httpx
import pytest
from docx import Document
from kepu_devstack.pytest_plugin import ENGINES, fresh_stack
from kepu_devstack.tokens import TestIssuer
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakPostError
from openpyxl import load_workbook

NEW_CITY_PASSWORD = "Nanyang#Kepu2026"


@pytest.fixture(scope="module", params=ENGINES)
def stack(request):
    """This module plays the 8月 step from the start, so it needs a platform nobody has touched."""
    with fresh_stack(request.param) as s:
        yield s


def kc(stack, client_id: str = "kepu-cli") -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=f"{stack.gateway_url}/auth/", realm_name="kepu", client_id=client_id
    )


def api(stack, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=60)


def is_problem(r: httpx.Response, status: int) -> bool:
    body = r.json()
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= c <= "\u9fff" for c in body["detail"])
    )


@pytest.fixture(scope="module")
def province(stack):
    token = kc(stack).token(stack.admin_user, stack.admin_password)
    me = api(stack, token["access_token"]).get("/api/v1/tenants/me").json()
    return {"token": token["access_token"], "tenant": me, "kc": token}


@pytest.fixture(scope="module")
def distribution(stack, province):
    r = api(stack, province["token"]).post(
        f"/api/v1/tenants/{province['tenant']['id']}/credentials",
        json={"scope": "children"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_python_keycloak_works_unchanged_against_the_embedded_provider(stack, province):
    client = kc(stack)
    wk = client.well_known()
    assert wk["issuer"] == f"{stack.gateway_url}/auth/realms/kepu"
    assert "S256" in wk["code_challenge_methods_supported"]
    claims = client.decode_token(province["token"])  # verified with the JWKS (certs)
    assert claims["tenant_path"] == "410000" and "admin" in claims["realm_access"]["roles"]
    assert client.userinfo(province["token"])["preferred_username"] == stack.admin_user
    assert client.public_key()
    refreshed = client.refresh_token(province["kc"]["refresh_token"])
    assert refreshed["access_token"] != province["token"]
    client.logout(refreshed["refresh_token"])
    with pytest.raises(KeycloakPostError, match="invalid_grant"):
        client.refresh_token(refreshed["refresh_token"])


def test_province_distributes_credentials_to_all_cities_once(stack, province, distribution):
    issued = {c["tenant_code"]: c for c in distribution["issued"]}
    assert len(issued) == 18 and "411300" in issued and "419001" in issued  # 17 cities + 济源
    assert issued["411300"]["username"] == "kx411300"
    sheet = load_workbook(io.BytesIO(base64.b64decode(distribution["sheet_xlsx_base64"]))).active
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] and str(r[0]).isdigit()]
    assert {r[4] for r in rows} == {c["username"] for c in distribution["issued"]}
    assert {r[5] for r in rows} == {c["initial_password"] for c in distribution["issued"]}
    slips = Document(io.BytesIO(base64.b64decode(distribution["slips_docx_base64"])))
    text = "\n".join(p.text for p in slips.paragraphs)
    assert text.count("初始密码：") == 18 and "南阳市" in text
    assert slips.element.xml.count('w:type="page"') == 17  # one page per tenant

    again = (
        api(stack, province["token"])
        .post(
            f"/api/v1/tenants/{province['tenant']['id']}/credentials",
            json={"scope": "children"},
            headers={"Accept": "application/json"},
        )
        .json()
    )
    assert again["issued"] == [] and again["skipped"] >= 18  # never two accounts for one tenant


def test_city_is_forced_to_change_its_initial_password(stack, distribution):
    initial = next(c for c in distribution["issued"] if c["tenant_code"] == "411300")[
        "initial_password"
    ]
    with pytest.raises(KeycloakPostError) as err:
        kc(stack).token("kx411300", initial)
    assert "Account is not fully set up" in str(err.value)

    url = f"{stack.gateway_url}/auth/realms/kepu/account/password"
    weak = httpx.post(
        url, json={"username": "kx411300", "currentPassword": initial, "newPassword": "short"}
    )
    assert is_problem(weak, 422)
    same = httpx.post(
        url, json={"username": "kx411300", "currentPassword": initial, "newPassword": initial}
    )
    assert is_problem(same, 422)  # password history
    ok = httpx.post(
        url,
        json={"username": "kx411300", "currentPassword": initial, "newPassword": NEW_CITY_PASSWORD},
    )
    assert ok.status_code == 204, ok.text
    token = kc(stack).token("kx411300", NEW_CITY_PASSWORD)
    assert kc(stack).decode_token(token["access_token"])["tenant_path"] == "410000.411300"


@pytest.fixture(scope="module")
def city(stack, distribution):
    """南阳's admin, with its initial password changed (by the test above, or here if run alone)."""
    try:
        token = kc(stack).token("kx411300", NEW_CITY_PASSWORD)["access_token"]
    except (KeycloakPostError, KeycloakAuthenticationError):
        initial = next(c for c in distribution["issued"] if c["tenant_code"] == "411300")[
            "initial_password"
        ]
        r = httpx.post(
            f"{stack.gateway_url}/auth/realms/kepu/account/password",
            json={
                "username": "kx411300",
                "currentPassword": initial,
                "newPassword": NEW_CITY_PASSWORD,
            },
        )
        assert r.status_code == 204, r.text
        token = kc(stack).token("kx411300", NEW_CITY_PASSWORD)["access_token"]
    return api(stack, token)


def test_city_sees_its_counties_and_not_a_sibling_city(stack, city, province, distribution):
    me = city.get("/api/v1/tenants/me").json()
    assert me["name"] == "南阳市"
    counties = city.get(f"/api/v1/tenants/{me['id']}/children").json()
    names = {c["name"] for c in counties}
    assert {"卧龙区", "宛城区", "邓州市"} <= names and all(c["kind"] == "county" for c in counties)
    kaifeng = next(c for c in distribution["issued"] if c["tenant_code"] == "410200")["tenant_id"]
    assert is_problem(city.get(f"/api/v1/tenants/{kaifeng}"), 404)
    assert is_problem(city.get(f"/api/v1/tenants/{kaifeng}/children"), 404)
    # the province's own record and users are not the city's to read
    assert is_problem(city.get(f"/api/v1/tenants/{province['tenant']['id']}"), 404)
    assert is_problem(city.get(f"/api/v1/tenants/{province['tenant']['id']}/users"), 404)


def test_city_cannot_read_a_sibling_through_any_tenant_endpoint(
    stack, city, province, distribution
):
    kaifeng = next(c for c in distribution["issued"] if c["tenant_code"] == "410200")["tenant_id"]
    assert is_problem(city.get(f"/api/v1/tenants/{kaifeng}/subtree"), 404)
    assert is_problem(city.get(f"/api/v1/tenants/{kaifeng}/users"), 404)
    assert is_problem(city.get("/api/v1/audit", params={"tenant_id": kaifeng}), 404)
    kaifeng_admin = api(stack, province["token"]).get(f"/api/v1/tenants/{kaifeng}/users").json()[0]
    r = city.put(f"/api/v1/users/{kaifeng_admin['id']}/roles", json={"roles": ["viewer"]})
    assert is_problem(r, 404)
    still = api(stack, province["token"]).get(f"/api/v1/tenants/{kaifeng}/users").json()[0]
    assert still["roles"] == kaifeng_admin["roles"]  # nothing changed
    own = city.get("/api/v1/audit").json()
    assert own and all(e["tenant_path"].startswith("410000.411300") for e in own)


def test_city_cannot_write_another_tenants_data(stack, city, province, distribution):
    kaifeng = next(c for c in distribution["issued"] if c["tenant_code"] == "410200")["tenant_id"]
    r = city.post(
        f"/api/v1/tenants/{kaifeng}/children",
        json={"code": "410202001", "name": "假乡", "kind": "township"},
    )
    assert r.status_code in (403, 404) and is_problem(r, r.status_code)
    r = city.post(f"/api/v1/tenants/{kaifeng}/credentials", json={"scope": "children"})
    assert r.status_code in (403, 404) and is_problem(r, r.status_code)
    r = city.post(
        f"/api/v1/tenants/{province['tenant']['id']}/credentials", json={"scope": "children"}
    )
    assert r.status_code in (403, 404)
    # nothing changed: Kaifeng still has no children named 假乡 (seen by the province)
    kids = api(stack, province["token"]).get(f"/api/v1/tenants/{kaifeng}/children").json()
    assert all(k["name"] != "假乡" for k in kids)


def test_city_creates_a_society_and_distributes_to_its_counties(stack, city):
    me = city.get("/api/v1/tenants/me").json()
    r = city.post(
        f"/api/v1/tenants/{me['id']}/children",
        json={"code": "411300S01", "name": "南阳市农学会", "kind": "society"},
    )
    assert r.status_code == 201, r.text
    bad = city.post(
        f"/api/v1/tenants/{me['id']}/children", json={"code": "12", "name": "x", "kind": "township"}
    )
    assert is_problem(bad, 422)
    lone_surrogate = b'{"code": "411300S02", "name": "\\ud800", "kind": "society"}'
    r = city.post(
        f"/api/v1/tenants/{me['id']}/children",
        content=lone_surrogate,
        headers={"content-type": "application/json"},
    )
    assert is_problem(r, 422)
    dup = city.post(
        f"/api/v1/tenants/{me['id']}/children",
        json={"code": "411300S01", "name": "重复", "kind": "society"},
    )
    assert is_problem(dup, 409)
    sheet = city.post(f"/api/v1/tenants/{me['id']}/credentials", json={"scope": "children"})
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(sheet.content)).active
    usernames = {
        r[4] for r in wb.iter_rows(min_row=3, values_only=True) if r[0] and str(r[0]).isdigit()
    }
    assert {"kx411303", "kx411300s01"} <= usernames


def test_bad_tokens_are_refused_with_problem_details(stack, province):
    assert is_problem(httpx.get(f"{stack.gateway_url}/api/v1/tenants/me"), 401)
    bad = httpx.get(
        f"{stack.gateway_url}/api/v1/tenants/me", headers={"Authorization": "Bearer not.a.token"}
    )
    assert is_problem(bad, 401)
    forged = TestIssuer(issuer=f"{stack.gateway_url}/auth/realms/kepu").token(
        tenant_id=province["tenant"]["id"], tenant_path="410000", tenant_kind="province"
    )
    r = httpx.get(
        f"{stack.gateway_url}/api/v1/tenants/me", headers={"Authorization": f"Bearer {forged}"}
    )
    assert is_problem(r, 401)  # signed by a key the issuer never published
    r = api(stack, province["token"]).get("/api/v1/tenants/not-a-uuid")
    assert is_problem(r, 404)


def test_responses_carry_request_id_and_trace_context(stack, province):
    r = api(stack, province["token"]).get(
        "/api/v1/tenants/me", headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}
    )
    assert r.headers["x-request-id"]
    assert r.headers["traceparent"].startswith("00-" + "a" * 32)
    spec = httpx.get(f"{stack.gateway_url}/openapi.json").json()
    assert "/api/v1/tenants/{tenant_id}/credentials" in spec["paths"]


def test_five_failures_lock_the_account_for_fifteen_minutes(stack, province):
    me = province["tenant"]
    kids = api(stack, province["token"]).get(f"/api/v1/tenants/{me['id']}/children").json()
    target = next(k for k in kids if k["code"] == "410300")  # 洛阳
    sheet = (
        api(stack, province["token"])
        .post(
            f"/api/v1/tenants/{me['id']}/credentials",
            json={"scope": "children", "reset_tenant_ids": [target["id"]]},
            headers={"Accept": "application/json"},
        )
        .json()
    )
    initial = next(c for c in sheet["issued"] if c["tenant_code"] == "410300")["initial_password"]
    client = kc(stack)
    for _ in range(5):
        with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)):
            client.token("kx410300", "wrong-" + secrets.token_hex(4))
    with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)) as err:
        client.token("kx410300", initial)  # even the right password is refused now
    # Neither provider tells a locked account apart from a wrong password (no account
    # enumeration); Keycloak's brute-force detector, or our audit log, knows it is locked.
    assert "Invalid user credentials" in str(err.value)
    if stack.keycloak is not None:
        admin = stack.keycloak.admin()
        status = admin.get_bruteforce_detection_status(admin.get_user_id("kx410300"))
        assert status["disabled"] is True and status["numFailures"] >= 5
    r = httpx.post(
        f"{stack.gateway_url}/auth/realms/kepu/account/password",
        json={
            "username": "kx410300",
            "currentPassword": initial,
            "newPassword": "Luoyang#Kepu2026",
        },
    )
    assert r.status_code in (400, 401, 403) and r.json()["detail"]
    # The auditor sees the failures and the lockout on either provider (Keycloak's own
    # events reach the audit log through the identity worker's feed, within seconds).
    wanted = {
        ("credential_reset", "kx410300"),
        ("login_failure", "kx410300"),
        ("lockout", "kx410300"),
        ("login_blocked", "kx410300"),
    }
    deadline = time.monotonic() + 60
    while True:
        audit = api(stack, province["token"]).get("/api/v1/audit", params={"limit": 200}).json()
        actions = {(a["action"], a["username"]) for a in audit}
        if wanted <= actions or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert wanted <= actions, wanted - actions
    failures = [a for a in audit if a["action"] == "login_failure" and a["username"] == "kx410300"]
    assert len(failures) >= 5 and all(a["client_ip"] for a in failures)
    # the operator's alert on password guessing counts them too (kepu_login_failures_total,
    # where identity writes the entry: its serve process embedded, its worker with Keycloak)
    counted = 0.0
    for process in ("identity-serve", "identity-worker"):
        page = httpx.get(f"http://127.0.0.1:{stack.metrics_ports[process]}/metrics").text
        for line in page.splitlines():
            if line.startswith("kepu_login_failures_total{") and 'action="login_failure"' in line:
                counted += float(line.rsplit(" ", 1)[1])
    assert counted >= 5


def test_browser_login_with_authorization_code_and_pkce(stack):
    import hashlib
    import re

    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    redirect = f"{stack.gateway_url}/app/callback"
    client = kc(stack, "kepu-portal")
    url = client.auth_url(redirect_uri=redirect, scope="openid", state="xyz")
    url += f"&code_challenge={challenge}&code_challenge_method=S256"
    with httpx.Client(follow_redirects=False, timeout=30) as browser:
        page = browser.get(url)
        assert page.status_code == 200 and "用户名" in page.text
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        fields.update(username=stack.admin_user, password=stack.admin_password)
        action = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
        target = (
            action.group(1).replace("&amp;", "&")
            if action
            else f"{stack.gateway_url}/auth/realms/kepu/protocol/openid-connect/auth"
        )
        assert target.startswith(stack.gateway_url + "/auth/")  # the login stays on the gateway
        # Keycloak marks its cookies Secure even on http; browsers send them to 127.0.0.1
        # (a trustworthy origin), httpx does not: send them as a browser would.
        jar = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
        done = browser.post(target, data=fields, headers={"cookie": jar} if jar else {})
        assert done.status_code == 302, done.text
        location = httpx.URL(done.headers["location"])
        assert location.params["state"] == "xyz"
        code = location.params["code"]
    token = client.token(
        grant_type="authorization_code", code=code, redirect_uri=redirect, code_verifier=verifier
    )
    assert client.decode_token(token["access_token"])["preferred_username"] == stack.admin_user
    with pytest.raises(KeycloakPostError, match="invalid_grant"):  # a code works once
        client.token(
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect,
            code_verifier=verifier,
        )
