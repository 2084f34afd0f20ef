"""gRPC servicer of the showcase: proto <-> service, one unit of work per call. ``ListPublic``
and ``GetPhoto`` take no token: they serve the public page and read published rows only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc
from kepu.assessment.v1 import showcase_pb2 as pb
from kepu.assessment.v1 import showcase_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.grpcio import Servicer
from kepu_common.objects import ObjectStore
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso
from sqlalchemy.orm import Session

from . import domain, service
from .domain import Item

T = TypeVar("T")


def item_pb(i: Item, owner_name: str = "") -> pb.ShowcaseItem:
    return pb.ShowcaseItem(
        id=i.id, scheme_id=i.scheme_id, year=i.year, kind=i.kind, kind_label=domain.KINDS[i.kind],
        subject_id=i.subject_id, name=i.name, unit_name=i.unit_name, citation=i.citation,
        has_photo=bool(i.photo_key), position=i.position, published=i.published_at is not None,
        published_at=shanghai_iso(i.published_at), owner_name=owner_name,
        created_at=shanghai_iso(i.created_at),
    )  # fmt: skip


class ShowcaseServicer(Servicer, showcase_pb2_grpc.ShowcaseServiceServicer):
    def __init__(self, verifier: TokenVerifier, db: Database, store: ObjectStore) -> None:
        super().__init__(verifier)
        self.db, self.store = db, store

    def _run(self, context: grpc.ServicerContext, fn: Callable[[Session, Principal], T]) -> T:
        return self.in_tenant(context, self.db, fn, staff=True)

    def _public(self, context: grpc.ServicerContext, fn: Callable[[Session], T]) -> T:
        def work() -> T:
            with self.db.unit_of_work(Scope.system_scope()) as s:
                return fn(s)

        return self.call(context, work)

    def AddItem(
        self, request: pb.AddShowcaseItemRequest, context: grpc.ServicerContext
    ) -> pb.ShowcaseItem:
        return self._run(context, lambda s, p: item_pb(service.add_item(s, p, self.store, request)))

    def ListItems(
        self, request: pb.ShowcaseSchemeRequest, context: grpc.ServicerContext
    ) -> pb.ShowcaseItemsResponse:
        return self._run(
            context,
            lambda s, p: pb.ShowcaseItemsResponse(
                items=[item_pb(i) for i in service.list_items(s, p, request.scheme_id)]
            ),
        )

    def RemoveItem(
        self, request: pb.ShowcaseItemRequest, context: grpc.ServicerContext
    ) -> pb.ShowcaseItemsResponse:
        def run(s: Session, p: Principal) -> pb.ShowcaseItemsResponse:
            items = service.remove_item(s, p, request.scheme_id, request.item_id)
            return pb.ShowcaseItemsResponse(items=[item_pb(i) for i in items])

        return self._run(context, run)

    def Publish(
        self, request: pb.ShowcaseSchemeRequest, context: grpc.ServicerContext
    ) -> pb.ShowcaseItemsResponse:
        def run(s: Session, p: Principal) -> pb.ShowcaseItemsResponse:
            items = service.publish(s, p, request.scheme_id)
            return pb.ShowcaseItemsResponse(items=[item_pb(i) for i in items])

        return self._run(context, run)

    def ListPublic(
        self, request: pb.PublicShowcaseRequest, context: grpc.ServicerContext
    ) -> pb.PublicShowcaseResponse:
        def run(s: Session) -> pb.PublicShowcaseResponse:
            v = service.public(s, max(0, request.year))
            return pb.PublicShowcaseResponse(
                items=[item_pb(i, v.owners.get(i.tenant_path, "")) for i in v.items],
                years=v.years,
                version=v.version,
            )

        return self._public(context, run)

    def GetPhoto(self, request: pb.PhotoRequest, context: grpc.ServicerContext) -> pb.Photo:
        def run(s: Session) -> pb.Photo:
            item, content = service.public_photo(s, self.store, request.item_id)
            return pb.Photo(
                content_type=item.photo_type or "", content=content,
                version=(item.photo_sha256 or "")[:16],
            )  # fmt: skip

        return self._public(context, run)
