"""An in-memory stand-in for Keycloak's admin REST API (Keycloak 24+ URL layout).

No Keycloak server runs on the development machines, so the tests of the identity
service's Keycloak mode (``IDP=keycloak``) talk to this app instead. It answers the
endpoints that ``KeycloakAdmin`` (python-keycloak 7) uses for provisioning the way
Keycloak documents them: the admin token comes from the ``master`` realm's token
endpoint, every ``/admin/...`` call without a valid bearer token is 401, creations
answer 201 with a ``Location`` header, duplicates 409 with Keycloak's ``errorMessage``,
and a temporary password adds the ``UPDATE_PASSWORD`` required action.

Like Keycloak 24's declarative user profile, custom user attributes are only kept
when the realm's user profile declares them (or allows unmanaged attributes).

Every request is recorded (``state.requests``) and failures can be injected
(``state.fail(...)``) so tests can check what a client did and how it resumes.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from .ports import wait_port

Json = dict[str, Any]
BUILTIN_CLIENTS = ("account", "account-console", "admin-cli", "broker", "realm-management")


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the configured prefix, e.g. /admin/realms/kepu/users
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class FailureRule:
    """Answer the ``nth`` matching request (1-based) with ``status``.

    ``after_effect=True`` performs the request first and loses the answer, like a
    timeout after Keycloak committed.
    """

    method: str
    path_pattern: str
    nth: int
    status: int = 500
    after_effect: bool = False
    seen: int = 0


def _default_profile() -> Json:
    def attr(name: str, required: bool) -> Json:
        a: Json = {
            "name": name,
            "displayName": "${" + name + "}",
            "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]},
            "validations": {"length": {"max": 255}},
        }
        if required:
            a["required"] = {"roles": ["user"]}
        return a

    return {
        "attributes": [
            attr("username", False),
            attr("email", True),
            attr("firstName", True),
            attr("lastName", True),
        ],
        "groups": [{"name": "user-metadata", "displayHeader": "User metadata"}],
    }


@dataclass
class RealmState:
    name: str
    users: dict[str, Json] = field(default_factory=dict)
    credentials: dict[str, Json] = field(default_factory=dict)  # user id -> password credential
    user_roles: dict[str, set[str]] = field(default_factory=dict)  # user id -> role ids
    user_groups: dict[str, set[str]] = field(default_factory=dict)  # user id -> group ids
    groups: dict[str, Json] = field(default_factory=dict)
    roles: dict[str, Json] = field(default_factory=dict)  # role name -> representation
    clients: dict[str, Json] = field(default_factory=dict)
    profile: Json = field(default_factory=_default_profile)

    def __post_init__(self) -> None:
        for name in ("offline_access", "uma_authorization", f"default-roles-{self.name}"):
            self.add_role({"name": name})
        for client_id in BUILTIN_CLIENTS:
            self.add_client({"clientId": client_id})

    def add_role(self, body: Json) -> Json:
        role = {
            "id": str(uuid.uuid4()),
            "name": body["name"],
            "description": body.get("description", ""),
            "composite": False,
            "clientRole": False,
            "containerId": self.name,
            "attributes": body.get("attributes", {}),
        }
        self.roles[role["name"]] = role
        return role

    def add_client(self, body: Json) -> Json:
        client: Json = {
            "enabled": True,
            "publicClient": False,
            "standardFlowEnabled": True,
            "implicitFlowEnabled": False,
            "directAccessGrantsEnabled": False,
            "serviceAccountsEnabled": False,
            "redirectUris": [],
            "webOrigins": [],
            "attributes": {},
            "protocol": "openid-connect",
            **body,
        }
        client["id"] = str(uuid.uuid4())
        client["protocolMappers"] = []
        self.clients[client["id"]] = client
        return client

    def role_by_id(self, role_id: str) -> Json | None:
        return next((r for r in self.roles.values() if r["id"] == role_id), None)

    def user_by_name(self, username: str) -> Json | None:
        name = username.lower()
        return next((u for u in self.users.values() if u["username"] == name), None)

    def keeps_attribute(self, name: str) -> bool:
        declared = {a["name"] for a in self.profile.get("attributes", [])}
        policy = self.profile.get("unmanagedAttributePolicy")
        return name in declared or policy in ("ENABLED", "ADMIN_EDIT")

    def filtered_attributes(self, attributes: Json) -> dict[str, list[str]]:
        kept: dict[str, list[str]] = {}
        for key, value in attributes.items():
            if self.keeps_attribute(key):
                kept[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        return kept

    def password_of(self, username: str) -> Json | None:
        """The stored password credential (value + temporary) of a user; tests only."""
        user = self.user_by_name(username)
        return self.credentials.get(user["id"]) if user else None


@dataclass
class StandinState:
    admin_users: dict[str, str]  # master realm admin username -> password
    service_clients: dict[str, str]  # confidential client id -> secret (client_credentials)
    token_lifespan: int = 60
    realms: dict[str, RealmState] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry
    refresh_tokens: dict[str, float] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[FailureRule] = field(default_factory=list)

    def realm(self, name: str) -> RealmState:
        return self.realms[name]

    def fail(
        self,
        method: str,
        path_pattern: str,
        nth: int,
        *,
        status: int = 500,
        after_effect: bool = False,
    ) -> None:
        """Answer the nth request matching ``method`` and the regex ``path_pattern`` with an error."""
        self.failures.append(FailureRule(method.upper(), path_pattern, nth, status, after_effect))

    def revoke_tokens(self) -> None:
        """Forget every issued token, as if the admin session expired."""
        self.access_tokens.clear()
        self.refresh_tokens.clear()

    def calls(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """Recorded requests with this method whose path fully matches the regex."""
        rx = re.compile(path_pattern)
        return [r for r in self.requests if r.method == method and rx.fullmatch(r.path)]


def _error(status: int, message: str, key: str = "errorMessage") -> JSONResponse:
    return JSONResponse({key: message}, status_code=status)


def _created(request: Request, new_id: str) -> Response:
    location = str(request.url).split("?")[0].rstrip("/") + "/" + new_id
    return Response(status_code=201, headers={"Location": location})


def _window(items: list[Json], request: Request) -> list[Json]:
    first = int(request.query_params.get("first", 0))
    size = int(request.query_params.get("max", 100))
    return items[first : first + size]


def _flag(request: Request, name: str, default: bool) -> bool:
    value = request.query_params.get(name)
    return default if value is None else value.lower() == "true"


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw else None


def build_app(state: StandinState, prefix: str = "") -> Starlette:
    """The Starlette app answering Keycloak's token and admin endpoints under ``prefix``."""

    def realm_of(request: Request) -> RealmState | JSONResponse:
        realm = state.realms.get(request.path_params["realm"])
        return realm if realm else _error(404, "Realm not found.", "error")

    # ---- token endpoint -------------------------------------------------------------
    async def token(request: Request) -> Response:
        form = await request.form()
        grant = str(form.get("grant_type", ""))
        client_id = str(form.get("client_id", ""))
        if request.path_params["realm"] != "master":
            return _error(401, "Invalid client or Invalid client credentials", "error")
        refresh = True
        if grant == "password":
            if client_id != "admin-cli":
                return _error(401, "invalid_client", "error")
            username, password = str(form.get("username", "")), str(form.get("password", ""))
            if state.admin_users.get(username) != password:
                body = {"error": "invalid_grant", "error_description": "Invalid user credentials"}
                return JSONResponse(body, status_code=401)
        elif grant == "client_credentials":
            if state.service_clients.get(client_id) != form.get("client_secret"):
                body = {
                    "error": "unauthorized_client",
                    "error_description": "Invalid client or Invalid client credentials",
                }
                return JSONResponse(body, status_code=401)
            refresh = False  # Keycloak gives service accounts no refresh token
        elif grant == "refresh_token":
            if str(form.get("refresh_token")) not in state.refresh_tokens:
                body = {"error": "invalid_grant", "error_description": "Token is not active"}
                return JSONResponse(body, status_code=400)
        else:
            body = {"error": "unsupported_grant_type", "error_description": "Unsupported grant"}
            return JSONResponse(body, status_code=400)
        now = time.time()
        access = secrets.token_urlsafe(32)
        state.access_tokens[access] = now + state.token_lifespan
        answer: Json = {
            "access_token": access,
            "expires_in": state.token_lifespan,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "profile email",
        }
        if refresh:
            rt = secrets.token_urlsafe(32)
            state.refresh_tokens[rt] = now + 1800
            answer.update(
                refresh_token=rt, refresh_expires_in=1800, session_state=str(uuid.uuid4())
            )
        else:
            answer["refresh_expires_in"] = 0
        return JSONResponse(answer)

    # ---- users ----------------------------------------------------------------------
    def user_view(realm: RealmState, user: Json, brief: bool) -> Json:
        view = {k: v for k, v in user.items() if k != "attributes"}
        if not brief and user.get("attributes"):
            view["attributes"] = user["attributes"]
        return view

    def matching_users(realm: RealmState, request: Request) -> list[Json]:
        q = request.query_params
        exact = _flag(request, "exact", False)
        users = sorted(realm.users.values(), key=lambda u: u["createdTimestamp"])
        for key in ("username", "email", "firstName", "lastName"):
            wanted = q.get(key)
            if wanted is not None:
                w = wanted.lower()
                users = [
                    u
                    for u in users
                    if (str(u.get(key) or "").lower() == w)
                    or (not exact and w in str(u.get(key) or "").lower())
                ]
        if q.get("search"):
            s = q["search"].lower().strip("*")
            users = [u for u in users if s in u["username"] or s in str(u.get("email") or "")]
        if q.get("q"):
            for pair in q["q"].split():
                key, _, value = pair.partition(":")
                users = [u for u in users if value in u.get("attributes", {}).get(key, [])]
        return users

    async def users(request: Request) -> Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        if request.method == "GET":
            brief = _flag(request, "briefRepresentation", False)
            found = _window(matching_users(realm, request), request)
            return JSONResponse([user_view(realm, u, brief) for u in found])
        body = await _json(request) or {}
        username = str(body.get("username") or "").lower()
        if not username:
            return _error(400, "User name is missing")
        if realm.user_by_name(username):
            return _error(409, "User exists with same username")
        user: Json = {
            "id": str(uuid.uuid4()),
            "username": username,
            "firstName": body.get("firstName"),
            "lastName": body.get("lastName"),
            "email": body.get("email"),
            "emailVerified": bool(body.get("emailVerified", False)),
            "createdTimestamp": int(time.time() * 1000) + len(realm.users),
            "enabled": bool(body.get("enabled", False)),
            "totp": False,
            "requiredActions": list(body.get("requiredActions") or []),
            "notBefore": 0,
            "attributes": realm.filtered_attributes(body.get("attributes") or {}),
        }
        user = {k: v for k, v in user.items() if v is not None}
        realm.users[user["id"]] = user
        default_role = realm.roles[f"default-roles-{realm.name}"]["id"]
        realm.user_roles[user["id"]] = {default_role}
        realm.user_groups[user["id"]] = set()
        for cred in body.get("credentials") or []:
            if cred.get("type") == "password":
                set_password(user, realm, cred)
        return _created(request, user["id"])

    def set_password(user: Json, realm: RealmState, cred: Json) -> None:
        temporary = bool(cred.get("temporary", False))
        realm.credentials[user["id"]] = {
            "type": "password",
            "value": cred["value"],
            "temporary": temporary,
            "createdDate": int(time.time() * 1000),
        }
        actions: list[str] = user["requiredActions"]
        if temporary and "UPDATE_PASSWORD" not in actions:
            actions.append("UPDATE_PASSWORD")
        if not temporary and "UPDATE_PASSWORD" in actions:
            actions.remove("UPDATE_PASSWORD")

    async def users_count(request: Request) -> Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        return JSONResponse(len(matching_users(realm, request)))

    async def users_profile(request: Request) -> Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        if request.method == "PUT":
            realm.profile = await _json(request) or {}
        return JSONResponse(realm.profile)

    def find_user(request: Request) -> tuple[RealmState, Json] | Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        user = realm.users.get(request.path_params["id"])
        return (realm, user) if user else _error(404, "User not found", "error")

    async def user(request: Request) -> Response:
        found = find_user(request)
        if isinstance(found, Response):
            return found
        realm, user = found
        if request.method == "GET":
            return JSONResponse(user_view(realm, user, brief=False))
        if request.method == "DELETE":
            for table in (realm.users, realm.credentials, realm.user_roles, realm.user_groups):
                table.pop(user["id"], None)
            return Response(status_code=204)
        body = await _json(request) or {}
        if "username" in body and str(body["username"]).lower() != user["username"]:
            if realm.user_by_name(str(body["username"])):
                return _error(409, "User exists with same username")
            user["username"] = str(body["username"]).lower()
        for key in ("firstName", "lastName", "email", "enabled", "emailVerified"):
            if key in body:
                user[key] = body[key]
        if "requiredActions" in body:
            user["requiredActions"] = list(body["requiredActions"])
        if "attributes" in body:
            user["attributes"] = realm.filtered_attributes(body["attributes"] or {})
        return Response(status_code=204)

    async def reset_password(request: Request) -> Response:
        found = find_user(request)
        if isinstance(found, Response):
            return found
        realm, user = found
        cred = await _json(request) or {}
        if not cred.get("value"):
            return _error(400, "Missing password", "error")
        set_password(user, realm, cred)
        return Response(status_code=204)

    async def user_realm_roles(request: Request) -> Response:
        found = find_user(request)
        if isinstance(found, Response):
            return found
        realm, user = found
        mapped = realm.user_roles[user["id"]]
        if request.method == "GET":
            roles = [r for r in realm.roles.values() if r["id"] in mapped]
            return JSONResponse(roles)
        reps = await _json(request) or []
        for rep in reps:
            role = realm.role_by_id(str(rep.get("id")))
            if role is None:
                return _error(404, "Role not found", "error")
            if request.method == "POST":
                mapped.add(role["id"])
            else:
                mapped.discard(role["id"])
        return Response(status_code=204)

    # ---- groups ---------------------------------------------------------------------
    def group_view(realm: RealmState, group: Json, brief: bool) -> Json:
        children = [g for g in realm.groups.values() if g.get("parentId") == group["id"]]
        view = {k: v for k, v in group.items() if k != "attributes"}
        view.update(subGroupCount=len(children), subGroups=[])
        if not brief:
            view.update(attributes=group["attributes"], realmRoles=[], clientRoles={})
        return view

    def new_group(realm: RealmState, body: Json, parent: Json | None) -> Json | Response:
        name = str(body.get("name") or "")
        if not name:
            return _error(400, "Group name is missing")
        parent_id = parent["id"] if parent else None
        if any(g["name"] == name and g.get("parentId") == parent_id for g in realm.groups.values()):
            if parent is None:
                return _error(409, f"Top level group named '{name}' already exists.")
            return _error(409, f"Sibling group named '{name}' already exists.")
        group: Json = {
            "id": str(uuid.uuid4()),
            "name": name,
            "path": (parent["path"] if parent else "") + "/" + name,
            "attributes": {k: list(v) for k, v in (body.get("attributes") or {}).items()},
        }
        if parent is not None:
            group["parentId"] = parent["id"]
        realm.groups[group["id"]] = group
        return group

    async def groups(request: Request) -> Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        if request.method == "GET":
            brief = _flag(request, "briefRepresentation", True)
            top = [g for g in realm.groups.values() if "parentId" not in g]
            search = request.query_params.get("search")
            if search:
                top = [g for g in top if search.lower() in g["name"].lower()]
            return JSONResponse([group_view(realm, g, brief) for g in _window(top, request)])
        made = new_group(realm, await _json(request) or {}, None)
        return made if isinstance(made, Response) else _created(request, made["id"])

    def find_group(request: Request) -> tuple[RealmState, Json] | Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        group = realm.groups.get(request.path_params["id"])
        return (realm, group) if group else _error(404, "Could not find group by id", "error")

    async def group(request: Request) -> Response:
        found = find_group(request)
        if isinstance(found, Response):
            return found
        realm, group = found
        if request.method == "GET":
            return JSONResponse(group_view(realm, group, brief=False))
        body = await _json(request) or {}
        if "attributes" in body:
            group["attributes"] = {k: list(v) for k, v in (body["attributes"] or {}).items()}
        return Response(status_code=204)

    async def group_children(request: Request) -> Response:
        found = find_group(request)
        if isinstance(found, Response):
            return found
        realm, parent = found
        if request.method == "GET":
            brief = _flag(request, "briefRepresentation", False)
            kids = [g for g in realm.groups.values() if g.get("parentId") == parent["id"]]
            return JSONResponse([group_view(realm, g, brief) for g in _window(kids, request)])
        made = new_group(realm, await _json(request) or {}, parent)
        if isinstance(made, Response):
            return made
        location = str(request.url).split("/groups/")[0] + "/groups/" + made["id"]
        return Response(status_code=201, headers={"Location": location})

    async def group_by_path(request: Request) -> Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        wanted = "/" + request.path_params["path"].strip("/")
        group = next((g for g in realm.groups.values() if g["path"] == wanted), None)
        if group is None:
            return _error(404, "Group path does not exist", "error")
        return JSONResponse(group_view(realm, group, brief=False))

    async def user_groups(request: Request) -> Response:
        found = find_user(request)
        if isinstance(found, Response):
            return found
        realm, user = found
        member_of = realm.user_groups[user["id"]]
        views = [group_view(realm, realm.groups[g], brief=True) for g in sorted(member_of)]
        return JSONResponse(_window(views, request))

    async def user_group(request: Request) -> Response:
        found = find_user(request)
        if isinstance(found, Response):
            return found
        realm, user = found
        group_id = request.path_params["group_id"]
        if group_id not in realm.groups:
            return _error(404, "Could not find group by id", "error")
        if request.method == "PUT":
            realm.user_groups[user["id"]].add(group_id)
        else:
            realm.user_groups[user["id"]].discard(group_id)
        return Response(status_code=204)

    # ---- roles ----------------------------------------------------------------------
    async def roles(request: Request) -> Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        if request.method == "GET":
            listed = list(realm.roles.values())
            search = request.query_params.get("search")
            if search:
                listed = [r for r in listed if search.lower() in r["name"].lower()]
            return JSONResponse(_window(listed, request))
        body = await _json(request) or {}
        if not body.get("name"):
            return _error(400, "Role name is missing")
        if body["name"] in realm.roles:
            return _error(409, f"Role with name {body['name']} already exists")
        realm.add_role(body)
        return _created(request, body["name"])

    async def role(request: Request) -> Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        found = realm.roles.get(request.path_params["name"])
        return JSONResponse(found) if found else _error(404, "Could not find role", "error")

    # ---- clients and protocol mappers -----------------------------------------------
    async def clients(request: Request) -> Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        if request.method == "GET":
            listed = list(realm.clients.values())
            wanted = request.query_params.get("clientId")
            if wanted is not None:
                listed = [c for c in listed if c["clientId"] == wanted]
            return JSONResponse(_window(listed, request))
        body = await _json(request) or {}
        if not body.get("clientId"):
            return _error(400, "Client id is missing")
        if any(c["clientId"] == body["clientId"] for c in realm.clients.values()):
            return _error(409, f"Client {body['clientId']} already exists")
        mappers = body.pop("protocolMappers", None) or []
        made = realm.add_client(body)
        for mapper in mappers:
            made["protocolMappers"].append({**mapper, "id": str(uuid.uuid4())})
        return _created(request, made["id"])

    def find_client(request: Request) -> Json | Response:
        realm = realm_of(request)
        if isinstance(realm, Response):
            return realm
        client = realm.clients.get(request.path_params["id"])
        return client if client else _error(404, "Could not find client", "error")

    async def client(request: Request) -> Response:
        found = find_client(request)
        if isinstance(found, Response):
            return found
        if request.method == "GET":
            return JSONResponse(found)
        body = await _json(request) or {}
        body.pop("id", None)
        body.pop("protocolMappers", None)
        found.update(body)
        return Response(status_code=204)

    async def client_mappers(request: Request) -> Response:
        found = find_client(request)
        if isinstance(found, Response):
            return found
        if request.method == "GET":
            return JSONResponse(found["protocolMappers"])
        body = await _json(request) or {}
        if any(m["name"] == body.get("name") for m in found["protocolMappers"]):
            return _error(409, "Protocol mapper exists with same name")
        mapper = {**body, "id": str(uuid.uuid4())}
        found["protocolMappers"].append(mapper)
        return _created(request, mapper["id"])

    admin = prefix + "/admin/realms/{realm}"
    routes = [
        Route(prefix + "/realms/{realm}/protocol/openid-connect/token", token, methods=["POST"]),
        Route(f"{admin}/users", users, methods=["GET", "POST"]),
        Route(f"{admin}/users/count", users_count, methods=["GET"]),
        Route(f"{admin}/users/profile", users_profile, methods=["GET", "PUT"]),
        Route(f"{admin}/users/{{id}}", user, methods=["GET", "PUT", "DELETE"]),
        Route(f"{admin}/users/{{id}}/reset-password", reset_password, methods=["PUT"]),
        Route(
            f"{admin}/users/{{id}}/role-mappings/realm",
            user_realm_roles,
            methods=["GET", "POST", "DELETE"],
        ),
        Route(f"{admin}/users/{{id}}/groups", user_groups, methods=["GET"]),
        Route(f"{admin}/users/{{id}}/groups/{{group_id}}", user_group, methods=["PUT", "DELETE"]),
        Route(f"{admin}/groups", groups, methods=["GET", "POST"]),
        Route(f"{admin}/groups/{{id}}", group, methods=["GET", "PUT"]),
        Route(f"{admin}/groups/{{id}}/children", group_children, methods=["GET", "POST"]),
        Route(f"{admin}/group-by-path/{{path:path}}", group_by_path, methods=["GET"]),
        Route(f"{admin}/roles", roles, methods=["GET", "POST"]),
        Route(f"{admin}/roles/{{name}}", role, methods=["GET"]),
        Route(f"{admin}/clients", clients, methods=["GET", "POST"]),
        Route(f"{admin}/clients/{{id}}", client, methods=["GET", "PUT"]),
        Route(
            f"{admin}/clients/{{id}}/protocol-mappers/models",
            client_mappers,
            methods=["GET", "POST"],
        ),
    ]
    return Starlette(routes=routes)


