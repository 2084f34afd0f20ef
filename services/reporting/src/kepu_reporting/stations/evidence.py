"""五有 evidence files of an e站: an administrator of the station's township or county (or a
level above) uploads pdf, jpg/png, docx or xlsx files to one of the five conditions; the
station's tenant and its ancestors download them, anyone else meets 404. The row and its
event commit together; the bytes go to the object store first."""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

from kepu.reporting.v1 import stations_pb2
from kepu_common.errors import Conflict, InvalidArgument, NotFound
from kepu_common.objects import EVIDENCE_MAX_BYTES, EVIDENCE_TYPES, ObjectStore, check_file
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from ..service import TOPIC
from . import domain
from . import repository as repo
from .service import _admin, _uuid, load

NOT_VISIBLE = "未找到该佐证材料，或不在您的管辖范围内。"


def attach(
    s: Session, p: Principal, store: ObjectStore, station_id: str, condition: str,
    filename: str, content: bytes, max_bytes: int = EVIDENCE_MAX_BYTES,
) -> Any:  # fmt: skip
    """Store one file as evidence of the station's condition ``condition``; returns its row."""
    _admin(p)
    st = load(s, p, station_id)
    if condition not in domain.CONDITIONS:
        raise InvalidArgument(
            "“五有”条件只能是网络、人员、场所、活动、终端之一。", field="condition"
        )
    if st.status == domain.WITHDRAWN:
        raise Conflict("已撤销的e站不能再上传佐证材料。")
    content_type = check_file(filename, content, max_bytes, EVIDENCE_TYPES)
    eid = str(uuid.uuid4())
    name = os.path.basename(filename.replace("\\", "/"))[:200]
    key = f"stations/{st.tenant_path.replace('.', '/')}/{st.id}/{eid}{os.path.splitext(name)[1].lower()}"
    store.put(key, content, content_type)
    repo.insert_evidence(
        s,
        {"id": eid, "station": st.id, "cond": condition, "path": st.tenant_path, "name": name,
         "ctype": content_type, "size": len(content), "sha": hashlib.sha256(content).hexdigest(),
         "key": key, "by": p.subject},
    )  # fmt: skip
    record_event(
        s, topic=TOPIC, event_type="reporting.station.evidence_attached", tenant_id=st.tenant_id,
        tenant_path=st.tenant_path, actor=p.subject,
        payload=stations_pb2.StationEvidenceAttached(
            station_id=st.id, evidence_id=eid, condition=condition, filename=name,
            size=len(content),
        ),
    )  # fmt: skip
    return repo.get_evidence(s, p.tenant_path, st.id, eid)


def files_of(s: Session, p: Principal, station_ids: list[str]) -> dict[str, list[Any]]:
    """The evidence rows of these stations the caller may see, by station."""
    out: dict[str, list[Any]] = {}
    for r in repo.evidence_of(s, p.tenant_path, station_ids):
        out.setdefault(r[1], []).append(r)
    return out


def download(
    s: Session, p: Principal, store: ObjectStore, station_id: str, evidence_id: str
) -> tuple[Any, bytes]:
    st = load(s, p, station_id)
    row = repo.get_evidence(s, p.tenant_path, st.id, _uuid(evidence_id, "佐证材料"))
    if row is None:
        raise NotFound(NOT_VISIBLE)
    return row, store.get(row[8])
