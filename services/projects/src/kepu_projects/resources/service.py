"""Use cases of the resource library. Each takes the unit of work's session first, applies the
domain rules and writes the outbox; the gRPC edge owns the transaction.

A tenant's 填报员 or admin describes a resource, uploads its files and submits it; the
owner's parent approves (published: the event ``projects.resource.published`` counts it in
the month's brief and in assessment) or returns it with a reason; readers download files of
what is shared with them, which counts the download."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kepu.projects.v1 import resources_pb2
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.objects import ObjectStore, check_file
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal
from kepu_common.times import SHANGHAI
from sqlalchemy.orm import Session

from .. import repository as base_repo
from ..models import Tenant
from ..service import TOPIC, caller_tenant
from . import domain
from . import repository as repo
from .domain import Resource

NOT_VISIBLE = "未找到该科普资源，或不在您的共享范围内。"


def _uuid(value: str, what: str, at: str = "") -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument(f"{what}编号格式不正确。", field=at) from exc


def load(s: Session, p: Principal, resource_id: str, *, lock: bool = False) -> Resource:
    r = repo.get(s, p.tenant_path, _uuid(resource_id, "科普资源", "resource_id"), lock=lock)
    if r is None:
        raise NotFound(NOT_VISIBLE)
    r.files = repo.files_of(s, [r.id]).get(r.id, [])
    return r


def _own(s: Session, p: Principal, resource_id: str) -> Resource:
    """A resource of the caller's own tenant, locked for a change."""
    if load(s, p, resource_id).tenant_path != p.tenant_path:
        raise PermissionDenied("只能修改本单位的科普资源。")
    return load(s, p, resource_id, lock=True)


def _form(s: Session, p: Principal, data: dict[str, Any]) -> domain.ResourceForm:
    form = domain.clean_form(data, _uuid)
    found = repo.talents_in(s, p.tenant_path, list(form.author_ids))
    missing = [a for a in form.author_ids if a not in found]
    if missing:
        raise InvalidArgument("作者须是本辖区人才库中的科普人才。", field="author_ids")
    return form


def _apply(r: Resource, form: domain.ResourceForm) -> None:
    r.kind, r.title, r.theme, r.summary = form.kind, form.title, form.theme, form.summary
    r.author_ids, r.share_scope = list(form.author_ids), form.share_scope


def create(s: Session, p: Principal, data: dict[str, Any]) -> Resource:
    domain.check_role(p.roles, domain.WRITE_ROLES, "登记科普资源")
    form = _form(s, p, data)
    owner = caller_tenant(s, p)
    r = Resource(str(uuid.uuid4()), p.tenant_id, p.tenant_path, owner.name, "", "", "", "", [], "")
    _apply(r, form)
    repo.insert(s, r, p.subject)
    return load(s, p, r.id)


def update(s: Session, p: Principal, resource_id: str, data: dict[str, Any]) -> Resource:
    domain.check_role(p.roles, domain.WRITE_ROLES, "修改科普资源")
    r = _own(s, p, resource_id)
    domain.check_editable(r)
    _apply(r, _form(s, p, data))
    repo.save(s, r)
    return load(s, p, r.id)


def list_resources(
    s: Session, p: Principal, *, shared: bool = False, kind: str = "", theme: str = "",
    status: str = "", q: str = "", limit: int = 50, offset: int = 0,
) -> tuple[list[Resource], int]:  # fmt: skip
    if kind and kind not in domain.KINDS:
        raise InvalidArgument("资源类型不正确。", field="kind")
    if status and status not in domain.STATUS_CN:
        raise InvalidArgument("资源状态不正确。", field="status")
    if not 1 <= limit <= 200 or offset < 0:
        raise InvalidArgument("分页参数不正确（每页1到200条）。", field="limit")
    rows, total = repo.list_resources(
        s, p.tenant_path, shared=shared, kind=kind, theme=theme.strip()[:50],
        status=status, q=q.replace("\x00", "").strip()[:100], limit=limit, offset=offset,
    )  # fmt: skip
    files = repo.files_of(s, [r.id for r in rows])
    for r in rows:
        r.files = files.get(r.id, [])
    return rows, total