class _Recorder:
    """ASGI wrapper: bearer check on /admin, request recording, failure injection."""

    def __init__(self, app: Starlette, state: StandinState, prefix: str) -> None:
        self.app, self.state, self.prefix = app, state, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        path = scope["path"].removeprefix(self.prefix)
        query = dict(Request(scope).query_params)
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        record = RecordedRequest(scope["method"], path, query, body)
        self.state.requests.append(record)

        async def replay() -> Message:
            return {"type": "http.request", "body": raw, "more_body": False}

        status_box: list[int] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box.append(message["status"])
            await send(message)

        if path.startswith("/admin/") and not self._authorized(scope):
            response: Response = JSONResponse({"error": "HTTP 401 Unauthorized"}, status_code=401)
            await response(scope, replay, capture)
            record.status = status_box[0]
            return
        rule = self._failure_for(record)
        if rule is not None and rule.after_effect:

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, replay, discard)
        if rule is not None:
            response = JSONResponse({"error": "unknown_error"}, status_code=rule.status)
            await response(scope, replay, capture)
        else:
            await self.app(scope, replay, capture)
        record.status = status_box[0] if status_box else 0

    def _authorized(self, scope: Scope) -> bool:
        headers = dict(scope["headers"])
        value = headers.get(b"authorization", b"").decode()
        scheme, _, token = value.partition(" ")
        expiry = self.state.access_tokens.get(token)
        return scheme.lower() == "bearer" and expiry is not None and expiry > time.time()

    def _failure_for(self, record: RecordedRequest) -> FailureRule | None:
        for rule in self.state.failures:
            if rule.method == record.method and re.fullmatch(rule.path_pattern, record.path):
                rule.seen += 1
                if rule.seen == rule.nth:
                    return rule
        return None


