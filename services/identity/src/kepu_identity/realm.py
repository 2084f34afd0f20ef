"""THE realm: one definition of the ``kepu`` realm for Keycloak, from the rules identity enforces.

The embedded provider enforces the rules in ``passwords`` (length, 3 of 4 character classes,
not the username, history, lockout) and the token lifetimes of ``settings``; this module
states the same rules as a Keycloak ``RealmRepresentation``. It is used three ways:

- the local Keycloak of ``KEPU_IDP=keycloak`` imports it (``kepu_devstack.keycloak``);
- the identity service converges a running realm towards it (``KeycloakProvisioner``);
- the Helm chart's ``KeycloakRealmImport`` renders ``charts/kepu/files/realm-kepu.json``,
  which is this module's output (``python -m kepu_identity.realm > charts/kepu/files/realm-kepu.json``;
  a chart test fails when the file and this module disagree).

The import declares no ``clientScopes``: Keycloak creates its default scopes (``profile``,
``roles``, ``basic``, ``email`` ...) only when an import declares none, and without them tokens
carry no ``realm_access.roles``, ``preferred_username`` or ``sub``. Our claims come from
protocol mappers on each client instead; the partner scopes, which must be client scopes, are
created by the identity service through the admin API (``partner_client_scopes``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from . import domain
from .settings import ACCESS_TOKEN_SECONDS, SESSION_IDLE_SECONDS

REALM = "kepu"
PORTAL_CLIENT = "kepu-portal"
CLI_CLIENT = "kepu-cli"
API_AUDIENCE = "kepu-api"
ROLES = {
    "admin": "管理员：管理本单位及下级单位",
    "reviewer": "审核员：审核下级提交的材料",
    "reporter": "填报员：填报月报、人才、项目",
    "viewer": "查看者：只读",
    "platform_admin": "平台管理员",
    "partner": "合作机构（银行等）：只能访问 /partner/v1 接口",
}
STAFF_ROLES = tuple(r for r in ROLES if r != "partner")
# User attributes the identity service sets; all but the code become token claims (as the
# embedded provider's tokens carry them).
TENANT_ATTRIBUTES = ("tenant_id", "tenant_path", "tenant_kind", "tenant_code", "tenant_name")
TENANT_CLAIMS = ("tenant_id", "tenant_path", "tenant_kind", "tenant_name")
PARTNER_SCOPES = {
    "partner:talents:read": "读取已授权的科普人才（最少字段）",
    "partner:projects:read": "读取已授权的重点项目",
    "partner:financing:write": "回传融资结果",
}
# TOTP as pyotp computes it in ``accounts`` (SHA-1, 6 digits, 30 s, one step either side).
OTP_POLICY = {
    "otpPolicyType": "totp",
    "otpPolicyAlgorithm": "HmacSHA1",
    "otpPolicyDigits": 6,
    "otpPolicyPeriod": 30,
    "otpPolicyLookAheadWindow": 1,
    "otpPolicyCodeReusable": False,
}


def password_policy() -> str:
    """Keycloak's policy string for ``domain.check_policy`` (every rule, none weaker)."""
    return " and ".join(
        [
            f"length({domain.MIN_LENGTH})",
            f"maxLength({domain.MAX_LENGTH})",
            "notUsername",
            f"passwordHistory({domain.HISTORY})",
            f"regexPattern({domain.THREE_OF_FOUR_CLASSES})",
        ]
    )


def brute_force() -> dict[str, Any]:
    """``MAX_FAILURES`` failures lock the account for ``LOCK_MINUTES``, then it opens again."""
    lock = domain.LOCK_MINUTES * 60
    return {
        "bruteForceProtected": True,
        "permanentLockout": False,
        "failureFactor": domain.MAX_FAILURES,
        "waitIncrementSeconds": lock,
        "maxFailureWaitSeconds": lock,
        "maxDeltaTimeSeconds": lock,
        # No extra "quick login" lock: the embedded provider has none either.
        "quickLoginCheckMilliSeconds": 0,
        "minimumQuickLoginWaitSeconds": 0,
    }


