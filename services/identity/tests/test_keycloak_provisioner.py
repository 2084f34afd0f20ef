"""Keycloak mode (IDP=keycloak) against a real Keycloak: the realm, provisioning, passwords.

Each test gets a fresh realm imported from ``kepu_identity.realm`` (what the chart's
``KeycloakRealmImport`` carries), on the session's Keycloak server.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from kepu_common.errors import InvalidArgument, Unavailable
from kepu_devstack.keycloak import KeycloakServer
from kepu_devstack.ports import free_port
from kepu_identity import domain
from kepu_identity.keycloak_provisioner import (
    KeycloakProvisioner,
    KeycloakSettings,
    ProvisionItem,
)
from keycloak import KeycloakAdmin, KeycloakOpenID
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakPostError

pytestmark = pytest.mark.timeout(900)


def settings_for(server: KeycloakServer, realm: str, **overrides: Any) -> KeycloakSettings:
    from kepu_devstack.keycloak import ADMIN_USER

    values: dict[str, Any] = {
        "server_url": server.url,
        "realm": realm,
        "admin_username": ADMIN_USER,
        "admin_password": server.admin_password,
        "admin_mfa_required": True,
    }
    return KeycloakSettings(**{**values, **overrides})


@pytest.fixture
def provisioner(keycloak_server: KeycloakServer, keycloak_realm: str) -> KeycloakProvisioner:
    return KeycloakProvisioner(settings_for(keycloak_server, keycloak_realm))


@pytest.fixture
def admin(keycloak_server: KeycloakServer, keycloak_realm: str) -> KeycloakAdmin:
    return keycloak_server.admin(keycloak_realm)


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


def provision_nanyang(
    provisioner: KeycloakProvisioner, password: str = "Nanyang-2016!", **extra: Any
) -> str:
    return provisioner.ensure_user(
        "kx411300",
        password,
        tenant_id="7f0e6c1e-0000-4000-8000-411300000000",
        tenant_path="410000.411300",
        tenant_kind="city",
        tenant_code="411300",
        tenant_name="南阳市科学技术协会",
        roles=extra.pop("roles", ["admin"]),
        **extra,
    )


def oidc(
    server: KeycloakServer, realm: str, client_id: str = "kepu-cli", **kw: Any
) -> KeycloakOpenID:
    return KeycloakOpenID(server_url=server.url, realm_name=realm, client_id=client_id, **kw)


def claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_the_imported_realm_keeps_keycloaks_default_scopes_and_states_our_rules(
    admin: KeycloakAdmin, keycloak_realm: str
) -> None:
    scopes = {s["name"] for s in admin.get_client_scopes()}
    assert {"profile", "roles", "basic", "email"} <= scopes
    rep = admin.get_realm(keycloak_realm)
    assert rep["passwordPolicy"] == (
        "length(10) and maxLength(128) and notUsername and passwordHistory(5) and "
        f"regexPattern({domain.THREE_OF_FOUR_CLASSES})"
    )
    assert (rep["bruteForceProtected"], rep["failureFactor"]) == (True, 5)
    assert rep["maxFailureWaitSeconds"] == rep["waitIncrementSeconds"] == 900
    assert (rep["accessTokenLifespan"], rep["ssoSessionIdleTimeout"]) == (300, 1800)
    assert (rep["otpPolicyDigits"], rep["otpPolicyPeriod"]) == (6, 30)


def test_a_provisioned_city_admin_signs_in_with_role_and_tenant_claims_after_changing_password(
    keycloak_server: KeycloakServer,
    keycloak_realm: str,
    provisioner: KeycloakProvisioner,
    admin: KeycloakAdmin,
) -> None:
    user_id = provision_nanyang(provisioner, roles=["reviewer"])
    user = admin.get_user(user_id)
    assert user["requiredActions"] == ["UPDATE_PASSWORD"]  # a reviewer: no second factor
    assert user["attributes"]["tenant_path"] == ["410000.411300"]
    groups = admin.get_user_groups(user_id)
    assert [g["path"] for g in groups] == ["/410000/411300"]
    cli = oidc(keycloak_server, keycloak_realm)
    with pytest.raises(KeycloakPostError, match="not fully set up"):
        cli.token("kx411300", "Nanyang-2016!")  # the initial password must be changed first
    assert provisioner.check_password("kx411300", "Nanyang-2016!") == "not_set_up"

    provisioner.set_password("kx411300", "Chosen-2026#ny")

    token = cli.token("kx411300", "Chosen-2026#ny")["access_token"]
    c = claims(token)
    assert c["sub"] == user_id
    assert c["preferred_username"] == "kx411300"
    assert "reviewer" in c["realm_access"]["roles"]
    assert (c["tenant_path"], c["tenant_kind"], c["tenant_name"]) == (
        "410000.411300",
        "city",
        "南阳市科学技术协会",
    )
    assert "kepu-api" in c["aud"]
    assert c["iss"] == keycloak_server.public_url + f"/realms/{keycloak_realm}"


def test_an_admin_must_also_set_up_totp(
    provisioner: KeycloakProvisioner, admin: KeycloakAdmin
) -> None:
    user_id = provision_nanyang(provisioner)
    assert sorted(admin.get_user(user_id)["requiredActions"]) == [
        "CONFIGURE_TOTP",
        "UPDATE_PASSWORD",
    ]
    assert {r["name"] for r in admin.get_realm_roles_of_user(user_id)} >= {"admin"}


def test_keycloak_itself_refuses_a_password_of_two_character_classes(
    provisioner: KeycloakProvisioner,
) -> None:
    """Identity checks first (Chinese message); the realm's own policy is no weaker."""
    provision_nanyang(provisioner)
    with pytest.raises(InvalidArgument, match="至少三类"):
        domain.check_policy("alllowercase123", "kx411300")
    with pytest.raises(InvalidArgument, match="至少三类"):
        provisioner.set_password("kx411300", "alllowercase123")  # Keycloak's answer, translated
    with pytest.raises(InvalidArgument, match="至少 10 位"):
        provisioner.set_password("kx411300", "Kx4113#00")