@dataclass
class StandinServer:
    """A running stand-in: ``state`` to inspect, ``base_url`` for ``KeycloakAdmin``."""

    state: StandinState
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_standin(
    port: int = 0,
    *,
    prefix: str = "",
    realms: tuple[str, ...] = ("kepu",),
    admin_users: dict[str, str] | None = None,
    service_clients: dict[str, str] | None = None,
    token_lifespan: int = 60,
) -> tuple[StandinServer, str]:
    """Start the stand-in on 127.0.0.1 in a background thread; returns (handle, base_url).

    ``base_url`` ends with ``/`` (and the prefix, e.g. ``/auth/``), as ``KeycloakAdmin``
    expects of ``server_url``.
    """
    state = StandinState(
        admin_users=admin_users if admin_users is not None else {"admin": "admin"},
        service_clients=service_clients or {},
        token_lifespan=token_lifespan,
    )
    for name in ("master", *realms):
        state.realms[name] = RealmState(name)
    app = _Recorder(build_app(state, prefix), state, prefix)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it every JSON answer waits ~40 ms for
    # the client's delayed ACK (headers and body are two writes).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    bound = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_port(bound, timeout=15)
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    base_url = f"http://127.0.0.1:{bound}{prefix}/"
    return StandinServer(state, base_url, server, thread), base_url