# Sign-in events the identity worker reads back into the audit log (``keycloak_events``);
# kept 180 days, the retention 等保 asks of security logs.
EVENT_TYPES = (
    "LOGIN",
    "LOGIN_ERROR",
    "UPDATE_PASSWORD",
    "UPDATE_CREDENTIAL",
    "UPDATE_TOTP",
    "USER_DISABLED_BY_TEMPORARY_LOCKOUT",
    "USER_DISABLED_BY_PERMANENT_LOCKOUT",
    "LOGOUT",
)
EVENTS_EXPIRATION_SECONDS = 180 * 24 * 3600


def events_config() -> dict[str, Any]:
    """Keycloak stores these events so that sign-ins reach the one audit log."""
    return {
        "eventsEnabled": True,
        "eventsExpiration": EVENTS_EXPIRATION_SECONDS,
        "eventsListeners": ["jboss-logging"],
        "enabledEventTypes": list(EVENT_TYPES),
        "adminEventsEnabled": False,
        "adminEventsDetailsEnabled": False,
    }


def claim_mappers(audience: str = API_AUDIENCE) -> list[dict[str, Any]]:
    """Tenant claims from the user's attributes and the API audience, on every client."""
    mappers = [
        {
            "name": claim,
            "protocol": "openid-connect",
            "protocolMapper": "oidc-usermodel-attribute-mapper",
            "consentRequired": False,
            "config": {
                "user.attribute": claim,
                "claim.name": claim,
                "jsonType.label": "String",
                "access.token.claim": "true",
                "id.token.claim": "true",
                "userinfo.token.claim": "true",
                "introspection.token.claim": "true",
            },
        }
        for claim in TENANT_CLAIMS
    ]
    mappers.append(
        {
            "name": f"audience {audience}",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-audience-mapper",
            "consentRequired": False,
            "config": {
                "included.custom.audience": audience,
                "access.token.claim": "true",
                "id.token.claim": "false",
                "introspection.token.claim": "true",
            },
        }
    )
    return mappers


# Where the portal may be sent back after sign-in and sign-out: exact addresses, no wildcard
# (a wildcard lets any page of the origin, or a look-alike path, receive an authorization
# code). The portal is the single-page app under /app.
PORTAL_PATHS = ("/app/", "/app/callback", "/app/logged-out")


def portal_redirect_uris(base: str) -> list[str]:
    """The exact redirect URIs of ``kepu-portal`` for a gateway at ``base``."""
    return [base.rstrip("/") + path for path in PORTAL_PATHS]


def staff_clients(
    portal_redirect_uris: list[str], portal_web_origins: list[str], audience: str = API_AUDIENCE
) -> list[dict[str, Any]]:
    """``kepu-portal`` (code + PKCE) and ``kepu-cli`` (password grant), both public."""
    common: dict[str, Any] = {
        "enabled": True,
        "publicClient": True,
        "protocol": "openid-connect",
        "implicitFlowEnabled": False,
        "serviceAccountsEnabled": False,
        "fullScopeAllowed": True,
        "protocolMappers": claim_mappers(audience),
    }
    return [
        {
            **common,
            "clientId": PORTAL_CLIENT,
            "name": "科普云门户",
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "redirectUris": list(portal_redirect_uris),
            "webOrigins": list(portal_web_origins),
            "attributes": {
                "pkce.code.challenge.method": "S256",
                "post.logout.redirect.uris": "+",
            },
        },
        {
            **common,
            "clientId": CLI_CLIENT,
            "name": "科普云命令行与数据对接",
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": True,
            "attributes": {},
        },
    ]


def partner_client(
    client_id: str, name: str, secret: str, scopes: list[str], audience: str = API_AUDIENCE
) -> dict[str, Any]:
    """A bank's confidential client: client credentials only, its granted scopes by default."""
    return {
        "clientId": client_id,
        "name": name,
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "secret": secret,
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": True,
        "fullScopeAllowed": True,
        "protocolMappers": claim_mappers(audience),
        "defaultClientScopes": ["basic", "roles", *scopes],
        "optionalClientScopes": [],
        "attributes": {"client.secret.creation.time": "0"},
    }


