"""Credential distribution: once per tenant, resumable, never stored in clear."""

import pytest
from kepu_common.db import Scope
from kepu_common.errors import InvalidArgument, PermissionDenied
from kepu_identity import repository as repo
from kepu_identity.credentials import CredentialDistributor
from kepu_identity.oidc.accounts import SignInFailed
from sqlalchemy import text

from .conftest import principal_of


def admins_under(ident, path):
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        return s.execute(
            text(
                "SELECT count(*), count(DISTINCT tenant_id) FROM users WHERE is_tenant_admin"
                " AND tenant_path <@ CAST(:p AS ltree) AND tenant_path <> CAST(:p AS ltree)"
            ),
            {"p": path},
        ).one()


def test_an_interrupted_distribution_resumes_and_never_issues_two_accounts(ident):
    city = principal_of(ident, "411300")  # 南阳: 13 counties
    crashing = CredentialDistributor(
        ident.db, ident.sealer, login_url="http://kepu.test/", fail_after=5
    )
    with pytest.raises(RuntimeError, match="simulated"):
        crashing.distribute(city, city.tenant_id, "children")
    issued_before, _ = admins_under(ident, city.tenant_path)
    assert (
        issued_before == 0 or issued_before % 50 == 0 or issued_before < 13
    )  # chunk rolled back or kept

    result = ident.distributor.distribute(city, city.tenant_id, "children")
    total, distinct = admins_under(ident, city.tenant_path)
    assert total == distinct == 13
    assert len(result.issued) == 13  # the resumed run still delivers every password once
    again = ident.distributor.distribute(city, city.tenant_id, "children")
    assert again.issued == [] and again.skipped == 13


def test_initial_passwords_are_not_kept_after_delivery(ident):
    city = principal_of(ident, "410200")  # 开封
    result = ident.distributor.distribute(city, city.tenant_id, "children")
    assert result.issued
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        sealed = s.execute(
            text("SELECT count(*) FROM credential_items WHERE sealed_password IS NOT NULL")
        ).scalar()
        hashes = s.execute(
            text("SELECT password_hash FROM users WHERE username = :u"),
            {"u": result.issued[0].username},
        ).scalar()
    assert sealed == 0
    assert hashes.startswith("$argon2id$") and result.issued[0].password not in hashes


def test_only_an_admin_of_the_tenant_itself_distributes(ident):
    reviewer = principal_of(ident, "410300", roles=("reviewer",))
    with pytest.raises(PermissionDenied):
        ident.distributor.distribute(reviewer, reviewer.tenant_id, "children")
    province = principal_of(ident, "410000")
    county = principal_of(ident, "410302")
    with pytest.raises(PermissionDenied):  # the province may see the county but not act as it
        ident.distributor.distribute(province, county.tenant_id, "children")


@pytest.mark.timeout(900)
def test_keycloak_mode_distribution_provisions_each_county_into_the_realm(
    ident, identity_db, keycloak_server, keycloak_realm
):
    """IDP=keycloak: accounts go to a real Keycloak realm with a temporary password, and the
    account password API changes it there under our policy."""
    from kepu_devstack.keycloak import ADMIN_USER
    from keycloak import KeycloakOpenID
    from keycloak.exceptions import KeycloakPostError

    from .conftest import make_identity

    kc_ident = make_identity(
        identity_db,
        IDP="keycloak",
        KEYCLOAK_URL=keycloak_server.url,
        KEYCLOAK_REALM=keycloak_realm,
        KEYCLOAK_ADMIN_USER=ADMIN_USER,
        KEYCLOAK_ADMIN_PASSWORD=keycloak_server.admin_password,
    )
    city = principal_of(kc_ident, "411600")  # 周口
    result = kc_ident.distributor.distribute(city, city.tenant_id, "children")
    admin = keycloak_server.admin(keycloak_realm)
    users = {u["username"]: u for u in admin.get_users({"briefRepresentation": False})}
    assert result.issued
    for row in result.issued:
        user = users[row.username]
        assert "UPDATE_PASSWORD" in user["requiredActions"]
        assert user["attributes"]["tenant_code"] == [row.tenant_code]
    assert len(result.issued) == len([u for u in users if u.startswith("kx4116")])

    row = result.issued[0]
    cli = KeycloakOpenID(
        server_url=keycloak_server.url, realm_name=keycloak_realm, client_id="kepu-cli"
    )
    with pytest.raises(KeycloakPostError, match="not fully set up"):
        cli.token(row.username, row.password)
    with pytest.raises(InvalidArgument, match="至少三类"):  # ours, before Keycloak sees it
        kc_ident.accounts.change_password(row.username, row.password, "onlylower12345")
    with pytest.raises(SignInFailed):
        kc_ident.accounts.change_password(row.username, "not-the-password", "Chosen-2026#zk")
    kc_ident.accounts.change_password(row.username, row.password, "Chosen-2026#zk")
    assert cli.token(row.username, "Chosen-2026#zk")["access_token"]
    # the wrong current password was a failed sign-in at Keycloak: it reaches the audit log
    # from Keycloak's events, as the identity worker's feed reads them
    from kepu_identity.keycloak_events import KeycloakEventFeed
    from kepu_identity.keycloak_provisioner import KeycloakProvisioner, KeycloakSettings

    realm = KeycloakProvisioner(KeycloakSettings.from_identity_settings(kc_ident.settings))
    KeycloakEventFeed(kc_ident.db, realm).poll_once()
    with kc_ident.db.unit_of_work(Scope.system_scope()) as s:
        actions = [
            e.action
            for e in repo.audit_entries(s, city.tenant_path, repo.AuditFilter(limit=200))[0]
        ]
    assert {"password_changed", "login_failure"} <= set(actions)
