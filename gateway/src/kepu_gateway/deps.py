"""Request dependencies: the verified caller."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from kepu_common import telemetry
from kepu_common.auth import TokenVerifier
from kepu_common.errors import Unauthenticated
from kepu_common.tenancy import Principal

from .problems import Problem

DEPARTMENT = "department"  # 成员单位, a tenant kind of identity (issue 14)
DEPARTMENT_PATHS = ("/api/v1/workplans", "/api/v1/tenants/me")


@dataclass(frozen=True)
class Caller:
    principal: Principal
    token: str
    client_ip: str = ""  # forwarded to the services for their audit entries


def verifier(request: Request) -> TokenVerifier:
    return request.app.state.verifier


async def verified(tokens: TokenVerifier, token: str) -> Principal:
    """The principal of ``token``: on the event loop when it was verified before (a look-up),
    else in the thread pool (the signature check, and a JWKS fetch of up to 5 s every 5 minutes,
    must not stop the worker's other requests); raises ``Unauthenticated``."""
    found = tokens.known(token)
    return found if found is not None else await run_in_threadpool(tokens.principal, token)


async def current_caller(request: Request) -> Caller:
    """The caller from ``Authorization: Bearer``; a token verified before costs a look-up."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token:
        raise Problem(
            401, "缺少访问令牌，请先登录。", headers={"WWW-Authenticate": 'Bearer realm="kepu"'}
        )
    try:
        principal = await verified(verifier(request), token)
    except Unauthenticated as exc:
        raise Problem(
            401, exc.detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from exc
    if "partner" in principal.roles and not request.url.path.startswith("/partner/"):
        # A bank's client-credentials token opens only the partner API, never staff endpoints.
        raise Problem(403, "合作机构的令牌只能访问 /partner/v1 接口。")
    if principal.tenant_kind == DEPARTMENT and not request.url.path.startswith(DEPARTMENT_PATHS):
        # A member department (成员单位) works on the plan tasks assigned to it, nothing else.
        raise Problem(403, "成员单位的账号只能查看和填报分配给本单位的工作要点任务。")
    request.state.principal = principal
    telemetry.bind_principal(principal)
    return Caller(principal, token, request.client.host if request.client else "")
