"""Use cases of the showcase (session-first; the gRPC edge owns the unit of work).

The owner of a published scheme selects what it honours; a draft selection is seen by the owner
and its ancestors only; ``publish`` puts it on the public page, where a removal takes it off
again. The photo's bytes go to the object store before the row, so a refused or rolled-back
upload leaves at most an unreferenced object, never a row without bytes."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from kepu.assessment.v1 import showcase_pb2 as pb
from kepu_common.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from kepu_common.objects import ObjectStore, check_file
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from .. import domain as scheme_rules
from .. import repository as scheme_repo
from ..models import Scheme
from ..service import TOPIC, check_uuid, owned_scheme
from . import domain
from . import repository as repo
from .domain import Item

NOT_VISIBLE = "未找到该先进典型，或无权查看。"


@dataclass(frozen=True)
class Public:
    items: list[Item]
    years: list[int]
    version: str
    owners: dict[str, str]


def _published_scheme(s: Session, p: Principal, scheme_id: str) -> Scheme:
    sc = owned_scheme(s, p, scheme_id)
    if sc.status != scheme_rules.PUBLISHED:
        raise Conflict(
            "考核结果尚未发布，不能评选先进典型。请先发布考核结果。",
            field="scheme_id",
        )
    return sc


def add_item(s: Session, p: Principal, store: ObjectStore, req: pb.AddShowcaseItemRequest) -> Item:
    sc = _published_scheme(s, p, req.scheme_id)  # whose selection it is, before what it says
    domain.check_input(req.kind, req.subject_id, req.name, req.citation)
    if req.kind == "unit":
        subject_tenant = check_uuid(req.subject_id, "单位")
        ranked = scheme_repo.stored_results(s, sc)
        row = next((r for r, _ in ranked if r.tenant_id == subject_tenant), None)
        any_honoured = any(r.honoured for r, _ in ranked)
        if row is None or not domain.unit_may_be_honoured(row.honoured, any_honoured):
            raise InvalidArgument("该单位不在本次考核的先进名单中。", field="subject_id")
        name, unit_name = row.name, ""
    else:
        if not req.subject_published:
            raise InvalidArgument(domain.NOT_PUBLISHED[req.kind], field="subject_id")
        subject_tenant = check_uuid(req.subject_tenant_id, "单位")
        unit = repo.tenant_by_id(s, subject_tenant, sc.owner_path)
        if unit is None:
            raise InvalidArgument(
                "只能表彰本单位及下级单位的人才、活动和作品。", field="subject_id"
            )
        name = req.name.strip()
        unit_name = req.unit_name.strip()[: domain.NAME_MAX] or unit.name
    if repo.exists(s, sc.id, req.kind, req.subject_id):
        raise AlreadyExists("该对象已在本次先进典型名单中。", field="subject_id")
    if len(repo.items_of(s, sc.id, sc.owner_path)) >= domain.MAX_ITEMS:
        raise Conflict(f"每次考核最多表彰{domain.MAX_ITEMS}个先进典型。")
    iid = str(uuid.uuid4())
    key = ctype = sha = None
    if req.photo:
        ctype = check_file(
            req.photo_filename, req.photo, domain.PHOTO_MAX_BYTES, domain.PHOTO_TYPES, "photo"
        )
        sha = hashlib.sha256(req.photo).hexdigest()
        key = f"showcase/{sc.year}/{sc.id}/{iid}{'.png' if ctype.endswith('png') else '.jpg'}"
        store.put(key, req.photo, ctype)
    repo.insert_item(
        s,
        {"id": iid, "sid": sc.id, "year": sc.year, "path": sc.owner_path, "kind": req.kind,
         "sub": req.subject_id, "stid": subject_tenant, "name": name, "unit": unit_name,
         "citation": req.citation.strip(), "pkey": key, "ptype": ctype, "psha": sha,
         "by": p.subject},
    )  # fmt: skip
    item = repo.get_item(s, sc.id, iid, sc.owner_path)
    assert item is not None
    return item


def list_items(s: Session, p: Principal, scheme_id: str) -> list[Item]:
    sc = owned_scheme(s, p, scheme_id)
    return repo.items_of(s, sc.id, sc.owner_path)


def remove_item(s: Session, p: Principal, scheme_id: str, item_id: str) -> list[Item]:
    sc = owned_scheme(s, p, scheme_id)
    item = repo.get_item(s, sc.id, check_uuid(item_id, "先进典型"), sc.owner_path)
    if item is None:
        raise NotFound(NOT_VISIBLE)
    repo.delete_item(s, item.id)
    if item.published_at is not None:
        _event(s, p, sc, "assessment.showcase.removed", [item.id])
    return repo.items_of(s, sc.id, sc.owner_path)


def publish(s: Session, p: Principal, scheme_id: str) -> list[Item]:
    sc = _published_scheme(s, p, scheme_id)
    items = repo.items_of(s, sc.id, sc.owner_path)
    if not items:
        raise Conflict("请先选择至少一个先进典型，再发布。")
    drafts = [i.id for i in items if i.published_at is None]
    if not drafts:
        raise Conflict("先进典型名单已经全部发布。")
    repo.publish(s, sc.id, sc.owner_path)
    _event(s, p, sc, "assessment.showcase.published", drafts)
    return repo.items_of(s, sc.id, sc.owner_path)


def _event(s: Session, p: Principal, sc: Scheme, event_type: str, ids: list[str]) -> None:
    record_event(
        s, topic=TOPIC, event_type=event_type, tenant_id=sc.owner_tenant_id,
        tenant_path=sc.owner_path, actor=p.subject,
        payload=pb.ShowcaseChanged(scheme_id=sc.id, year=sc.year, item_ids=ids),
    )  # fmt: skip


# ---------------------------------------------------------------- public (system scope)


def public(s: Session, year: int) -> Public:
    items = repo.public_items(s, year)
    owners = repo.owner_names(s, {i.tenant_path for i in items})
    years = repo.public_years(s)
    return Public(items, years, domain.version(items, years), owners)


def public_photo(s: Session, store: ObjectStore, item_id: str) -> tuple[Item, bytes]:
    try:
        iid = str(uuid.UUID(item_id))
    except (ValueError, TypeError, AttributeError):
        raise NotFound("未找到该图片。") from None
    item = repo.public_item(s, iid)
    if item is None or not item.photo_key:
        raise NotFound("未找到该图片。")
    return item, store.get(item.photo_key)
