"""The production engines end to end: a bank's confidential client provisioned into Keycloak, tokens Keycloak issues without our claims, and events on
Apache Kafka (``KEPU_IDP=keycloak KEPU_BROKER=kafka``, as ``make run`` can run them).

The 8月 step itself (python-keycloak, distribution, forced change, sibling denial, lockout,
code flow) runs on these engines in ``test_e2e_foundation.py``; Keycloak's own sign-in and
password-change pages in Chromium, in the portal's browser story (``test_portal_spa.py``, its
``@both`` steps).
"""

from __future__ import annotations

import time

import httpx
import pytest
from kepu_devstack.e2e import api
from kepu_devstack.pytest_plugin import fresh_stack
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakPostError

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def stack():
    with fresh_stack("real") as s:
        assert s.keycloak is not None
        yield s


@pytest.fixture(scope="module")
def province(stack) -> str:
    return stack.admin_token()


def is_problem(r: httpx.Response, status: int) -> bool:
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= c <= "\u9fff" for c in r.json()["detail"])
    )


def test_the_issuer_is_keycloak_behind_the_gateway(stack, province):
    wk = httpx.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=30).json()
    assert wk["issuer"] == f"{stack.gateway_url}/auth/realms/kepu"
    # Keycloak's own discovery document (not the embedded provider's)
    assert "device_authorization_endpoint" in wk
    me = api(stack, province).get("/api/v1/tenants/me")
    assert me.status_code == 200 and me.json()["code"] == "410000"


def test_every_service_accepts_keycloaks_token(stack, province):
    """Each service verifies the forwarded token itself against Keycloak's JWKS."""
    client = api(stack, province)
    for path in (
        "/api/v1/tenants/me",  # identity
        "/api/v1/talents",  # talent
        "/api/v1/report-types",  # reporting
        "/api/v1/calls",  # projects
        "/api/v1/assessment/schemes",  # assessment
    ):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text)


def test_a_keycloak_token_without_tenant_claims_is_a_401_problem(stack):
    assert stack.keycloak is not None
    admin = stack.keycloak.admin()
    user_id = admin.create_user({"username": "stray-user", "enabled": True})
    admin.set_user_password(user_id, "Stray-user-2026#", temporary=False)
    admin.assign_realm_roles(user_id, [admin.get_realm_role("admin")])
    token = stack.login("stray-user", "Stray-user-2026#")
    for path in ("/api/v1/tenants/me", "/api/v1/talents", "/api/v1/audit"):
        r = httpx.get(
            f"{stack.gateway_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert is_problem(r, 401), (path, r.status_code, r.text)


def test_a_bank_provisioned_into_keycloak_gets_a_token_that_opens_only_the_partner_api(
    stack, province
):
    r = api(stack, province).post(
        "/api/v1/partners", json={"name": "河南农信", "scopes": ["partner:talents:read"]}
    )
    assert r.status_code == 201, r.text
    client_id, secret = r.json()["partner"]["client_id"], r.json()["client_secret"]
    assert stack.keycloak is not None
    assert stack.keycloak.admin().get_client_id(client_id)  # the client lives in Keycloak

    def bank(secret: str) -> KeycloakOpenID:
        return KeycloakOpenID(
            server_url=f"{stack.gateway_url}/auth/",
            realm_name="kepu",
            client_id=client_id,
            client_secret_key=secret,
        )

    token = bank(secret).token(grant_type="client_credentials")["access_token"]
    partner = api(stack, token)
    listing = partner.get("/partner/v1/talents")
    assert listing.status_code == 200, listing.text
    assert is_problem(partner.get("/api/v1/tenants/me"), 403)
    assert partner.post("/partner/v1/financing", json={}).status_code in (403, 422)

    rotated = api(stack, province).post(f"/api/v1/partners/{client_id}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)):
        bank(secret).token(grant_type="client_credentials")
    new_secret = rotated.json()["client_secret"]
    live = api(stack, bank(new_secret).token(grant_type="client_credentials")["access_token"])
    assert live.get("/partner/v1/talents").status_code == 200
    assert api(stack, province).delete(f"/api/v1/partners/{client_id}").status_code in (200, 204)
    with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)):
        bank(new_secret).token(grant_type="client_credentials")
    # Keycloak's token stays valid for minutes, but the disabled partner is refused at once
    assert is_problem(live.get("/partner/v1/talents"), 401)


def test_a_society_created_by_the_province_reaches_every_read_model_through_kafka(stack, province):
    """identity -> Kafka -> talent/reporting/projects/assessment read models."""
    me = api(stack, province).get("/api/v1/tenants/me").json()
    r = api(stack, province).post(
        f"/api/v1/tenants/{me['id']}/children",
        json={"code": "410000S77", "name": "河南省科普作家协会", "kind": "society"},
    )
    assert r.status_code == 201, r.text
    society = r.json()
    issued = api(stack, province).post(
        f"/api/v1/tenants/{me['id']}/credentials",
        json={"scope": "children"},
        headers={"Accept": "application/json"},
    )
    assert issued.status_code == 200, issued.text
    row = next(c for c in issued.json()["issued"] if c["tenant_code"] == "410000S77")
    ok = httpx.post(
        f"{stack.issuer}/account/password",
        json={
            "username": row["username"],
            "currentPassword": row["initial_password"],
            "newPassword": "Zuojia#Kepu2026",
        },
        timeout=60,
    )
    assert ok.status_code == 204, ok.text
    token = stack.login(row["username"], "Zuojia#Kepu2026")
    # The society's own talent list answers once talent has consumed the tenant event.
    deadline = time.monotonic() + 120
    while True:
        r = api(stack, token).get("/api/v1/talents")
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert r.status_code == 200, r.text
    assert society["path"].startswith("410000.")
