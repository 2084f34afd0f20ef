"""电子档案: trainings attended (继续教育), activities led, resources created, attachments."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import date
from typing import Any

from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.objects import ObjectStore
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import repository
from .service import WRITE_ROLES, TalentService, iso, parse_id
from .storage import check_attachment

ENTRY_KINDS = {"training": "继续教育", "activity": "开展活动", "resource": "开发资源"}


def entry_view(r: Any) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "talent_id": str(r.talent_id),
        "kind": r.kind,
        "title": r.title,
        "occurred_on": r.occurred_on.isoformat() if r.occurred_on else "",
        "hours": float(r.hours or 0),
        "description": r.description,
        "created_at": iso(r.created_at),
    }


def attachment_view(r: Any) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "talent_id": str(r.talent_id),
        "filename": r.filename,
        "content_type": r.content_type,
        "size": int(r.size),
        "sha256": r.sha256,
        "created_at": iso(r.created_at),
    }


class ArchiveService:
    """The archive's use cases, session first; attachments' bytes go to the object store
    (written before the row: a rolled-back call leaves an orphan file, never a row
    without its file)."""

    def __init__(self, talents: TalentService, store: ObjectStore) -> None:
        self.talents = talents
        self.store = store

    def _writable(self, s: Session, principal: Principal, talent_id: str) -> Any:
        row = self.talents.load(s, principal, talent_id)
        chain = self.talents.chain_of(s, row)
        if principal.tenant_path not in (chain.owner_path, chain.recommender_path):
            raise PermissionDenied("只有人才所属单位可以维护其电子档案，上级科协可以查看。")
        if not principal.roles & WRITE_ROLES:
            raise PermissionDenied("您的角色只能查看电子档案。")
        return row

    def add_entry(
        self,
        s: Session,
        principal: Principal,
        talent_id: str,
        kind: str,
        title: str,
        occurred_on: str,
        hours: float,
        description: str,
    ) -> dict[str, Any]:
        if kind not in ENTRY_KINDS:
            raise InvalidArgument(
                "档案类别应为 training（继续教育）、activity（开展活动）或 resource（开发资源）。"
            )
        title = (title or "").strip()
        if not title or len(title) > 200:
            raise InvalidArgument("请填写档案标题（不超过200字）。")
        day: date | None = None
        if occurred_on:
            try:
                day = date.fromisoformat(occurred_on)
            except ValueError:
                raise InvalidArgument("日期格式不正确（如2026-05-01）。") from None
        if not 0 <= (hours or 0) <= 10000:
            raise InvalidArgument("学时应在0到10000之间。")
        if len(description or "") > 4000:
            raise InvalidArgument("说明过长（不超过4000字）。")
        row = self._writable(s, principal, talent_id)
        entry_id = str(uuid.uuid4())
        repository.add_archive_entry(
            s,
            {
                "id": entry_id,
                "talent_id": str(row.id),
                "tenant_path": row.tenant_path,
                "kind": kind,
                "title": title,
                "occurred_on": day,
                "hours": hours or None,
                "description": description or "",
                "created_by": principal.subject,
            },
        )
        entries, _ = repository.archive_of(s, principal.tenant_path, str(row.id))
        return next(entry_view(e) for e in entries if str(e.id) == entry_id)

    def upload(
        self, s: Session, principal: Principal, talent_id: str, filename: str, content: bytes
    ) -> dict[str, Any]:
        max_bytes = self.talents.settings.attachment_max_bytes
        content_type = check_attachment(filename, content, max_bytes)
        name = os.path.basename((filename or "").replace("\\", "/"))[:200]
        row = self._writable(s, principal, talent_id)
        attachment_id = str(uuid.uuid4())
        ext = os.path.splitext(name)[1].lower()
        key = f"talent/{row.tenant_path.replace('.', '/')}/{row.id}/{attachment_id}{ext}"
        self.store.put(key, content, content_type)
        repository.add_attachment(
            s,
            {
                "id": attachment_id,
                "talent_id": str(row.id),
                "tenant_path": row.tenant_path,
                "filename": name,
                "content_type": content_type,
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "storage_key": key,
                "created_by": principal.subject,
            },
        )
        _, files = repository.archive_of(s, principal.tenant_path, str(row.id))
        return next(attachment_view(f) for f in files if str(f.id) == attachment_id)

    def get(self, s: Session, principal: Principal, talent_id: str) -> dict[str, Any]:
        row = self.talents.load(s, principal, talent_id)
        entries, files = repository.archive_of(s, principal.tenant_path, str(row.id))
        return {
            "entries": [entry_view(e) for e in entries],
            "attachments": [attachment_view(f) for f in files],
        }

    def download(
        self, s: Session, principal: Principal, talent_id: str, attachment_id: str
    ) -> tuple[dict[str, Any], bytes]:
        row = self.talents.load(s, principal, talent_id)
        found = repository.get_attachment(
            s, principal.tenant_path, str(row.id), parse_id(attachment_id, "附件")
        )
        if found is None:
            raise NotFound("附件不存在或不在您的管辖范围内。")
        return attachment_view(found), self.store.get(found.storage_key)
