"""A parent admin lifts the lockout of a child's account (REST through the gateway, audited);
nobody outside the branch can, and a viewer cannot."""

from __future__ import annotations

from kepu_common.db import Scope
from kepu_identity import repository as repo
from kepu_identity import seed

from .conftest import principal_of
from .test_identity_gateway import gateway, issuer, staff  # noqa: F401 - fixtures
from .test_oidc import TOKEN


def sign_in(oidc, username: str, password: str, address: str):
    return oidc.post(
        TOKEN,
        data={
            "grant_type": "password",
            "client_id": "kepu-cli",
            "username": username,
            "password": password,
        },
        headers={"X-Forwarded-For": address},
    )


def test_a_city_admin_unlocks_a_county_account_and_the_audit_log_says_so(
    ident,
    oidc,
    gateway,  # noqa: F811 - the fixture imported above
    issuer,  # noqa: F811
):
    seed.seed_admin(ident.db, "unlock_me", "Unlock@Me2026x", tenant_code="411524")  # 商城县
    for _ in range(5):
        sign_in(oidc, "unlock_me", "Wrong@Pass2026", "192.0.2.10")
    assert sign_in(oidc, "unlock_me", "Unlock@Me2026x", "192.0.2.10").status_code == 401
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        user = repo.user_by_username(s, "unlock_me")
    assert user is not None and user.locked

    path = f"/api/v1/users/{user.id}/unlock"
    outsider = gateway.post(path, headers=staff(ident, issuer, "411400"))  # 商丘: another branch
    assert outsider.status_code == 404
    city = principal_of(ident, "411500")  # 信阳市, the parent
    viewer = issuer.token(
        tenant_id=city.tenant_id,
        tenant_path=city.tenant_path,
        tenant_kind=city.tenant_kind,
        roles=("viewer",),
        username="xinyang-viewer",
    )
    assert gateway.post(path, headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    r = gateway.post(path, headers=staff(ident, issuer, "411500"))  # 信阳市, the parent
    assert r.status_code == 200 and r.json()["locked"] is False
    assert sign_in(oidc, "unlock_me", "Unlock@Me2026x", "192.0.2.11").status_code == 200

    with ident.db.unit_of_work(Scope.system_scope()) as s:
        entries = repo.audit_entries(s, "410000", repo.AuditFilter(action="account_unlocked"))[0]
    assert [(e.username, e.actor) for e in entries][:1] == [("unlock_me", "user-411500")]
