"""gRPC servicer of the resource library: proto <-> service, one unit of work per call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from kepu.projects.v1 import resources_pb2 as pb
from kepu.projects.v1 import resources_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database
from kepu_common.grpcio import Servicer
from kepu_common.objects import ObjectStore
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso
from sqlalchemy.orm import Session

from . import domain, service
from .domain import Resource

T = TypeVar("T")


def file_pb(f: Any) -> pb.ResourceFile:
    return pb.ResourceFile(
        id=f[0], resource_id=f[1], filename=f[2], content_type=f[3], size=f[4], sha256=f[5],
        created_at=shanghai_iso(f[6]),
    )  # fmt: skip


def resource_pb(r: Resource, p: Principal) -> pb.Resource:
    return pb.Resource(
        id=r.id, tenant_id=r.tenant_id, tenant_name=r.tenant_name, kind=r.kind, title=r.title,
        theme=r.theme, summary=r.summary, author_ids=r.author_ids, share_scope=r.share_scope,
        share_scope_label=domain.SCOPES[r.share_scope], status=r.status,
        status_label=domain.STATUS_CN[r.status], return_reason=r.return_reason,
        submitted_at=shanghai_iso(r.submitted_at), published_at=shanghai_iso(r.published_at),
        downloads=r.downloads, files=[file_pb(f) for f in r.files],
        allowed_actions=list(domain.allowed_actions(r, p.tenant_path, p.roles)),
        created_at=shanghai_iso(r.created_at),
    )  # fmt: skip


def _form(msg: pb.ResourceInput) -> dict[str, Any]:
    return {
        "kind": msg.kind, "title": msg.title, "theme": msg.theme, "summary": msg.summary,
        "author_ids": list(msg.author_ids), "share_scope": msg.share_scope,
    }  # fmt: skip


class ResourceServicer(Servicer, resources_pb2_grpc.ResourceServiceServicer):
    def __init__(
        self,
        verifier: TokenVerifier,
        db: Database,
        store: ObjectStore,
        max_bytes: int = domain.RESOURCE_MAX_BYTES,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(verifier)
        self.db, self.store, self.max_bytes = db, store, max_bytes
        self.now = now or (lambda: datetime.now(UTC))

    def _run(self, context: grpc.ServicerContext, fn: Callable[[Session, Principal], T]) -> T:
        return self.in_tenant(context, self.db, fn, staff=True)

    def CreateResource(
        self, request: pb.ResourceInput, context: grpc.ServicerContext
    ) -> pb.Resource:
        data = _form(request)
        return self._run(context, lambda s, p: resource_pb(service.create(s, p, data), p))

    def UpdateResource(
        self, request: pb.UpdateResourceRequest, context: grpc.ServicerContext
    ) -> pb.Resource:
        data = _form(request.resource)
        return self._run(
            context,
            lambda s, p: resource_pb(service.update(s, p, request.resource_id, data), p),
        )

    def GetResource(
        self, request: pb.ResourceRequest, context: grpc.ServicerContext
    ) -> pb.Resource:
        return self._run(
            context, lambda s, p: resource_pb(service.load(s, p, request.resource_id), p)
        )

    def ListResources(
        self, request: pb.ListResourcesRequest, context: grpc.ServicerContext
    ) -> pb.ListResourcesResponse:
        def run(s: Session, p: Principal) -> pb.ListResourcesResponse:
            rows, total = service.list_resources(
                s, p, shared=request.shared, kind=request.kind, theme=request.theme,
                status=request.status, q=request.q, limit=request.limit or 50,
                offset=request.offset,
            )  # fmt: skip
            return pb.ListResourcesResponse(
                resources=[resource_pb(r, p) for r in rows], total=total
            )

        return self._run(context, run)

    def UploadFile(
        self, request: pb.UploadResourceFileRequest, context: grpc.ServicerContext
    ) -> pb.ResourceFile:
        return self._run(
            context,
            lambda s, p: file_pb(
                service.attach(
                    s,
                    p,
                    self.store,
                    request.resource_id,
                    request.filename,
                    request.content,
                    self.max_bytes,
                )  # fmt: skip
            ),
        )

    def DownloadFile(
        self, request: pb.ResourceFileRequest, context: grpc.ServicerContext
    ) -> pb.ResourceFileContent:
        def run(s: Session, p: Principal) -> pb.ResourceFileContent:
            row, content = service.download(s, p, self.store, request.resource_id, request.file_id)
            return pb.ResourceFileContent(filename=row[2], content_type=row[3], content=content)

        return self._run(context, run)

    def Submit(self, request: pb.ResourceRequest, context: grpc.ServicerContext) -> pb.Resource:
        return self._run(
            context,
            lambda s, p: resource_pb(service.submit(s, p, self.now(), request.resource_id), p),
        )

    def Review(
        self, request: pb.ReviewResourceRequest, context: grpc.ServicerContext
    ) -> pb.Resource:
        return self._run(
            context,
            lambda s, p: resource_pb(
                service.review(
                    s, p, self.now(), request.resource_id, request.decision, request.reason
                ),
                p,
            ),
        )

    def YearlyCount(
        self, request: pb.ResourceCountRequest, context: grpc.ServicerContext
    ) -> pb.ResourceCountResponse:
        def run(s: Session, p: Principal) -> pb.ResourceCountResponse:
            c = service.yearly_count(s, p, request.tenant_id, request.year)
            return pb.ResourceCountResponse(
                year=c.year,
                total=pb.ResourceCountRow(
                    tenant_id=c.tenant.id, name=c.tenant.name, published=c.total
                ),
                target=c.target,
                children=[
                    pb.ResourceCountRow(tenant_id=t.id, name=t.name, published=n)
                    for t, n in c.children
                ],
                by_kind=c.by_kind,
            )

        return self._run(context, run)
