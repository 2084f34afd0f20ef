"""Identity behind the gateway's REST routers, over a real gRPC server and database: the audit
log's newest entries and a partner's own registration state (ResolvePartner)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from kepu.identity.v1 import identity_pb2_grpc as pbg
from kepu_common.db import Scope
from kepu_common.grpcio import make_server
from kepu_devstack.tokens import TestIssuer
from kepu_identity import repository as repo
from kepu_identity.grpc_api import TenantServicer, UserServicer
from kepu_identity.partners import PartnerServicer, StaffTokenVerifier
from sqlalchemy import create_engine, text

from .conftest import ISSUER, MIGRATIONS, principal_of


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer(ISSUER)


@pytest.fixture(scope="module")
def gateway(ident, issuer):
    from kepu_gateway import grpc_clients
    from kepu_gateway.app import create_app
    from kepu_gateway.settings import GatewaySettings

    # the verifier identity runs with: staff tokens everywhere, partner tokens refused
    verifier = StaffTokenVerifier(ISSUER, key_source=issuer.jwks)
    server, port = make_server(0)
    pbg.add_TenantServiceServicer_to_server(TenantServicer(verifier, ident.tenants), server)
    pbg.add_UserServiceServicer_to_server(UserServicer(verifier, ident.db, ident.tenants), server)
    pbg.add_PartnerServiceServicer_to_server(PartnerServicer(verifier, ident.partners), server)
    server.start()
    mp = pytest.MonkeyPatch()
    mp.setenv("IDENTITY_GRPC_TARGET", f"127.0.0.1:{port}")
    grpc_clients.close_all()
    app = create_app(GatewaySettings(OIDC_ISSUER=ISSUER))  # type: ignore[call-arg]
    app.state.verifier = issuer.verifier()
    with TestClient(app) as c:
        yield c
    grpc_clients.close_all()
    mp.undo()
    server.stop(0)


def staff(ident, issuer, code: str) -> dict[str, str]:
    p = principal_of(ident, code)
    token = issuer.token(
        tenant_id=p.tenant_id,
        tenant_path=p.tenant_path,
        tenant_kind=p.tenant_kind,
        roles=("admin",),
        username=p.username,
    )
    return {"Authorization": f"Bearer {token}"}


def test_the_audit_log_lists_the_newest_entries_first(ident, service_database, gateway, issuer):
    county = principal_of(ident, "411523")  # 新县: nobody else writes here
    owner_url, _ = service_database("identity", MIGRATIONS)
    engine = create_engine(owner_url)
    with engine.begin() as conn:  # let the ids cross a power of ten (…98, 99, 100, 101 …)
        last = conn.execute(text("SELECT last_value FROM audit_log_id_seq")).scalar_one()
        start = 10 ** len(str(last + 20)) - 6
        conn.execute(text("SELECT setval('audit_log_id_seq', :v)"), {"v": start})
    engine.dispose()
    for i in range(12):  # one transaction each, as every audited action is
        with ident.db.unit_of_work(Scope.tenant(county.tenant_path)) as s:
            repo.audit(
                s,
                tenant_id=county.tenant_id,
                tenant_path=county.tenant_path,
                action="test_entry",
                actor="tester",
                details={"seq": str(i)},
            )
    r = gateway.get(
        "/api/v1/audit",
        params={"tenant_id": county.tenant_id, "limit": 10},
        headers=staff(ident, issuer, "411500"),  # 信阳, the county's city
    )
    assert r.status_code == 200, r.text
    entries = r.json()
    assert [e["details"]["seq"] for e in entries] == [str(i) for i in range(11, 1, -1)]
    times = [e["occurred_at"] for e in entries]
    assert times == sorted(times, reverse=True)
    ids = [int(e["id"]) for e in entries]
    assert ids == sorted(ids, reverse=True) and ids[0] >= 10 ** len(str(start)) > ids[-1]