def test_provisioning_again_creates_nothing_and_keeps_the_password(
    keycloak_server: KeycloakServer,
    keycloak_realm: str,
    provisioner: KeycloakProvisioner,
    admin: KeycloakAdmin,
) -> None:
    first = provision_nanyang(provisioner, roles=["reviewer"])
    provisioner.set_password("kx411300", "Chosen-2026#ny")
    again = provision_nanyang(provisioner, password="Another-2016!", roles=["reviewer"])
    fresh = provision_nanyang(
        KeycloakProvisioner(settings_for(keycloak_server, keycloak_realm)),
        password="Third-2016!",
        roles=["reviewer"],
    )
    assert again == first == fresh
    assert [u["username"] for u in admin.get_users()] == ["kx411300"]
    assert provisioner.check_password("kx411300", "Chosen-2026#ny") == "ok"


def test_an_interrupted_run_resumes_without_a_second_user_for_any_tenant(
    keycloak_server: KeycloakServer,
    keycloak_realm: str,
    provisioner: KeycloakProvisioner,
    admin: KeycloakAdmin,
) -> None:
    items = [county(code) for code in ("411302", "411303", "411321", "411322", "411323")]
    provisioner.provision_many(items[:3])  # the process died after three accounts
    # ... and a fourth user was created without its group (cut off between the two calls).
    admin.create_user({"username": "kx411322", "enabled": True})

    results = KeycloakProvisioner(settings_for(keycloak_server, keycloak_realm)).provision_many(
        items, batch_size=2
    )

    assert [r.error for r in results] == [None] * 5
    assert [r.created for r in results] == [False, False, False, False, True]
    users = {u["username"]: u for u in admin.get_users()}
    assert sorted(users) == sorted(i.username for i in items)
    for item in items:
        paths = [g["path"] for g in admin.get_user_groups(users[item.username]["id"])]
        assert paths == ["/" + item.tenant_path.replace(".", "/")]
    assert len(admin.get_group_by_path("/410000/411300")["subGroups"] or []) in (0, 5)


def test_a_rejected_item_is_reported_and_the_rest_go_on(
    provisioner: KeycloakProvisioner, admin: KeycloakAdmin
) -> None:
    bad = ProvisionItem(**{**county("411303").__dict__, "tenant_path": "410000.411300.411399"})
    results = provisioner.provision_many([county("411302"), bad, county("411321")])
    assert [r.error is None for r in results] == [True, False, True]
    assert results[1].error == "单位代码“411303”与单位路径不一致"
    assert admin.get_user_id("kx411303") is None


def test_reset_password_sets_a_new_temporary_password(
    keycloak_server: KeycloakServer, keycloak_realm: str, provisioner: KeycloakProvisioner
) -> None:
    provision_nanyang(provisioner, roles=["reviewer"])
    provisioner.set_password("kx411300", "Chosen-2026#ny")

    provisioner.reset_password("kx411300", "Reissued-2016!")

    assert provisioner.check_password("kx411300", "Chosen-2026#ny") == "invalid"
    assert provisioner.check_password("kx411300", "Reissued-2016!") == "not_set_up"


