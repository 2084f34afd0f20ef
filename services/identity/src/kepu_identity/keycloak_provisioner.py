"""Provisioning of accounts into a real Keycloak realm (``IDP=keycloak``, SPEC section 2).

In Keycloak mode the identity service stays the source of truth for tenants and
accounts, and mirrors each account into the realm with python-keycloak's
``KeycloakAdmin``: the user (temporary password, required action UPDATE_PASSWORD,
tenant attributes), one group per tenant along the tenant path (``/410000/411300``)
and the realm roles. Every step looks up before it creates, so a run that was cut off
(Keycloak creates a user in ~200 ms; a province is ~2,600 tenants) can simply be run
again: it finishes what is missing and never creates a second user for one account.

Why one module over ~400 lines: it is one client of one remote API (Keycloak's admin REST
API), and every public step (users, groups, roles, partner clients, the realm's own set-up)
shares the same connection, caches, error mapping (``_keycloak_errors``) and look-up-before-
create helpers; split by step, each part would need all of those and none would read alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from kepu_common.errors import DomainError, InvalidArgument, NotFound, Unavailable
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import (
    KeycloakAuthenticationError,
    KeycloakConnectionError,
    KeycloakError,
    KeycloakGetError,
    KeycloakPostError,
)

from . import domain, realm

OUR_ROLES = realm.STAFF_ROLES
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


class TenantLike(Protocol):
    """A tenant row or record: what an account in the realm carries of its tenant."""

    @property
    def id(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...


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
    temporary: bool = True  # False only for a demo account whose password is documented


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


# Keycloak's password-policy errors (``invalidPassword...Message``) in the portal's words.
_POLICY_MESSAGES = {
    "invalidPasswordHistoryMessage": f"新密码不能与最近 {domain.HISTORY} 次使用过的密码相同。",
    "invalidPasswordMinLengthMessage": f"密码长度至少 {domain.MIN_LENGTH} 位。",
    "invalidPasswordMaxLengthMessage": f"密码长度不能超过 {domain.MAX_LENGTH} 位。",
    "invalidPasswordNotUsernameMessage": "密码不能与用户名相同。",
    "invalidPasswordRegexPatternMessage": "密码须包含大写字母、小写字母、数字、特殊字符中的至少三类。",
}


def _policy_message(exc: KeycloakError) -> str:
    body = exc.response_body.decode("utf-8", "replace") if exc.response_body else ""
    for key, message in _POLICY_MESSAGES.items():
        if key in body:
            return message
    return "新密码不符合密码策略。"


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
        temporary: bool = True,
        reset_existing: bool = False,
    ) -> str:
        """Create the user unless it exists and complete its group and roles; its Keycloak id.

        An existing user keeps its password unless ``reset_existing`` (then it gets this
        one as a new temporary password). With ``temporary=False`` (the local demo admin) the
        first sign-in needs no change.
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
            temporary=temporary,
        )
        user_id, created = self._ensure(item)
        if reset_existing and not created:
            self.reset_password(username, temporary_password)
        return user_id

    def ensure_account(
        self,
        username: str,
        password: str,
        tenant: TenantLike,
        roles: Sequence[str],
        *,
        temporary: bool = True,
        reset_existing: bool = False,
    ) -> str:
        """``ensure_user`` for an account of ``tenant`` (distributed, bootstrap or demo admin)."""
        return self.ensure_user(
            username,
            password,
            tenant_id=tenant.id,
            tenant_path=tenant.path,
            tenant_kind=tenant.kind,
            tenant_code=tenant.code,
            tenant_name=tenant.name,
            roles=roles,
            temporary=temporary,
            reset_existing=reset_existing,
        )

    # ---- passwords (the account password API in Keycloak mode) ------------------------------
    def check_password(self, username: str, password: str) -> str:
        """``ok``, ``not_set_up`` (right password, required actions pending), ``invalid``,
        ``lockout`` (this failure locked the account) or ``locked`` (it was locked), by a
        password grant of ``kepu-cli``: a failure counts for Keycloak's brute-force detection
        as a sign-in does. A session the check opens is ended at once."""
        if self.locked(username):
            return "locked"
        url = f"{self._realm_url()}/protocol/openid-connect/token"
        form = {
            "grant_type": "password",
            "client_id": realm.CLI_CLIENT,
            "username": username,
            "password": password,
            "scope": "openid",
        }
        try:
            r = httpx.post(url, data=form, timeout=self.settings.timeout)
        except httpx.HTTPError as exc:
            raise Unavailable("无法连接统一身份认证服务（Keycloak），请稍后重试") from exc
        if r.status_code == 200:
            refresh = r.json().get("refresh_token")
            if refresh:
                httpx.post(
                    f"{self._realm_url()}/protocol/openid-connect/logout",
                    data={"client_id": realm.CLI_CLIENT, "refresh_token": refresh},
                    timeout=self.settings.timeout,
                )
            return "ok"
        if r.status_code >= 500:
            raise Unavailable(
                f"统一身份认证服务（Keycloak）出错（HTTP {r.status_code}），请稍后重试"
            )
        description = str((r.json() if r.content else {}).get("error_description", ""))
        if "not fully set up" in description:
            return "not_set_up"
        return "lockout" if self.locked(username) else "invalid"

    def locked(self, username: str) -> bool:
        """True while Keycloak's brute-force detection holds the account."""
        with _keycloak_errors():
            user_id = self._admin.get_user_id(username)
            if user_id is None:
                return False
            return bool(self._admin.get_bruteforce_detection_status(user_id).get("disabled"))

    def set_password(self, username: str, password: str) -> None:
        """Set a permanent password and clear UPDATE_PASSWORD (Keycloak checks its history)."""
        with _keycloak_errors():
            user_id = self._user_id(username)
            try:
                self._admin.set_user_password(user_id, password, temporary=False)
            except KeycloakError as exc:
                if _status(exc) == 400:
                    raise InvalidArgument(_policy_message(exc)) from exc
                raise
            user = self._admin.get_user(user_id)
            actions = [a for a in user.get("requiredActions") or [] if a != "UPDATE_PASSWORD"]
            if actions != list(user.get("requiredActions") or []):
                self._admin.update_user(user_id, {"requiredActions": actions})

    def events(self, since_ms: int, first: int, page: int) -> list[dict[str, Any]]:
        """Stored sign-in events from ``since_ms`` on (Keycloak answers newest first)."""
        with _keycloak_errors():
            return list(
                self._admin.get_events(
                    {
                        "type": list(realm.EVENT_TYPES),
                        "dateFrom": str(since_ms),
                        "first": first,
                        "max": page,
                    }
                )
            )

    def user_attributes(self, user_id: str) -> dict[str, str]:
        """A user's single-valued attributes (its tenant), or {} for a deleted user."""
        with _keycloak_errors():
            try:
                user = self._admin.get_user(user_id)
            except KeycloakError as exc:
                if _status(exc) == 404:
                    return {}
                raise
        attrs = user.get("attributes") or {}
        found = {k: str(v[0]) for k, v in attrs.items() if isinstance(v, list) and v}
        found["username"] = str(user.get("username", ""))
        return found

    def unreachable(self) -> str | None:
        """None when the realm answers; otherwise why not, in one line (start-up check)."""
        try:
            r = httpx.get(self._realm_url(), timeout=5)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if r.status_code == 200 else f"HTTP {r.status_code}"

    def _realm_url(self) -> str:
        return f"{self.settings.server_url.rstrip('/')}/realms/{self.settings.realm}"

    # ---- partners: confidential clients with a service account --------------------------------
    def ensure_partner_client(
        self,
        client_id: str,
        name: str,
        secret: str,
        scopes: Sequence[str],
        *,
        tenant_id: str,
        tenant_path: str,
        tenant_kind: str,
        tenant_code: str,
        tenant_name: str,
    ) -> None:
        """The bank's client (client credentials), its service account carrying the tenant."""
        unknown = [x for x in scopes if x not in realm.PARTNER_SCOPES]
        if unknown:
            raise InvalidArgument(f"未知的接口权限：{'、'.join(unknown)}")
        with _keycloak_errors():
            self._ensure_ready()
            wanted = realm.partner_client(
                client_id, name, secret, list(scopes), self.settings.api_audience
            )
            client_uuid = self._admin.get_client_id(client_id)
            if client_uuid is None:
                client_uuid = self._admin.create_client(wanted, skip_exists=True)
            account = self._admin.get_client_service_account_user(client_uuid)
            attributes = {
                "tenant_id": [tenant_id],
                "tenant_path": [tenant_path],
                "tenant_kind": [tenant_kind],
                "tenant_code": [tenant_code],
                "tenant_name": [tenant_name],
            }
            if (account.get("attributes") or {}) != attributes:
                self._admin.update_user(account["id"], {**account, "attributes": attributes})
            current = {r["name"] for r in self._admin.get_realm_roles_of_user(account["id"])}
            if "partner" not in current:
                self._admin.assign_realm_roles(account["id"], [self._role("partner")])

    def set_client_secret(self, client_id: str, secret: str) -> None:
        with _keycloak_errors():
            client_uuid = self._client_uuid(client_id)
            current = self._admin.get_client(client_uuid)
            current.pop("protocolMappers", None)
            self._admin.update_client(client_uuid, {**current, "secret": secret})

    def disable_client(self, client_id: str) -> None:
        with _keycloak_errors():
            client_uuid = self._admin.get_client_id(client_id)
            if client_uuid is None:
                return
            current = self._admin.get_client(client_uuid)
            if current.get("enabled"):
                current.pop("protocolMappers", None)
                self._admin.update_client(client_uuid, {**current, "enabled": False})

    def _client_uuid(self, client_id: str) -> str:
        client_uuid = self._admin.get_client_id(client_id)
        if client_uuid is None:
            raise NotFound(f"统一身份认证服务中没有客户端“{client_id}”")
        return str(client_uuid)

    def reset_password(self, username: str, temporary_password: str) -> None:
        """Give the user a new temporary password; the next sign-in must change it."""
        with _keycloak_errors():
            user_id = self._user_id(username)
            self._admin.set_user_password(user_id, temporary_password, temporary=True)
            user = self._admin.get_user(user_id)
            actions = list(user.get("requiredActions") or [])
            if "UPDATE_PASSWORD" not in actions:  # Keycloak adds it itself; older ones did not
                self._admin.update_user(user_id, {"requiredActions": [*actions, "UPDATE_PASSWORD"]})

    def unlock(self, username: str) -> None:
        """Clear Keycloak's brute-force lockout of the user (an admin's unlock)."""
        with _keycloak_errors():
            self._ensure_ready()
            self._admin.clear_bruteforce_attempts_for_user(self._user_id(username))

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
        actions = ["UPDATE_PASSWORD"] if item.temporary else []
        if "admin" in roles and self.settings.admin_mfa_required:
            actions.append("CONFIGURE_TOTP")
        payload: dict[str, Any] = {
            "username": item.username,
            "enabled": True,
            "credentials": [
                {
                    "type": "password",
                    "value": item.temporary_password,
                    "temporary": item.temporary,
                }
            ],
            "requiredActions": actions,
            "attributes": {
                "tenant_id": [item.tenant_id],
                "tenant_path": [item.tenant_path],
                "tenant_kind": [item.tenant_kind],
                "tenant_code": [item.tenant_code],
                "tenant_name": [item.tenant_name],
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
        """Converge the running realm towards ``realm.py``: roles, user profile, clients, scopes.

        The realm import creates all of it on a new install; this repairs drift (an older
        import, a hand edit) and adds the partner client scopes, which an import cannot
        declare without losing Keycloak's default scopes.
        """
        with _keycloak_errors():
            for name, description in realm.ROLES.items():
                self._admin.create_realm_role(
                    {"name": name, "description": description}, skip_exists=True
                )
                self._role(name)
            self._ensure_user_profile()
            self._admin.set_events(realm.events_config())
            for client in realm.staff_clients(
                list(self.settings.portal_redirect_uris), ["+"], self.settings.api_audience
            ):
                self._ensure_client(client)
            present = {s["name"] for s in self._admin.get_client_scopes()}
            for scope in realm.partner_client_scopes():
                if scope["name"] not in present:
                    self._admin.create_client_scope(scope, skip_exists=True)
        self._realm_ready = True

    def _ensure_user_profile(self) -> None:
        """Declare every tenant attribute and require no name or e-mail (see ``realm.user_profile``)."""
        profile = self._admin.get_realm_users_profile()
        attributes: list[dict[str, Any]] = profile.setdefault("attributes", [])
        changed = False
        for attr in attributes:
            if attr.get("name") in ("email", "firstName", "lastName") and "required" in attr:
                del attr["required"]
                changed = True
        declared = {a.get("name") for a in attributes}
        for wanted in realm.user_profile()["attributes"]:
            if wanted["name"] not in declared:
                attributes.append(wanted)
                changed = True
        if changed:
            self._admin.update_realm_users_profile(profile)

    def _ensure_client(self, wanted: dict[str, Any]) -> str:
        """Create the client, or bring its settings and protocol mappers to ``wanted``."""
        mappers = wanted.get("protocolMappers", [])
        client_uuid = self._admin.get_client_id(wanted["clientId"])
        if client_uuid is None:
            return str(self._admin.create_client(wanted, skip_exists=True))
        current = self._admin.get_client(client_uuid)
        settings = {k: v for k, v in wanted.items() if k not in ("protocolMappers", "secret")}
        attrs = {**(current.get("attributes") or {}), **settings.get("attributes", {})}
        drift = any(current.get(k) != v for k, v in settings.items() if k != "attributes")
        if drift or attrs != (current.get("attributes") or {}):
            current.pop("protocolMappers", None)
            self._admin.update_client(client_uuid, {**current, **settings, "attributes": attrs})
        present = {m.get("name") for m in self._admin.get_mappers_from_client(client_uuid)}
        for mapper in mappers:
            if mapper["name"] not in present:
                self._admin.add_mapper_to_client(client_uuid, mapper)
        return str(client_uuid)
