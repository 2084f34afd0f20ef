"""The chart's KeycloakRealmImport is THE realm of ``kepu_identity.realm``, nothing else.

One definition of the realm: identity's password rules, lockout, TOTP and token lifetimes,
rendered into ``charts/kepu/files/realm-kepu.json``; the chart only sets installation values.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import RELEASE, Rendered
from kepu_identity import domain
from kepu_identity.realm import portal_redirect_uris, realm_representation

REALM_FILE = Path(__file__).resolve().parents[2] / "charts" / "kepu" / "files" / "realm-kepu.json"


def test_the_charts_realm_file_is_the_output_of_kepu_identity_realm() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kepu_identity.realm"], capture_output=True, text=True, check=True
    ).stdout
    assert REALM_FILE.read_text(encoding="utf-8") == out, (
        "charts/kepu/files/realm-kepu.json is stale: run "
        "`uv run python -m kepu_identity.realm > charts/kepu/files/realm-kepu.json`"
    )


def test_the_rendered_import_is_the_realm_with_the_installations_values(umbrella: Rendered) -> None:
    imp = umbrella.named("KeycloakRealmImport", f"{RELEASE}-keycloak-realm-kepu")
    assert imp["spec"]["keycloakCRName"] == umbrella.of_kind("Keycloak")[0]["metadata"]["name"]
    expected = realm_representation(
        portal_redirect_uris=portal_redirect_uris("https://kepu.example.cn"),
        portal_web_origins=["https://kepu.example.cn"],
    )
    assert json.loads(json.dumps(imp["spec"]["realm"])) == json.loads(json.dumps(expected))


def test_the_import_keeps_keycloaks_default_scopes_and_carries_our_claims(
    umbrella: Rendered,
) -> None:
    realm = umbrella.named("KeycloakRealmImport", f"{RELEASE}-keycloak-realm-kepu")["spec"]["realm"]
    # Declaring any clientScopes would stop Keycloak from creating profile, roles and basic.
    assert "clientScopes" not in realm
    for client in realm["clients"]:
        assert "defaultClientScopes" not in client
        claims = {m["config"].get("claim.name") for m in client["protocolMappers"]}
        assert {"tenant_id", "tenant_path", "tenant_kind"} <= claims
        audiences = {m["config"].get("included.custom.audience") for m in client["protocolMappers"]}
        assert "kepu-api" in audiences
    assert {r["name"] for r in realm["roles"]["realm"]} >= {
        "admin",
        "reviewer",
        "reporter",
        "viewer",
        "platform_admin",
        "partner",
    }


def test_the_password_policy_is_every_rule_of_identity_none_weaker(umbrella: Rendered) -> None:
    realm = umbrella.named("KeycloakRealmImport", f"{RELEASE}-keycloak-realm-kepu")["spec"]["realm"]
    policy = realm["passwordPolicy"]
    assert f"length({domain.MIN_LENGTH})" in policy
    assert f"passwordHistory({domain.HISTORY})" in policy
    assert "notUsername" in policy
    regex = re.search(r"regexPattern\((.*)\)$", policy)
    assert regex, policy
    # Keycloak's regexPattern and identity's check are the same expression.
    assert regex.group(1) == domain.THREE_OF_FOUR_CLASSES
    for weak in ("onlylowercase1", "ONLYUPPER123", "lower-and-#"):
        assert re.fullmatch(regex.group(1), weak) is None  # two classes: refused
    assert re.fullmatch(regex.group(1), "Mixed-case-1") is not None
    assert (realm["failureFactor"], realm["maxFailureWaitSeconds"]) == (
        domain.MAX_FAILURES,
        domain.LOCK_MINUTES * 60,
    )
    assert realm["otpPolicyType"] == "totp" and realm["otpPolicyDigits"] == 6
