"""Evidence files 佐证材料 of quarterly progress: a unit (or the owner's admin filling in for it)
uploads pdf, jpg/png, docx or xlsx files to a progress entry; the unit, the plan's owner and the
owner's ancestors download them; anyone else, a sibling or another department of the same plan,
meets 404. The row and its event commit together; the bytes go to the object store first, so a
refused or rolled-back upload leaves at most an unreferenced object, never a row without bytes."""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

from kepu.assessment.v1 import workplans_pb2 as pb
from kepu_common.errors import NotFound, PermissionDenied
from kepu_common.objects import EVIDENCE_MAX_BYTES, EVIDENCE_TYPES, ObjectStore, check_file
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from ..service import TOPIC, check_uuid
from . import repository as repo
from .service import Access, load

MAX_BYTES = EVIDENCE_MAX_BYTES
NOT_VISIBLE = "未找到该佐证材料，或无权查看。"


def _scope(p: Principal, acc: Access) -> str:
    """A unit sees its own rows; the owner and its ancestors every unit's under the owner."""
    return p.tenant_path if acc.unit_id else acc.plan.owner_path


def attach(
    s: Session, p: Principal, store: ObjectStore, plan_id: str, progress_id: str,
    filename: str, content: bytes, max_bytes: int = MAX_BYTES,
) -> Any:  # fmt: skip
    """Store one file as evidence of a progress entry; returns its row."""
    acc = load(s, p, plan_id)
    if acc.unit_id is None and not acc.owner:
        raise PermissionDenied("只有填报单位或计划制定单位的管理员可以上传佐证材料。")
    entry = repo.get_progress(s, acc.plan.id, check_uuid(progress_id, "进展"), _scope(p, acc))
    if entry is None:
        raise NotFound("未找到该进展记录，或无权查看。")
    content_type = check_file(filename, content, max_bytes, EVIDENCE_TYPES)
    eid = str(uuid.uuid4())
    name = os.path.basename(filename.replace("\\", "/"))[:200]
    ext = os.path.splitext(name)[1].lower()
    key = f"workplans/{entry[3].replace('.', '/')}/{entry[0]}/{eid}{ext}"
    store.put(key, content, content_type)
    repo.insert_evidence(
        s,
        {"id": eid, "plan": acc.plan.id, "progress": entry[0], "unit": entry[2],
         "path": entry[3], "name": name, "ctype": content_type, "size": len(content),
         "sha": hashlib.sha256(content).hexdigest(), "key": key, "by": p.subject},
    )  # fmt: skip
    record_event(
        s, topic=TOPIC, event_type="assessment.plan.evidence_attached", tenant_id=entry[2],
        tenant_path=entry[3], actor=p.subject,
        payload=pb.EvidenceAttached(plan_id=acc.plan.id, progress_id=entry[0], evidence_id=eid,
                                    unit_id=entry[2], filename=name, size=len(content)),
    )  # fmt: skip
    return repo.get_evidence(s, acc.plan.id, eid, entry[3])


def files_of(s: Session, p: Principal, acc: Access) -> dict[str, list[Any]]:
    """The evidence rows the caller may see, by progress entry."""
    out: dict[str, list[Any]] = {}
    for r in repo.evidence_of(s, acc.plan.id, _scope(p, acc)):
        out.setdefault(r[1], []).append(r)
    return out


def download(
    s: Session, p: Principal, store: ObjectStore, plan_id: str, evidence_id: str
) -> tuple[Any, bytes]:
    acc = load(s, p, plan_id)
    row = repo.get_evidence(s, acc.plan.id, check_uuid(evidence_id, "佐证材料"), _scope(p, acc))
    if row is None:
        raise NotFound(NOT_VISIBLE)
    return row, store.get(row[7])
