"""Partners 合作机构 (banks, seed 000 "银会合作"): confidential OAuth2 clients of a tenant.

A province or city admin registers a partner with the scopes it may use and, optionally, a
webhook for the events it subscribes to. The client secret (argon2 hash) and the webhook
secret (sealed with the service key) are shown once. Partners are tenant-owned rows
(``partners``, RLS on ``tenant_path``); the matching ``clients`` row carries the tenant id,
so that a client-credentials token carries the registering tenant's claims.

The rules are in ``domain``, the use cases in ``service``. ``Partners`` is the registry as
in-process callers use it (the worker's webhook egress, the other services' tests): one unit
of work per call around a use case, as the gRPC edge (``grpc_api.PartnerServicer``) does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.errors import PermissionDenied
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import service
from .crypto import Sealer
from .egress import Egress
from .grpc_api import PartnerServicer
from .models import Partner
from .service import Issued, PartnerKit, PartnerRealm

__all__ = ["PartnerServicer", "Partners", "StaffTokenVerifier"]  # the servicer: for old importers

T = TypeVar("T")


class Partners(PartnerKit):
    """The partner registry wired to its database (``PartnerKit`` plus ``db``)."""

    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        realm: PartnerRealm | None = None,
        egress: Egress | None = None,
    ) -> None:
        super().__init__(sealer, realm, egress or Egress())
        self.db = db

    def _in(self, path: str, fn: Callable[[Session], T]) -> T:
        with self.db.unit_of_work(Scope.tenant(path)) as s:
            return fn(s)

    def register(
        self, caller: Principal, name: str, scopes: list[str], webhook_url: str, events: list[str]
    ) -> Issued:
        return self._in(
            caller.tenant_path,
            lambda s: service.register_partner(s, caller, self, name, scopes, webhook_url, events),
        )

    def list(self, caller: Principal) -> list[Partner]:
        return self._in(caller.tenant_path, lambda s: service.list_partners(s, caller))

    def rotate_secret(self, caller: Principal, client_id: str) -> Issued:
        return self._in(
            caller.tenant_path, lambda s: service.rotate_partner_secret(s, caller, self, client_id)
        )

    def disable(self, caller: Principal, client_id: str) -> Partner:
        return self._in(
            caller.tenant_path, lambda s: service.disable_partner(s, caller, self, client_id)
        )

    def current(self, caller: Principal) -> Partner:
        return self._in(caller.tenant_path, lambda s: service.current_partner(s, caller))

    def resolve(self, caller: Principal, client_id: str) -> Partner:
        return self._in(
            service.lineage_scope(caller), lambda s: service.resolve_partner(s, caller, client_id)
        )


class StaffTokenVerifier(TokenVerifier):
    """The identity service's verifier: a partner's token only works on the partner API."""

    def principal(self, token: str) -> Principal:
        p = super().principal(token)
        if "partner" in p.roles:
            raise PermissionDenied("合作机构的令牌只能访问 /partner/v1 接口。")
        return p
