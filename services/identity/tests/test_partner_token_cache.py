"""Verified tokens are cached (gateway and services), yet a disabled partner is refused on its
very next request: the partner's registration is asked on every request, outside the cache."""

from __future__ import annotations

import base64

import grpc
import pytest
from fastapi.testclient import TestClient
from kepu.identity.v1 import identity_pb2 as ipb
from kepu.identity.v1 import identity_pb2_grpc as pbg
from kepu_common.auth import TokenVerifier
from kepu_common.grpcio import make_server, metadata
from kepu_identity.grpc_api import PartnerServicer

from .conftest import ISSUER, principal_of

TOKEN = "/auth/realms/kepu/protocol/openid-connect/token"


def partner_token(ident, oidc) -> tuple[str, str]:
    issued = ident.partners.register(
        principal_of(ident, "411400"), "中原银行商丘分行", ["partner:talents:read"], "", []
    )
    cid = issued.partner.client_id
    basic = base64.b64encode(f"{cid}:{issued.client_secret}".encode()).decode()
    r = oidc.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200, r.text
    return cid, r.json()["access_token"]


@pytest.fixture
def identity_grpc(ident):
    server, port = make_server(0)
    pbg.add_PartnerServiceServicer_to_server(
        PartnerServicer(ident.verifier, ident.partners), server
    )
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def test_a_disabled_partners_cached_token_is_refused_at_once(
    ident, oidc, identity_grpc, monkeypatch
):
    from kepu_gateway import grpc_clients
    from kepu_gateway.app import create_app
    from kepu_gateway.settings import GatewaySettings

    cid, token = partner_token(ident, oidc)
    monkeypatch.setenv("IDENTITY_GRPC_TARGET", identity_grpc)
    grpc_clients.close_all()
    app = create_app(GatewaySettings(OIDC_ISSUER=ISSUER))  # type: ignore[call-arg]
    app.state.verifier = gateway_verifier = TokenVerifier(ISSUER, key_source=ident.keys.jwks)
    channel = grpc.insecure_channel(identity_grpc)
    resolve = pbg.PartnerServiceStub(channel).ResolvePartner
    try:
        with TestClient(app) as gw:
            bank = {"Authorization": f"Bearer {token}"}
            # enabled: past the partner check, stopped only by the missing scope
            for _ in range(3):
                r = gw.get("/partner/v1/projects", headers=bank)
                assert r.status_code == 403 and "partner:projects:read" in r.json()["detail"]
            assert resolve(ipb.PartnerRef(), metadata=metadata(token)).client_id == cid
            # the token now sits in both caches (the gateway's and identity's verifier)
            signature = token.rsplit(".", 1)[1]
            assert signature in gateway_verifier._verified
            assert signature in ident.verifier._verified

            ident.partners.disable(principal_of(ident, "411400"), cid)

            r = gw.get("/partner/v1/projects", headers=bank)
            assert r.status_code == 401, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "已停用" in r.json()["detail"]
            assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            with pytest.raises(grpc.RpcError) as refused:
                resolve(ipb.PartnerRef(), metadata=metadata(token))
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert signature in gateway_verifier._verified  # refused by the check, not the cache
    finally:
        channel.close()
        grpc_clients.close_all()


def test_a_token_is_known_to_the_event_loop_only_once_verified_and_unchanged(ident, oidc):
    """The gateway answers a known token on its event loop and sends any other one to the
    thread pool for the signature check: ``known`` never vouches for an unchecked token."""
    _cid, token = partner_token(ident, oidc)
    tokens = TokenVerifier(ISSUER, key_source=ident.keys.jwks)
    assert tokens.known(token) is None
    principal = tokens.principal(token)
    assert tokens.known(token) == principal
    head, payload, signature = token.split(".")
    assert tokens.known(f"{head}.{payload[:-4]}AAAA.{signature}") is None  # same signature
