"""Rules of the 先进典型 showcase (seed 000, 七: honours are published every January through the
platform). Pure: no database, no clock."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kepu_common.errors import FieldViolation, InvalidArgument
from kepu_common.objects import JPEG, PNG

KINDS = {
    "unit": "先进单位",
    "talent": "优秀科普人才",
    "activity": "优秀科普活动",
    "resource": "优秀科普作品",
}
# What the gateway checked before it passed a subject on, by kind (the message if it failed).
NOT_PUBLISHED = {
    "talent": "该人才尚未通过认定，不能列为先进典型。",
    "activity": "未找到该科普活动，或无权查看。",
    "resource": "该科普作品尚未发布，不能列为先进典型。",
}
PHOTO_TYPES = {".jpg": JPEG, ".jpeg": JPEG, ".png": PNG}
PHOTO_MAX_BYTES = 5 * 1024 * 1024
CITATION_MIN, CITATION_MAX = 10, 500
NAME_MAX = 200
MAX_ITEMS = 200  # per scheme: a page people read, not a second ranking


@dataclass(frozen=True)
class Item:
    id: str
    scheme_id: str
    year: int
    tenant_path: str
    kind: str
    subject_id: str
    subject_tenant_id: str
    name: str
    unit_name: str
    citation: str
    photo_key: str | None
    photo_type: str | None
    photo_sha256: str | None
    position: int
    published_at: datetime | None
    created_by: str
    created_at: datetime


def check_input(kind: str, subject_id: str, name: str, citation: str) -> None:
    """Field errors of an item, all at once, before anything is stored."""
    errors: list[FieldViolation] = []
    if kind not in KINDS:
        errors.append(
            FieldViolation(
                "kind", "类别应为 先进单位、优秀科普人才、优秀科普活动 或 优秀科普作品。"
            )
        )
    if not subject_id.strip():
        errors.append(FieldViolation("subject_id", "请选择要表彰的对象。"))
    if kind != "unit" and not name.strip():
        errors.append(FieldViolation("name", "名称不能为空。"))
    if len(name) > NAME_MAX:
        errors.append(FieldViolation("name", f"名称不能超过{NAME_MAX}个字。"))
    text = citation.strip()
    if len(text) < CITATION_MIN:
        errors.append(FieldViolation("citation", f"推荐词不少于{CITATION_MIN}个字。"))
    elif len(text) > CITATION_MAX:
        errors.append(FieldViolation("citation", f"推荐词不能超过{CITATION_MAX}个字。"))
    if errors:
        raise InvalidArgument("先进典型信息有误：" + errors[0].message, errors=errors)


def unit_may_be_honoured(honoured: bool, any_honoured: bool) -> bool:
    """A unit is honoured when it is on the scheme's honours list; a scheme without an honours
    rule (nobody honoured) lets the owner pick from every ranked unit."""
    return honoured or not any_honoured


def version(items: Sequence[Item], years: Sequence[int]) -> str:
    """A digest of what the public page shows (the items, their publication and photo, the
    years it links to): it changes with every publication and removal, so it serves as ETag."""
    h = hashlib.md5(usedforsecurity=False)
    for i in items:
        h.update(f"{i.id}:{i.published_at}:{i.photo_sha256 or ''};".encode())
    h.update(",".join(map(str, years)).encode())
    return h.hexdigest()
