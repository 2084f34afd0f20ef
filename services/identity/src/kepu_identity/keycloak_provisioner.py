"""Provisioning of accounts into a real Keycloak realm (``IDP=keycloak``, SPEC section 2).

In Keycloak mode the identity service stays the source of truth for tenants and
accounts, and mirrors each account into the realm with python-keycloak's
``KeycloakAdmin``: the user (temporary password, required action UPDATE_PASSWORD,
tenant attributes), one group per tenant along the tenant path (``/410000/411300``)
and the realm roles. Every step looks up before it creates, so a run that was cut off
(Keycloak creates a user in ~200 ms; a province is ~2,600 tenants) can simply be run
again: it finishes what is missing and never creates a second user for one account.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kepu_common.errors import DomainError, InvalidArgument, NotFound, Unavailable
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import (
    KeycloakAuthenticationError,
    KeycloakConnectionError,
    KeycloakError,
    KeycloakGetError,
    KeycloakPostError,
)

OUR_ROLES = ("admin", "reviewer", "reporter", "viewer", "platform_admin")
USER_ATTRIBUTES = ("tenant_id", "tenant_path", "tenant_kind", "tenant_code")
TOKEN_CLAIMS = ("tenant_id", "tenant_path", "tenant_kind")
PORTAL_CLIENT = "kepu-portal"
CLI_CLIENT = "kepu-cli"
_PATH_RE = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


@dataclass(frozen=True)
class KeycloakSettings:
    """Where the realm is and how the service signs in to the admin API."""

    server_url: str  # e.g. http://keycloak:8080/ (Keycloak 17+) or http://host/auth/
    realm: str = "kepu"
    admin_realm: str = "master"
    admin_username: str | None = None
    admin_password: str | None = None
    admin_client_id: str = "admin-cli"
    admin_client_secret: str | None = None  # set for a service-account client instead
    admin_mfa_required: bool = True
    portal_redirect_uris: tuple[str, ...] = ("*",)
    api_audience: str = "kepu-api"
    verify_tls: bool = True
    timeout: int = 30

    @classmethod
    def from_identity_settings(cls, settings: Any) -> KeycloakSettings:
        """Build from ``kepu_identity.settings.IdentitySettings`` (missing fields default)."""
        redirects = tuple(
            u.strip() for u in str(getattr(settings, "portal_redirect_uris", "")).split(",")
        )
        return cls(
            server_url=settings.keycloak_url,
            realm=getattr(settings, "keycloak_realm", "kepu"),
            admin_realm=getattr(settings, "keycloak_admin_realm", "master"),
            admin_username=getattr(settings, "keycloak_admin_user", None) or None,
            admin_password=getattr(settings, "keycloak_admin_password", None) or None,
            admin_client_id=getattr(settings, "keycloak_admin_client_id", "admin-cli"),
            admin_client_secret=getattr(settings, "keycloak_admin_client_secret", None) or None,
            admin_mfa_required=bool(getattr(settings, "mfa_required", True)),
            portal_redirect_uris=tuple(u for u in redirects if u) or ("*",),
            api_audience=getattr(settings, "oidc_audience", "kepu-api"),
        )


@dataclass(frozen=True)
class ProvisionItem:
    """One account to mirror into Keycloak (one row of the distribution sheet)."""

    username: str
    temporary_password: str
    tenant_id: str
    tenant_path: str  # ltree form, 410000.411300
    tenant_kind: str
    tenant_code: str
    tenant_name: str
    roles: tuple[str, ...] | list[str]
    email: str | None = None


@dataclass
class ProvisionResult:
    """``created`` is False when the user already existed: its password was left alone."""

    username: str
    user_id: str | None = None
    created: bool = False
    error: str | None = None


@dataclass
class _Cache:
    group_ids: dict[str, str] = field(default_factory=dict)  # group path -> id
    settled_groups: set[str] = field(default_factory=set)  # leaf groups with tenant attributes
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> representation


@contextmanager
def _keycloak_errors() -> Iterator[None]:
    """Turn python-keycloak failures into domain errors with a Chinese detail."""
    try:
        yield
    except KeycloakConnectionError as exc:
        raise Unavailable("无法连接统一身份认证服务（Keycloak），请稍后重试") from exc
    except KeycloakAuthenticationError as exc:
        raise Unavailable("统一身份认证服务（Keycloak）拒绝了管理凭据，请检查配置") from exc
    except KeycloakError as exc:
        code = exc.response_code or 0
        if code >= 500 or code == 0:
            raise Unavailable(
                f"统一身份认证服务（Keycloak）出错（HTTP {code}），请稍后重试"
            ) from exc
        raise InvalidArgument(
            f"统一身份认证服务（Keycloak）拒绝了请求（HTTP {code}）：{exc.error_message!s}"
        ) from exc


def _status(exc: KeycloakError) -> int:
    return int(exc.response_code or 0)


class KeycloakProvisioner:
    """Idempotent provisioning of tenants' accounts into the Keycloak realm."""

    def __init__(self, settings: KeycloakSettings, admin: KeycloakAdmin | None = None) -> None:
        self.settings = settings
        self._admin = admin or KeycloakAdmin(connection=self._connection(settings))
        self._cache = _Cache()
        self._realm_ready = False

    @staticmethod
    def _connection(settings: KeycloakSettings) -> KeycloakOpenIDConnection:
        server_url = settings.server_url.rstrip("/") + "/"  # urljoin drops a last segment
        return KeycloakOpenIDConnection(
            server_url=server_url,
            username=settings.admin_username,
            password=settings.admin_password,
            realm_name=settings.realm,
            user_realm_name=settings.admin_realm,
            client_id=settings.admin_client_id,
            client_secret_key=settings.admin_client_secret,
            verify=settings.verify_tls,
            timeout=settings.timeout,
        )

    # ---- accounts --------------------------------------------------------------------
    def ensure_user(
        self,
        username: str,
        temporary_password: str,
        *,
        tenant_id: str,
        tenant_path: str,
        tenant_kind: str,
        tenant_code: str,
        tenant_name: str,
        roles: Sequence[str],
        email: str | None = None,
    ) -> str:
        """Create the user unless it exists and complete its group and roles; its Keycloak id.

        An existing user keeps its password (reset it with ``reset_password``).
        """
        item = ProvisionItem(
            username=username,
            temporary_password=temporary_password,
            tenant_id=tenant_id,
            tenant_path=tenant_path,
            tenant_kind=tenant_kind,
            tenant_code=tenant_code,
            tenant_name=tenant_name,
            roles=list(roles),
            email=email,
        )
        user_id, _created = self._ensure(item)
        return user_id

    def reset_password(self, username: str, temporary_password: str) -> None:
        """Give the user a new temporary password; the next sign-in must change it."""
        with _keycloak_errors():
            user_id = self._user_id(username)
            self._admin.set_user_password(user_id, temporary_password, temporary=True)
            user = self._admin.get_user(user_id)
            actions = list(user.get("requiredActions") or [])
            if "UPDATE_PASSWORD" not in actions:  # Keycloak adds it itself; older ones did not
                self._admin.update_user(user_id, {"requiredActions": [*actions, "UPDATE_PASSWORD"]})

    def set_roles(self, username: str, roles: Sequence[str]) -> None:
        """Make the user's realm roles among ours exactly ``roles``; other roles stay."""
        wanted = set(self._checked_roles(roles))
        with _keycloak_errors():
            self._ensure_ready()
            user_id = self._user_id(username)
            current = {r["name"] for r in self._admin.get_realm_roles_of_user(user_id)}
            to_add = sorted(wanted - current)
            to_remove = sorted((current & set(OUR_ROLES)) - wanted)
            if to_add:
                self._admin.assign_realm_roles(user_id, [self._role(n) for n in to_add])
            if to_remove:
                self._admin.delete_realm_roles_of_user(user_id, [self._role(n) for n in to_remove])

    def provision_many(
        self,
        items: Iterable[ProvisionItem],
        batch_size: int = 50,
        on_progress: Callable[[list[ProvisionResult]], None] | None = None,
    ) -> list[ProvisionResult]:
        """Provision ``items`` in batches; ``on_progress`` gets each batch's results.

        An item Keycloak rejects gets its Chinese ``error`` and the run goes on. When
        Keycloak is unavailable, the finished part of the batch is reported and the
        ``Unavailable`` error propagates: run the same items again to resume.
        """
        results: list[ProvisionResult] = []
        batch: list[ProvisionResult] = []

        def flush() -> None:
            if batch and on_progress is not None:
                on_progress(list(batch))
            batch.clear()

        for item in items:
            result = ProvisionResult(item.username)
            try:
                result.user_id, result.created = self._ensure(item)
            except Unavailable as exc:
                result.error = exc.detail
                results.append(result)
                batch.append(result)
                flush()
                raise
            except DomainError as exc:
                result.error = exc.detail
            results.append(result)
            batch.append(result)
            if len(batch) >= batch_size:
                flush()
        flush()
        return results

    def _ensure(self, item: ProvisionItem) -> tuple[str, bool]:
        roles = self._checked_roles(item.roles)
        codes = self._checked_path(item)
        with _keycloak_errors():
            self._ensure_ready()
            created = False
            user_id = self._admin.get_user_id(item.username)
            if user_id is None:
                try:
                    user_id = self._admin.create_user(self._user_payload(item, roles))
                    created = True
                except KeycloakPostError as exc:
                    if _status(exc) != 409:  # 409: created by an earlier, cut-off attempt
                        raise
                    user_id = self._user_id(item.username)
            self._admin.group_user_add(user_id, self._tenant_group(item, codes))
            current = {r["name"] for r in self._admin.get_realm_roles_of_user(user_id)}
            missing = [name for name in roles if name not in current]
            if missing:
                self._admin.assign_realm_roles(user_id, [self._role(n) for n in missing])
            return user_id, created

    def _user_payload(self, item: ProvisionItem, roles: list[str]) -> dict[str, Any]:
        actions = ["UPDATE_PASSWORD"]
        if "admin" in roles and self.settings.admin_mfa_required:
            actions.append("CONFIGURE_TOTP")
        payload: dict[str, Any] = {
            "username": item.username,
            "enabled": True,
            "credentials": [
                {"type": "password", "value": item.temporary_password, "temporary": True}
            ],
            "requiredActions": actions,
            "attributes": {
                "tenant_id": [item.tenant_id],
                "tenant_path": [item.tenant_path],
                "tenant_kind": [item.tenant_kind],
                "tenant_code": [item.tenant_code],
            },
        }
        if item.email:
            payload["email"] = item.email
        return payload

    def _user_id(self, username: str) -> str:
        user_id = self._admin.get_user_id(username)
        if user_id is None:
            raise NotFound(f"统一身份认证服务中没有用户“{username}”")
        return str(user_id)

    @staticmethod
    def _checked_roles(roles: Sequence[str]) -> list[str]:
        unknown = [r for r in roles if r not in OUR_ROLES]
        if unknown:
            raise InvalidArgument(f"未知的角色：{'、'.join(unknown)}")
        return list(dict.fromkeys(roles))

    @staticmethod
    def _checked_path(item: ProvisionItem) -> list[str]:
        if not _PATH_RE.match(item.tenant_path):
            raise InvalidArgument(f"单位路径“{item.tenant_path}”格式不正确")
        codes = item.tenant_path.split(".")
        if codes[-1] != item.tenant_code:
            raise InvalidArgument(f"单位代码“{item.tenant_code}”与单位路径不一致")
        return codes

    # ---- groups (one per tenant, nested like the tenant tree) -----------------------
    def _tenant_group(self, item: ProvisionItem, codes: list[str]) -> str:
        parent_id: str | None = None
        for depth in range(1, len(codes) + 1):
            path = "/" + "/".join(codes[:depth])
            attributes = {
                "tenant_path": [".".join(codes[:depth])],
                "tenant_code": [codes[depth - 1]],
            }
            if depth == len(codes):
                attributes.update(
                    tenant_id=[item.tenant_id],
                    tenant_kind=[item.tenant_kind],
                    tenant_name=[item.tenant_name],
                )
            parent_id = self._group(path, codes[depth - 1], parent_id, attributes)
        assert parent_id is not None
        return parent_id

    def _group(
        self, path: str, name: str, parent_id: str | None, attributes: dict[str, list[str]]
    ) -> str:
        """Find or create the group at ``path``; the leaf gets the tenant's attributes."""
        leaf = "tenant_id" in attributes
        cached = self._cache.group_ids.get(path)
        if cached and (not leaf or path in self._cache.settled_groups):
            return cached
        try:
            group: dict[str, Any] | None = self._admin.get_group_by_path(path)
        except KeycloakGetError as exc:
            if _status(exc) != 404:
                raise
            group = None
        if group is None:
            payload = {"name": name, "attributes": attributes}
            try:
                group_id = self._admin.create_group(payload, parent=parent_id)
            except KeycloakPostError as exc:
                if _status(exc) != 409:
                    raise
                group_id = None
            if group_id is None:  # a sibling with that name appeared meanwhile
                group_id = str(self._admin.get_group_by_path(path)["id"])
        else:
            group_id = str(group["id"])
            present = group.get("attributes") or {}
            if any(present.get(k) != v for k, v in attributes.items()):
                merged = {**present, **attributes}
                self._admin.update_group(group_id, {"name": group["name"], "attributes": merged})
        self._cache.group_ids[path] = str(group_id)
        if leaf:
            self._cache.settled_groups.add(path)
        return str(group_id)

    # ---- realm configuration --------------------------------------------------------
    def _ensure_ready(self) -> None:
        if not self._realm_ready:
            self.ensure_realm_setup()

    def _role(self, name: str) -> dict[str, Any]:
        if name not in self._cache.roles:
            self._cache.roles[name] = self._admin.get_realm_role(name)
        return self._cache.roles[name]

    def ensure_realm_setup(self) -> None:
        """Realm roles, user profile, the two public clients and their token mappers."""
        with _keycloak_errors():
            for name in OUR_ROLES:
                self._admin.create_realm_role(
                    {"name": name, "description": f"Kepu Cloud {name}"}, skip_exists=True
                )
                self._role(name)
            self._ensure_user_profile()
            for client in self._client_definitions():
                client_uuid = self._ensure_client(client)
                self._ensure_token_mappers(client_uuid)
        self._realm_ready = True

    def _ensure_user_profile(self) -> None:
        """Declare the tenant attributes (admin-only edits; Keycloak 24 drops undeclared ones).

        Provisioned accounts have no names or e-mail, so those are not required (Keycloak
        would otherwise stop the first sign-in with a profile form).
        """
        profile = self._admin.get_realm_users_profile()
        attributes: list[dict[str, Any]] = profile.setdefault("attributes", [])
        changed = False
        for attr in attributes:
            if attr.get("name") in ("email", "firstName", "lastName") and "required" in attr:
                del attr["required"]
                changed = True
        declared = {a.get("name") for a in attributes}
        for name in USER_ATTRIBUTES:
            if name not in declared:
                attributes.append(
                    {
                        "name": name,
                        "displayName": name,
                        "permissions": {"view": ["admin", "user"], "edit": ["admin"]},
                        "multivalued": False,
                    }
                )
                changed = True
        if changed:
            self._admin.update_realm_users_profile(profile)

    def _client_definitions(self) -> list[dict[str, Any]]:
        common = {
            "enabled": True,
            "publicClient": True,
            "protocol": "openid-connect",
            "implicitFlowEnabled": False,
            "serviceAccountsEnabled": False,
        }
        portal = {
            **common,
            "clientId": PORTAL_CLIENT,
            "name": "科普云门户",
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "redirectUris": list(self.settings.portal_redirect_uris),
            "webOrigins": ["+"],
            "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
        }
        cli = {
            **common,
            "clientId": CLI_CLIENT,
            "name": "科普云命令行",
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": True,
            "attributes": {},
        }
        return [portal, cli]

    def _ensure_client(self, wanted: dict[str, Any]) -> str:
        client_uuid = self._admin.get_client_id(wanted["clientId"])
        if client_uuid is None:
            return str(self._admin.create_client(wanted, skip_exists=True))
        current = self._admin.get_client(client_uuid)
        attrs = {**(current.get("attributes") or {}), **wanted["attributes"]}
        drift = any(current.get(k) != v for k, v in wanted.items() if k != "attributes")
        if drift or attrs != (current.get("attributes") or {}):
            current.pop("protocolMappers", None)
            self._admin.update_client(client_uuid, {**current, **wanted, "attributes": attrs})
        return str(client_uuid)

    def _ensure_token_mappers(self, client_uuid: str) -> None:
        present = {m.get("name") for m in self._admin.get_mappers_from_client(client_uuid)}
        for mapper in self._token_mappers():
            if mapper["name"] not in present:
                self._admin.add_mapper_to_client(client_uuid, mapper)

    def _token_mappers(self) -> list[dict[str, Any]]:
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
            for claim in TOKEN_CLAIMS
        ]
        mappers.append(
            {
                "name": f"{self.settings.api_audience} audience",
                "protocol": "openid-connect",
                "protocolMapper": "oidc-audience-mapper",
                "consentRequired": False,
                "config": {
                    "included.custom.audience": self.settings.api_audience,
                    "access.token.claim": "true",
                    "id.token.claim": "false",
                    "introspection.token.claim": "true",
                },
            }
        )
        return mappers
