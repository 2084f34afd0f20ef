"""The gateway in-process in front of one real servicer, for a service's REST tests.

The servicer is served over real gRPC on a free port and the gateway app (``kepu_gateway``,
imported here only, so the devstack does not depend on it) is pointed at it; requests carry
tokens from a ``TestIssuer``. One helper instead of a copy of this fixture per service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import grpc
from kepu_common.auth import TokenVerifier
from kepu_common.grpcio import make_server

from .tokens import TestIssuer


class TenantNode(Protocol):
    id: str
    path: str
    kind: str
    code: str


Headers = Callable[..., dict[str, str]]


@contextmanager
def gateway_client(
    service: str,
    add_servicer: Callable[[Any, grpc.Server], None],
    make_servicer: Callable[[TokenVerifier], Any],
    issuer: TestIssuer | None = None,
) -> Iterator[tuple[Any, Headers]]:
    """Yield a ``TestClient`` on the gateway whose ``service`` calls reach the servicer
    ``make_servicer(verifier)``, and ``headers(node, roles=("admin",))`` that signs in as an
    account of tenant ``node``."""
    import pytest
    from fastapi.testclient import TestClient
    from kepu_gateway import grpc_clients
    from kepu_gateway.app import create_app

    issuer = issuer or TestIssuer()
    server, port = make_server(0)
    add_servicer(make_servicer(issuer.verifier()), server)
    server.start()
    mp = pytest.MonkeyPatch()
    mp.setenv(f"{service.upper()}_GRPC_TARGET", f"127.0.0.1:{port}")
    grpc_clients.close_all()
    app = create_app()
    app.state.verifier = issuer.verifier()

    def headers(node: TenantNode, roles: tuple[str, ...] = ("admin",)) -> dict[str, str]:
        token = issuer.token(
            tenant_id=node.id,
            tenant_path=node.path,
            tenant_kind=node.kind,
            roles=roles,
            username=f"admin{node.code}",
        )
        return {"Authorization": f"Bearer {token}"}

    try:
        yield TestClient(app), headers
    finally:
        grpc_clients.close_all()
        mp.undo()
        server.stop(0)
