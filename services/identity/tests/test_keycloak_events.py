"""Keycloak mode: sign-ins, failures and lockouts at a real Keycloak reach the audit log.

An auditor reads one audit log whichever provider signs people in: the realm stores its
events and the identity worker's feed turns them into the same entries the embedded provider
writes (``login``, ``login_failure``, ``lockout``, ``login_blocked``), once each, in the
account's tenant, with Keycloak's time and source address.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from kepu_common.db import Scope
from kepu_devstack.keycloak import KeycloakServer
from kepu_identity import messages
from kepu_identity import repository as repo
from kepu_identity.keycloak_events import KeycloakEventFeed
from kepu_identity.keycloak_provisioner import KeycloakProvisioner

from .test_keycloak_provisioner import settings_for

pytestmark = pytest.mark.timeout(900)


def password_grant(server: KeycloakServer, realm: str, username: str, password: str) -> int:
    r = httpx.post(
        f"{server.url}realms/{realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "kepu-cli",
            "username": username,
            "password": password,
            "scope": "openid",
        },
        timeout=30,
    )
    return r.status_code


def entries(ident, path: str, username: str) -> list[tuple[str, str, str]]:
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        rows, _ = repo.audit_entries(s, path, repo.AuditFilter(username=username, limit=50))
    return [(r.action, r.client_ip, r.tenant_path) for r in reversed(rows)]


def test_keycloak_sign_ins_failures_and_lockout_are_audit_entries(
    keycloak_server: KeycloakServer, keycloak_realm: str, ident
) -> None:
    provisioner = KeycloakProvisioner(settings_for(keycloak_server, keycloak_realm))
    provisioner.ensure_realm_setup()
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        city = repo.get_tenant_by_code(s, "410700")
    assert city is not None
    username = f"kx{uuid.uuid4().hex[:8]}"
    provisioner.ensure_user(
        username,
        "Init-Pw-2026x",
        tenant_id=city.id,
        tenant_path=city.path,
        tenant_kind=city.kind,
        tenant_code=city.code,
        tenant_name=city.name,
        roles=["reporter"],
    )
    provisioner.set_password(username, "Good-Pw-2026x")
    before = datetime.now(UTC) - timedelta(seconds=5)

    assert password_grant(keycloak_server, keycloak_realm, username, "Good-Pw-2026x") == 200
    for _ in range(5):
        assert password_grant(keycloak_server, keycloak_realm, username, "wrong-pw") == 401
    # locked now: even the right password is refused, and that attempt is recorded too
    assert password_grant(keycloak_server, keycloak_realm, username, "Good-Pw-2026x") == 401
    assert password_grant(keycloak_server, keycloak_realm, "nobody-" + username, "x") == 401

    feed = KeycloakEventFeed(ident.db, provisioner)
    written = feed.poll_once()
    got = entries(ident, city.path, username)
    actions = [a for a, _ip, _p in got]
    assert actions == ["login"] + ["login_failure"] * 5 + ["lockout", "login_blocked"], got
    assert written == 8
    assert all(ip == "127.0.0.1" and path == city.path for _a, ip, path in got)
    # the attempt on an unknown name is no tenant's entry (as with the embedded provider)
    assert entries(ident, "410000", "nobody-" + username) == []

    # a second poll (or a restarted worker reading everything again) writes nothing twice
    assert feed.poll_once() == 0
    assert KeycloakEventFeed(ident.db, provisioner).poll_once() == 0
    assert len(entries(ident, city.path, username)) == 8

    # the auditor's view: in time, with the words of the 说明 column
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        rows, total = repo.audit_entries(
            s, "410000", repo.AuditFilter(username=username, action="lockout", since=before)
        )
    assert total == 1
    assert messages.describe(rows[0].action, rows[0].username, {}) == (
        f"{username} 连续登录失败，账号被临时锁定"
    )
    assert rows[0].occurred_at >= before
