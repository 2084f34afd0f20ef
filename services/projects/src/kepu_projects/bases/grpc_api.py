"""gRPC servicer of certified bases: proto <-> service, one unit of work per call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import grpc
from kepu.projects.v1 import bases_pb2 as pb
from kepu.projects.v1 import bases_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database
from kepu_common.grpcio import Servicer
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso
from sqlalchemy.orm import Session

from . import domain, service
from .domain import Base

T = TypeVar("T")


def base_pb(b: Base, p: Principal, now: datetime) -> pb.Base:
    day = service.today(now)
    status = domain.status_on(b, day)
    return pb.Base(
        id=b.id, tenant_id=b.tenant_id, tenant_name=b.tenant_name, kind=b.kind, name=b.name,
        project_id=b.project_id, call_id=b.call_id, number=b.number,
        certified_on=b.certified_on.isoformat(), valid_until=b.valid_until.isoformat(),
        status=status, status_label=domain.STATUS_CN[status],
        revoked_on=b.revoked_on.isoformat() if b.revoked_on else "",
        reviews=[
            pb.BaseReview(year=r[1], outcome=r[2], outcome_label=domain.OUTCOME_CN[r[2]],
                          opinion=r[3], reviewed_at=shanghai_iso(r[4]))
            for r in b.reviews
        ],
        allowed_actions=list(domain.allowed_actions(b, p.tenant_path, p.roles, day)),
    )  # fmt: skip


def row_pb(row: service.RegistryRow) -> pb.RegistryRow:
    return pb.RegistryRow(
        tenant_id=row.tenant.id,
        name=row.tenant.name,
        kinds=[
            pb.KindCount(kind=k, certified=row.certified.get(k, 0), target=row.targets.get(k, 0))
            for k in domain.KINDS
        ],
    )


def registry_pb(rows: tuple[service.RegistryRow, list[service.RegistryRow]]) -> pb.RegistryResponse:
    total, kids = rows
    return pb.RegistryResponse(total=row_pb(total), children=[row_pb(k) for k in kids])


class BaseServicer(Servicer, bases_pb2_grpc.BaseServiceServicer):
    def __init__(
        self, verifier: TokenVerifier, db: Database, now: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(verifier)
        self.db = db
        self.now = now or (lambda: datetime.now(UTC))

    def _run(
        self, context: grpc.ServicerContext, fn: Callable[[Session, Principal, datetime], T]
    ) -> T:
        return self.in_tenant(context, self.db, lambda s, p: fn(s, p, self.now()), staff=True)

    def ListBases(
        self, request: pb.ListBasesRequest, context: grpc.ServicerContext
    ) -> pb.ListBasesResponse:
        def run(s: Session, p: Principal, now: datetime) -> pb.ListBasesResponse:
            rows = service.list_bases(s, p, now, request.kind, request.status, request.tenant_id)
            return pb.ListBasesResponse(bases=[base_pb(b, p, now) for b in rows])

        return self._run(context, run)

    def GetBase(self, request: pb.BaseRequest, context: grpc.ServicerContext) -> pb.Base:
        return self._run(
            context, lambda s, p, now: base_pb(service.load(s, p, request.base_id), p, now)
        )

    def ReviewBase(self, request: pb.ReviewBaseRequest, context: grpc.ServicerContext) -> pb.Base:
        return self._run(
            context,
            lambda s, p, now: base_pb(
                service.review(
                    s, p, now, request.base_id, request.year, request.outcome, request.opinion
                ),
                p,
                now,
            ),
        )

    def Registry(
        self, request: pb.RegistryRequest, context: grpc.ServicerContext
    ) -> pb.RegistryResponse:
        return self._run(
            context, lambda s, p, now: registry_pb(service.registry(s, p, now, request.tenant_id))
        )

    def SetTargets(
        self, request: pb.SetTargetsRequest, context: grpc.ServicerContext
    ) -> pb.RegistryResponse:
        items = [{"kind": t.kind, "target": t.target} for t in request.targets]
        return self._run(
            context,
            lambda s, p, now: registry_pb(service.set_targets(s, p, now, request.tenant_id, items)),
        )
