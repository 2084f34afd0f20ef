"""Keycloak mode (IDP=keycloak): provisioning accounts into the realm through KeycloakAdmin.

The realm is the in-memory stand-in of ``kepu_devstack.keycloak_standin``, which answers
the admin REST API the way Keycloak 24 does and records every request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from kepu_common.errors import InvalidArgument, Unavailable
from kepu_devstack.keycloak_standin import StandinServer, start_standin
from kepu_identity.keycloak_provisioner import (
    KeycloakProvisioner,
    KeycloakSettings,
    ProvisionItem,
    ProvisionResult,
)

USERS = r"/admin/realms/kepu/users"


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    handle, _url = start_standin(admin_users={"admin": "Adm1n-secret"})
    yield handle
    handle.stop()


def provisioner_for(standin: StandinServer, **overrides: object) -> KeycloakProvisioner:
    settings = KeycloakSettings(
        server_url=standin.base_url,
        admin_username="admin",
        admin_password="Adm1n-secret",
        admin_mfa_required=True,
    )
    for key, value in overrides.items():
        settings = KeycloakSettings(**{**settings.__dict__, key: value})
    return KeycloakProvisioner(settings)


@pytest.fixture
def provisioner(standin: StandinServer) -> KeycloakProvisioner:
    return provisioner_for(standin)


def county(code: str, city: str = "411300") -> ProvisionItem:
    return ProvisionItem(
        username=f"kx{code}",
        temporary_password=f"Init-{code}-pw",
        tenant_id=str(uuid.uuid5(uuid.NAMESPACE_OID, code)),
        tenant_path=f"410000.{city}.{code}",
        tenant_kind="county",
        tenant_code=code,
        tenant_name=f"{code}科协",
        roles=["admin"],
    )


def provision_nanyang_admin(
    provisioner: KeycloakProvisioner, password: str = "Nanyang-2016!"
) -> str:
    return provisioner.ensure_user(
        "kx411300",
        password,
        tenant_id="7f0e6c1e-0000-4000-8000-411300000000",
        tenant_path="410000.411300",
        tenant_kind="city",
        tenant_code="411300",
        tenant_name="南阳市科学技术协会",
        roles=["admin"],
    )


def test_city_admin_gets_temporary_password_tenant_group_and_admin_role(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    user_id = provision_nanyang_admin(provisioner)

    realm = standin.state.realm("kepu")
    assert len(realm.users) == 1
    user = realm.users[user_id]
    assert user["username"] == "kx411300"
    assert user["enabled"] is True
    assert user["requiredActions"] == ["UPDATE_PASSWORD", "CONFIGURE_TOTP"]
    assert realm.password_of("kx411300") == {
        "type": "password",
        "value": "Nanyang-2016!",
        "temporary": True,
        "createdDate": realm.credentials[user_id]["createdDate"],
    }
    assert user["attributes"] == {
        "tenant_id": ["7f0e6c1e-0000-4000-8000-411300000000"],
        "tenant_path": ["410000.411300"],
        "tenant_kind": ["city"],
        "tenant_code": ["411300"],
    }
    groups = [realm.groups[g] for g in realm.user_groups[user_id]]
    assert [g["path"] for g in groups] == ["/410000/411300"]
    assert groups[0]["attributes"]["tenant_kind"] == ["city"]
    assert groups[0]["attributes"]["tenant_name"] == ["南阳市科学技术协会"]
    province = next(g for g in realm.groups.values() if g["path"] == "/410000")
    assert province["attributes"] == {"tenant_path": ["410000"], "tenant_code": ["410000"]}
    role_names = {r["name"] for r in realm.roles.values() if r["id"] in realm.user_roles[user_id]}
    assert role_names == {"admin", "default-roles-kepu"}


def test_a_reviewer_is_not_asked_for_a_second_factor(provisioner: KeycloakProvisioner) -> None:
    user_id = provisioner.ensure_user(
        "kx411300r",
        "Reviewer-2016!",
        tenant_id="t-411300",
        tenant_path="410000.411300",
        tenant_kind="city",
        tenant_code="411300",
        tenant_name="南阳市科学技术协会",
        roles=["reviewer"],
    )
    user = provisioner._admin.get_user(user_id)
    assert user["requiredActions"] == ["UPDATE_PASSWORD"]


def test_provisioning_again_creates_nothing_and_keeps_the_password(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    first = provision_nanyang_admin(provisioner)
    posts_before = [r.path for r in standin.state.requests if r.method == "POST"]

    again = provision_nanyang_admin(provisioner, password="Another-2016!")
    fresh = provision_nanyang_admin(provisioner_for(standin), password="Third-2016!")

    assert again == first == fresh
    realm = standin.state.realm("kepu")
    assert len(realm.users) == 1
    assert len(realm.groups) == 2
    assert realm.password_of("kx411300")["value"] == "Nanyang-2016!"
    posts_after = [r.path for r in standin.state.requests if r.method == "POST"]
    assert [p for p in posts_after if "/token" not in p] == [
        p for p in posts_before if "/token" not in p
    ]


def test_interrupted_batch_resumes_without_a_second_user_for_any_tenant(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    items = [county(code) for code in ("411302", "411303", "411321", "411322", "411323")]
    # Keycloak commits the 4th user but the answer is lost (timeout, restart...).
    standin.state.fail("POST", USERS, nth=4, status=503, after_effect=True)
    reported: list[list[ProvisionResult]] = []

    with pytest.raises(Unavailable):
        provisioner.provision_many(items, batch_size=2, on_progress=reported.append)

    assert [[r.username for r in batch] for batch in reported] == [
        ["kx411302", "kx411303"],
        ["kx411321", "kx411322"],
    ]
    assert reported[1][1].error is not None
    assert "HTTP 503" in reported[1][1].error

    results = provisioner_for(standin).provision_many(items, batch_size=2)

    assert [r.error for r in results] == [None] * 5
    assert [r.created for r in results] == [False, False, False, False, True]
    realm = standin.state.realm("kepu")
    usernames = sorted(u["username"] for u in realm.users.values())
    assert usernames == sorted(i.username for i in items)
    for item in items:
        user = realm.user_by_name(item.username)
        assert user is not None
        paths = [realm.groups[g]["path"] for g in realm.user_groups[user["id"]]]
        assert paths == ["/" + item.tenant_path.replace(".", "/")]
    city_groups = [g for g in realm.groups.values() if g["path"] == "/410000/411300"]
    assert len(city_groups) == 1


def test_user_created_before_a_failed_group_step_gets_its_group_on_resume(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    item = county("411302")
    standin.state.fail("PUT", USERS + r"/[^/]+/groups/[^/]+", nth=1, status=500)

    with pytest.raises(Unavailable):
        provisioner.provision_many([item])
    realm = standin.state.realm("kepu")
    user = realm.user_by_name("kx411302")
    assert user is not None
    assert realm.user_groups[user["id"]] == set()

    [result] = provisioner.provision_many([item])

    assert result.created is False
    assert [realm.groups[g]["path"] for g in realm.user_groups[user["id"]]] == [
        "/410000/411300/411302"
    ]
    assert len(realm.users) == 1


def test_a_rejected_item_is_reported_and_the_rest_go_on(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    bad = ProvisionItem(**{**county("411303").__dict__, "tenant_path": "410000.411300.411399"})
    results = provisioner.provision_many([county("411302"), bad, county("411321")])

    assert [r.error is None for r in results] == [True, False, True]
    assert results[1].error == "单位代码“411303”与单位路径不一致"
    assert standin.state.realm("kepu").user_by_name("kx411303") is None


def test_reset_password_sets_a_new_temporary_password(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    user_id = provision_nanyang_admin(provisioner)
    # The user signs in and changes the initial password (Keycloak clears the action).
    provisioner._admin.set_user_password(user_id, "Chosen-by-user-1", temporary=False)
    provisioner._admin.update_user(user_id, {"requiredActions": []})

    provisioner.reset_password("kx411300", "Reissued-2016!")

    realm = standin.state.realm("kepu")
    credential = realm.password_of("kx411300")
    assert credential is not None
    assert (credential["value"], credential["temporary"]) == ("Reissued-2016!", True)
    assert realm.users[user_id]["requiredActions"] == ["UPDATE_PASSWORD"]
    assert len(realm.users) == 1


def test_set_roles_replaces_only_our_roles(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    user_id = provision_nanyang_admin(provisioner)

    provisioner.set_roles("kx411300", ["reviewer", "viewer"])

    realm = standin.state.realm("kepu")
    names = {r["name"] for r in realm.roles.values() if r["id"] in realm.user_roles[user_id]}
    assert names == {"reviewer", "viewer", "default-roles-kepu"}
    with pytest.raises(InvalidArgument, match="未知的角色"):
        provisioner.set_roles("kx411300", ["superuser"])


def test_realm_setup_creates_clients_and_token_mappers_once(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    provisioner.ensure_realm_setup()
    writes = [r for r in standin.state.requests if r.method in ("POST", "PUT")]

    provisioner_for(standin).ensure_realm_setup()

    later = [r for r in standin.state.requests if r.method in ("POST", "PUT")]
    assert [r.path for r in later[len(writes) :] if "/token" not in r.path] == []
    realm = standin.state.realm("kepu")
    clients = {c["clientId"]: c for c in realm.clients.values()}
    portal, cli = clients["kepu-portal"], clients["kepu-cli"]
    assert portal["publicClient"] is True
    assert portal["standardFlowEnabled"] is True
    assert portal["attributes"]["pkce.code.challenge.method"] == "S256"
    assert cli["publicClient"] is True
    assert cli["directAccessGrantsEnabled"] is True
    for client in (portal, cli):
        mappers = {m["name"]: m for m in client["protocolMappers"]}
        for claim in ("tenant_id", "tenant_path", "tenant_kind"):
            assert mappers[claim]["config"]["user.attribute"] == claim
            assert mappers[claim]["config"]["access.token.claim"] == "true"
        assert mappers["kepu-api audience"]["config"]["included.custom.audience"] == "kepu-api"
    assert {"admin", "reviewer", "reporter", "viewer", "platform_admin"} <= set(realm.roles)
    tenant_attr = next(a for a in realm.profile["attributes"] if a["name"] == "tenant_path")
    assert tenant_attr["permissions"]["edit"] == ["admin"]


def test_admin_api_without_a_token_is_401_like_keycloak(standin: StandinServer) -> None:
    url = standin.base_url + "admin/realms/kepu/users"
    assert requests.get(url, timeout=5).status_code == 401
    bad = requests.get(url, headers={"Authorization": "Bearer forged"}, timeout=5)
    assert bad.status_code == 401
    token_url = standin.base_url + "realms/master/protocol/openid-connect/token"
    form = {"grant_type": "password", "client_id": "admin-cli", "username": "admin"}
    wrong = requests.post(token_url, data={**form, "password": "guess"}, timeout=5)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_grant")
    good = requests.post(token_url, data={**form, "password": "Adm1n-secret"}, timeout=5)
    token = good.json()["access_token"]
    ok = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert (ok.status_code, ok.json()) == (200, [])


def test_expired_admin_session_is_renewed_mid_batch(
    standin: StandinServer, provisioner: KeycloakProvisioner
) -> None:
    provisioner.provision_many([county("411302")])
    standin.state.revoke_tokens()

    [result] = provisioner.provision_many([county("411303")])

    assert result.error is None
    assert result.created is True


def test_wrong_admin_credentials_are_a_chinese_unavailable_error(standin: StandinServer) -> None:
    provisioner = provisioner_for(standin, admin_password="wrong")
    with pytest.raises(Unavailable, match="拒绝了管理凭据"):
        provision_nanyang_admin(provisioner)
    assert standin.state.realm("kepu").users == {}


def test_service_account_and_auth_prefix_of_older_keycloak() -> None:
    handle, base_url = start_standin(
        prefix="/auth", admin_users={}, service_clients={"kepu-identity": "s3cret"}
    )
    try:
        assert base_url.endswith("/auth/")
        settings = KeycloakSettings(
            server_url=base_url.rstrip("/"),
            admin_client_id="kepu-identity",
            admin_client_secret="s3cret",
        )
        user_id = provision_nanyang_admin(KeycloakProvisioner(settings))
        assert user_id in handle.state.realm("kepu").users
        assert handle.state.calls("POST", "/realms/master/protocol/openid-connect/token")
    finally:
        handle.stop()