def attach(
    s: Session, p: Principal, store: ObjectStore, resource_id: str, filename: str,
    content: bytes, max_bytes: int = domain.RESOURCE_MAX_BYTES,
) -> Any:  # fmt: skip
    """Store one file of a draft (or returned) resource; returns its row. Every check runs
    before the bytes are written, so a refused upload leaves nothing in the store."""
    domain.check_role(p.roles, domain.WRITE_ROLES, "上传资源文件")
    r = _own(s, p, resource_id)
    domain.check_editable(r)
    if len(r.files) >= domain.MAX_FILES:
        raise InvalidArgument(f"每项资源最多上传{domain.MAX_FILES}个文件。", field="file")
    content_type = check_file(filename, content, max_bytes, domain.RESOURCE_TYPES)
    fid = str(uuid.uuid4())
    name = os.path.basename(filename.replace("\\", "/"))[:200]
    key = f"resources/{r.tenant_path.replace('.', '/')}/{r.id}/{fid}{os.path.splitext(name)[1].lower()}"
    repo.insert_file(
        s,
        {"id": fid, "rid": r.id, "path": r.tenant_path, "name": name, "ctype": content_type,
         "size": len(content), "sha": hashlib.sha256(content).hexdigest(), "key": key,
         "by": p.subject},
    )  # fmt: skip
    s.flush()
    store.put(key, content, content_type)  # last: the row is written, only the commit is left
    return next(f for f in repo.files_of(s, [r.id])[r.id] if f[0] == fid)


def download(
    s: Session, p: Principal, store: ObjectStore, resource_id: str, file_id: str
) -> tuple[Any, bytes]:
    """A file of a resource the caller may read; a published one counts the download."""
    r = load(s, p, resource_id)
    fid = _uuid(file_id, "资源文件", "file_id")
    row = next((f for f in r.files if f[0] == fid), None)
    if row is None:
        raise NotFound("未找到该资源文件。")
    content = store.get(row[7])
    if r.status == domain.PUBLISHED:
        repo.count_download(s, r)
    return row, content


def submit(s: Session, p: Principal, now: datetime, resource_id: str) -> Resource:
    domain.check_role(p.roles, domain.WRITE_ROLES, "提交科普资源")
    r = _own(s, p, resource_id)
    domain.check_submit(r)
    r.status, r.submitted_at, r.return_reason = domain.submitted_status(r), now, ""
    if r.status == domain.PUBLISHED:
        _publish(s, p, r, now)
    repo.save(s, r)
    return load(s, p, r.id)


def review(
    s: Session, p: Principal, now: datetime, resource_id: str, decision: str, reason: str
) -> Resource:
    """The owner's parent: approve (publish) or return with a reason."""
    domain.check_role(p.roles, domain.REVIEW_ROLES, "审核科普资源")
    r = load(s, p, resource_id, lock=True)
    r.status = domain.review(r, p.tenant_path, decision, reason)
    if r.status == domain.PUBLISHED:
        _publish(s, p, r, now)
    else:
        r.return_reason = reason.strip()[:1000]
    repo.save(s, r)
    return load(s, p, r.id)


def _publish(s: Session, p: Principal, r: Resource, now: datetime) -> None:
    r.published_at = now
    day = now.astimezone(SHANGHAI).date()
    month = f"{day:%Y-%m}"
    record_event(
        s, topic=TOPIC, event_type="projects.resource.published", tenant_id=r.tenant_id,
        tenant_path=r.tenant_path, actor=p.subject,
        payload=resources_pb2.ResourcePublished(
            resource_id=r.id, tenant_id=r.tenant_id, tenant_path=r.tenant_path, kind=r.kind,
            title=r.title, month=month, year=day.year, date=day.isoformat(),
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class YearlyCount:
    year: int
    tenant: Tenant
    total: int
    target: int
    children: list[tuple[Tenant, int]]
    by_kind: dict[str, int]


def yearly_count(s: Session, p: Principal, tenant_id: str, year: int) -> YearlyCount:
    """Resources published in ``year`` over a tenant's subtree, per child, against the target."""
    if not 2000 <= year <= 2100:
        raise InvalidArgument("年度应在2000至2100之间。", field="year")
    tenant = caller_tenant(s, p)
    if tenant_id and tenant_id != p.tenant_id:
        found = base_repo.get_tenant(s, p.tenant_path, _uuid(tenant_id, "单位", "tenant_id"))
        if found is None:
            raise NotFound("单位不存在，或不在您的管辖范围内。")
        tenant = found
    first = datetime(year, 1, 1, tzinfo=SHANGHAI)
    after = datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    per_path, by_kind = repo.published_by_child(s, tenant.path, first, after)
    kids = [(k, per_path.get(k.path, 0)) for k in base_repo.children(s, tenant)]
    return YearlyCount(
        year, tenant, sum(per_path.values()), domain.target_for(tenant.kind), kids,
        {k: by_kind.get(k, 0) for k in domain.KINDS},
    )  # fmt: skip
