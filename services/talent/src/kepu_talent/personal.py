"""Personal data 个人信息 of a talent (PIPL): the phone, e-mail, IM account and 身份证号 are
sealed at rest with their masks and keyed hashes beside them; opening them is a full view,
allowed to admins and reviewers and audit-logged (a row per talent and an outbox event)."""

from __future__ import annotations

from typing import Any

from kepu.talent.v1 import talent_pb2
from kepu_common.errors import PermissionDenied
from kepu_common.masking import mask_phone
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import domain, events, fields, repository
from .crypto import KeyRing

PERSONAL_FIELDS = fields.PERSONAL
_SEALED = {"phone": "phone", "email": "email", "im_account": "im", "id_number": "id_number"}


def plain_values(record: fields.TalentFields) -> dict[str, Any]:
    """The record's columns stored as they are (all but the sealed personal data)."""
    return {k: v for k, v in vars(record).items() if k not in (*PERSONAL_FIELDS, "extra")}


def sealed_columns(keys: KeyRing, talent_id: str, f: fields.TalentFields) -> dict[str, Any]:
    """Encrypted personal data, masks and keyed hashes of one record."""
    out: dict[str, Any] = {"key_version": keys.current}
    masks = {
        "phone": mask_phone,
        "email": fields.mask_email,
        "im_account": fields.mask_im,
        "id_number": fields.mask_id_number,
    }
    for key, column in _SEALED.items():
        value = getattr(f, key)
        out[f"{column}_enc"] = keys.seal(value, f"talent:{talent_id}:{key}")
        out[f"{column}_masked"] = masks[key](value)
    out["id_number_hash"] = keys.fingerprint("id", f.id_number)
    out["name_phone_hash"] = keys.fingerprint("np", fields.name_phone_key(f.name, f.phone))
    return out


def open_personal(keys: KeyRing, row: Any) -> dict[str, str]:
    return {
        key: keys.open(getattr(row, f"{column}_enc"), f"talent:{row.id}:{key}")
        for key, column in _SEALED.items()
    }


def audit_reveal(
    s: Session,
    principal: Principal,
    rows: list[Any],
    what: tuple[str, ...] = PERSONAL_FIELDS,
    export_root: str = "",
) -> None:
    """Every full view of personal data: an audit row per talent plus an outbox event."""
    if not domain.can_reveal(principal):
        raise PermissionDenied("只有管理员或审核员可以查看完整的个人信息。")
    repository.add_reveals(
        s,
        [
            {
                "talent_id": str(r.id),
                "tenant_path": r.tenant_path,
                "fields": list(what),
                "actor": principal.subject,
                "actor_username": principal.username,
                "actor_tenant_path": principal.tenant_path,
            }
            for r in rows
        ],
    )
    if not rows:
        return
    first = rows[0]
    events.record(
        s,
        principal,
        str(first.tenant_id) if not export_root else principal.tenant_id,
        first.tenant_path if not export_root else principal.tenant_path,
        "talent.personal_data_revealed",
        talent_pb2.PersonalDataRevealed(
            talent_id="" if export_root else str(first.id),
            fields=list(what),
            actor=principal.subject,
            actor_username=principal.username,
            actor_tenant_path=principal.tenant_path,
            count=len(rows),
            export_root=export_root,
            client_ip=principal.client_ip,
        ),
    )