def test_set_roles_replaces_only_our_roles(
    keycloak_realm: str, provisioner: KeycloakProvisioner, admin: KeycloakAdmin
) -> None:
    user_id = provision_nanyang(provisioner)
    provisioner.set_roles("kx411300", ["reviewer", "viewer"])
    names = {r["name"] for r in admin.get_realm_roles_of_user(user_id)}
    assert {"reviewer", "viewer", f"default-roles-{keycloak_realm}"} <= names
    assert "admin" not in names
    with pytest.raises(InvalidArgument, match="未知的角色"):
        provisioner.set_roles("kx411300", ["superuser"])


def test_five_failures_lock_the_account_for_fifteen_minutes(
    keycloak_server: KeycloakServer, keycloak_realm: str, provisioner: KeycloakProvisioner
) -> None:
    provision_nanyang(provisioner, roles=["reviewer"])
    provisioner.set_password("kx411300", "Chosen-2026#ny")
    cli = oidc(keycloak_server, keycloak_realm)
    outcomes = [provisioner.check_password("kx411300", f"Wrong-guess-{i}") for i in range(5)]
    assert outcomes == ["invalid"] * 4 + ["lockout"]
    with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)):
        cli.token("kx411300", "Chosen-2026#ny")  # even the right password, while locked
    assert provisioner.check_password("kx411300", "Chosen-2026#ny") == "locked"


def test_a_partner_client_gets_a_client_credentials_token_with_its_tenant_and_scopes(
    keycloak_server: KeycloakServer, keycloak_realm: str, provisioner: KeycloakProvisioner
) -> None:
    provisioner.ensure_partner_client(
        "partner-411300-0a1b2c3d",
        "南阳农商银行",
        "first-secret-value",
        ["partner:talents:read"],
        tenant_id="t-411300",
        tenant_path="410000.411300",
        tenant_kind="city",
        tenant_code="411300",
        tenant_name="南阳市科学技术协会",
    )

    def bank(secret: str) -> KeycloakOpenID:
        return oidc(
            keycloak_server, keycloak_realm, "partner-411300-0a1b2c3d", client_secret_key=secret
        )

    c = claims(bank("first-secret-value").token(grant_type="client_credentials")["access_token"])
    assert "partner" in c["realm_access"]["roles"]
    assert c["tenant_path"] == "410000.411300"
    assert "partner:talents:read" in c["scope"].split()
    assert "partner:financing:write" not in c["scope"].split()

    provisioner.set_client_secret("partner-411300-0a1b2c3d", "rotated-secret-value")
    with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)):
        bank("first-secret-value").token(grant_type="client_credentials")
    bank("rotated-secret-value").token(grant_type="client_credentials")
    provisioner.disable_client("partner-411300-0a1b2c3d")
    with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)):
        bank("rotated-secret-value").token(grant_type="client_credentials")


def test_realm_setup_repairs_drift_and_is_idempotent(
    provisioner: KeycloakProvisioner, admin: KeycloakAdmin
) -> None:
    cli_uuid = admin.get_client_id("kepu-cli")
    mapper = next(m for m in admin.get_mappers_from_client(cli_uuid) if m["name"] == "tenant_path")
    admin.remove_client_mapper(cli_uuid, mapper["id"])  # a hand edit removed a claim

    provisioner.ensure_realm_setup()
    provisioner.ensure_realm_setup()

    names = [m["name"] for m in admin.get_mappers_from_client(cli_uuid)]
    assert names.count("tenant_path") == 1
    assert {"partner:talents:read", "partner:financing:write"} <= {
        s["name"] for s in admin.get_client_scopes()
    }


def test_wrong_admin_credentials_or_no_keycloak_are_chinese_unavailable_errors(
    keycloak_server: KeycloakServer, keycloak_realm: str, admin: KeycloakAdmin
) -> None:
    wrong = KeycloakProvisioner(
        settings_for(keycloak_server, keycloak_realm, admin_password="wrong")
    )
    with pytest.raises(Unavailable, match="拒绝了管理凭据"):
        provision_nanyang(wrong)
    nowhere = KeycloakProvisioner(
        settings_for(
            keycloak_server, keycloak_realm, server_url=f"http://127.0.0.1:{free_port()}/auth/"
        )
    )
    with pytest.raises(Unavailable, match="无法连接"):
        provision_nanyang(nowhere)
    assert "ConnectError" in (nowhere.unreachable() or "")  # the start-up check's one line
    assert wrong.unreachable() is None  # the realm itself answers
    assert admin.get_users() == []
    assert (
        httpx.get(keycloak_server.url + "realms/" + keycloak_realm, timeout=10).status_code == 200
    )