def partner_client_scopes() -> list[dict[str, Any]]:
    """One client scope per partner permission; it appears in the token's ``scope``."""
    return [
        {
            "name": name,
            "description": description,
            "protocol": "openid-connect",
            "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "false"},
        }
        for name, description in PARTNER_SCOPES.items()
    ]


def user_profile() -> dict[str, Any]:
    """Keycloak's declarative user profile: names and e-mail optional, tenant attributes admin-only.

    Provisioned accounts have no names or e-mail, so none is required (Keycloak would stop the
    first sign-in with a profile form); Keycloak 24+ drops attributes the profile does not declare.
    """
    admin_only = {"view": ["admin", "user"], "edit": ["admin"]}
    editable = {"view": ["admin", "user"], "edit": ["admin", "user"]}
    attributes: list[dict[str, Any]] = [
        {
            "name": "username",
            "displayName": "${username}",
            "validations": {"length": {"min": 3, "max": 255}, "username-prohibited-characters": {}},
            "permissions": editable,
            "multivalued": False,
        },
        {
            "name": "email",
            "displayName": "${email}",
            "validations": {"email": {}, "length": {"max": 255}},
            "permissions": editable,
            "multivalued": False,
        },
        {
            "name": "firstName",
            "displayName": "${firstName}",
            "validations": {"length": {"max": 255}},
            "permissions": editable,
            "multivalued": False,
        },
        {
            "name": "lastName",
            "displayName": "${lastName}",
            "validations": {"length": {"max": 255}},
            "permissions": editable,
            "multivalued": False,
        },
    ]
    attributes += [
        {"name": name, "displayName": name, "permissions": admin_only, "multivalued": False}
        for name in TENANT_ATTRIBUTES
    ]
    return {"attributes": attributes, "groups": [], "unmanagedAttributePolicy": "ADMIN_VIEW"}


def realm_representation(
    *,
    realm: str = REALM,
    portal_redirect_uris: list[str] | None = None,
    portal_web_origins: list[str] | None = None,
    audience: str = API_AUDIENCE,
    access_token_seconds: int = ACCESS_TOKEN_SECONDS,
    session_idle_seconds: int = SESSION_IDLE_SECONDS,
) -> dict[str, Any]:
    """The realm as Keycloak imports it (``POST /admin/realms``, ``kc.sh import``, the operator)."""
    return {
        "realm": realm,
        "displayName": "科普云服务平台",
        "enabled": True,
        "defaultLocale": "zh-CN",
        "internationalizationEnabled": True,
        "supportedLocales": ["zh-CN", "en"],
        "sslRequired": "external",
        "registrationAllowed": False,
        "resetPasswordAllowed": False,
        "loginWithEmailAllowed": False,
        "duplicateEmailsAllowed": True,
        "editUsernameAllowed": False,
        "accessTokenLifespan": access_token_seconds,
        "ssoSessionIdleTimeout": session_idle_seconds,
        # Refresh tokens rotate: one use each, as in the embedded provider.
        "revokeRefreshToken": True,
        "refreshTokenMaxReuse": 0,
        "passwordPolicy": password_policy(),
        **brute_force(),
        **events_config(),
        **OTP_POLICY,
        "roles": {
            "realm": [{"name": name, "description": text} for name, text in ROLES.items()],
        },
        "clients": staff_clients(portal_redirect_uris or [], portal_web_origins or ["+"], audience),
        "components": {
            "org.keycloak.userprofile.UserProfileProvider": [
                {
                    "providerId": "declarative-user-profile",
                    "subComponents": {},
                    "config": {
                        "kc.user.profile.config": [json.dumps(user_profile(), ensure_ascii=False)]
                    },
                }
            ]
        },
    }


def main() -> int:
    """Print the realm for the chart (``charts/kepu/files/realm-kepu.json``)."""
    json.dump(realm_representation(), sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
