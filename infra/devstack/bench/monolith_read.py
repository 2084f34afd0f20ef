"""The monolith baseline of the read-path benchmark: ``GET /api/v1/tenants/me`` done in one
FastAPI app, no gateway and no gRPC: the same token verification (``TokenVerifier``), the same
unit of work with the caller's RLS scope and the same query as the identity service, answered
with the same model. Run by ``bench_gateway_read.py``:

    python infra/devstack/bench/monolith_read.py PORT DATABASE_URL ISSUER JWKS_URL WORKERS
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.errors import Unauthenticated
from kepu_common.tenancy import Principal
from pydantic import BaseModel
from sqlalchemy import text

# identity's read of a tenant (kepu_identity.repository.tenants)
QUERY = text(
    "SELECT t.id::text AS id, t.code, t.name, t.kind, coalesce(t.parent_id::text, '') AS parent_id,"
    " t.tenant_path::text AS path, t.status,"
    " EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = t.id AND u.is_tenant_admin) AS has_admin,"
    " (SELECT count(*) FROM tenants c WHERE c.parent_id = t.id) AS child_count"
    " FROM tenants t WHERE t.id = CAST(:id AS uuid)"
)


class TenantOut(BaseModel):
    id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    status: str
    has_admin: bool
    child_count: int


def app() -> FastAPI:
    url, issuer, jwks = os.environ["MONO_DB"], os.environ["MONO_ISSUER"], os.environ["MONO_JWKS"]
    verifier = TokenVerifier(issuer, jwks_url=jwks)
    db = Database(url, pool_size=20)  # sync routes: up to 40 threads
    api = FastAPI()

    @api.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=401)

    def caller(request: Request) -> Principal:
        auth = request.headers.get("authorization", "")
        return verifier.principal(auth[7:].strip())

    @api.get("/api/v1/tenants/me", response_model=TenantOut)
    def me(p: Annotated[Principal, Depends(caller)]) -> TenantOut:
        with db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
            row = s.execute(QUERY, {"id": p.tenant_id}).mappings().one()
        return TenantOut(**{**row, "parent_id": row["parent_id"] or None})

    return api


if __name__ == "__main__":
    port, url, issuer, jwks, workers = sys.argv[1:6]
    os.environ.update(MONO_DB=url, MONO_ISSUER=issuer, MONO_JWKS=jwks)
    uvicorn.run(
        "monolith_read:app", factory=True, app_dir=os.path.dirname(os.path.abspath(__file__)),
        host="127.0.0.1", port=int(port),
        workers=int(workers), timeout_worker_healthcheck=60, log_level=os.environ.get("MONO_LOG", "warning"), access_log=False,
    )  # fmt: skip
