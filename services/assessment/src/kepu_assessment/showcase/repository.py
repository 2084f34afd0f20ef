"""All SQL of the showcase. Drafts are read under the owner's path (row-level security behind);
the public reads run in the system scope and filter on ``published_at`` here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import Tenant
from ..repository import _TENANT_COLS
from .domain import Item

_COLS = (
    "id::text, scheme_id::text, year, tenant_path::text, kind, subject_id,"
    " subject_tenant_id::text, name, unit_name, citation, photo_key, photo_type, photo_sha256,"
    " position, published_at, created_by, created_at"
)
_PUBLIC = (
    "published_at IS NOT NULL AND EXISTS (SELECT 1 FROM schemes sc"
    " WHERE sc.id = i.scheme_id AND sc.status = 'published')"
)


def tenant_by_id(s: Session, tenant_id: str, under: str) -> Tenant | None:
    """A unit of the directory at or under ``under`` (the scheme owner's path)."""
    row = s.execute(
        text(
            f"SELECT {_TENANT_COLS} FROM tenants WHERE id = CAST(:id AS uuid)"
            " AND tenant_path <@ CAST(:p AS ltree)"
        ),
        {"id": tenant_id, "p": under},
    ).first()
    return Tenant(*row) if row else None


def owner_names(s: Session, paths: set[str]) -> dict[str, str]:
    if not paths:
        return {}
    rows = s.execute(
        text(
            "SELECT tenant_path::text, name FROM tenants"
            " WHERE tenant_path::text = ANY(CAST(:ps AS text[]))"
        ),
        {"ps": sorted(paths)},
    ).all()
    return {r[0]: r[1] for r in rows}


def items_of(s: Session, scheme_id: str, owner_path: str) -> list[Item]:
    rows = s.execute(
        text(
            f"SELECT {_COLS} FROM showcase_items i WHERE scheme_id = CAST(:sid AS uuid)"
            " AND tenant_path = CAST(:p AS ltree) ORDER BY position, created_at"
        ),
        {"sid": scheme_id, "p": owner_path},
    ).all()
    return [Item(*r) for r in rows]


def get_item(s: Session, scheme_id: str, item_id: str, owner_path: str) -> Item | None:
    row = s.execute(
        text(
            f"SELECT {_COLS} FROM showcase_items i WHERE id = CAST(:id AS uuid)"
            " AND scheme_id = CAST(:sid AS uuid) AND tenant_path = CAST(:p AS ltree)"
        ),
        {"id": item_id, "sid": scheme_id, "p": owner_path},
    ).first()
    return Item(*row) if row else None


def exists(s: Session, scheme_id: str, kind: str, subject_id: str) -> bool:
    return (
        s.execute(
            text(
                "SELECT 1 FROM showcase_items WHERE scheme_id = CAST(:sid AS uuid)"
                " AND kind = :k AND subject_id = :sub"
            ),
            {"sid": scheme_id, "k": kind, "sub": subject_id},
        ).first()
        is not None
    )


def insert_item(s: Session, v: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO showcase_items (id, scheme_id, year, tenant_path, kind, subject_id,"
            " subject_tenant_id, name, unit_name, citation, photo_key, photo_type, photo_sha256,"
            " position, created_by) VALUES (CAST(:id AS uuid), CAST(:sid AS uuid), :year,"
            " CAST(:path AS ltree), :kind, :sub, CAST(:stid AS uuid), :name, :unit, :citation,"
            " :pkey, :ptype, :psha,"
            " (SELECT coalesce(max(position), 0) + 1 FROM showcase_items"
            "  WHERE scheme_id = CAST(:sid AS uuid)), :by)"
        ),
        v,
    )


def delete_item(s: Session, item_id: str) -> None:
    s.execute(text("DELETE FROM showcase_items WHERE id = CAST(:id AS uuid)"), {"id": item_id})


def publish(s: Session, scheme_id: str, owner_path: str) -> int:
    res = s.execute(
        text(
            "UPDATE showcase_items SET published_at = now() WHERE scheme_id = CAST(:sid AS uuid)"
            " AND tenant_path = CAST(:p AS ltree) AND published_at IS NULL"
        ),
        {"sid": scheme_id, "p": owner_path},
    )
    return int(getattr(res, "rowcount", 0) or 0)


# ---------------------------------------------------------------- public (system scope)


def public_items(s: Session, year: int) -> list[Item]:
    rows = s.execute(
        text(
            f"SELECT {_COLS} FROM showcase_items i WHERE {_PUBLIC}"
            " AND (:year = 0 OR year = :year)"
            " ORDER BY year DESC, tenant_path, array_position("
            "ARRAY['unit', 'talent', 'activity', 'resource'], kind), position"
        ),
        {"year": year},
    ).all()
    return [Item(*r) for r in rows]


def public_years(s: Session) -> list[int]:
    rows = s.execute(
        text(f"SELECT DISTINCT year FROM showcase_items i WHERE {_PUBLIC} ORDER BY year DESC")
    ).all()
    return [int(r[0]) for r in rows]


def public_item(s: Session, item_id: str) -> Item | None:
    row = s.execute(
        text(f"SELECT {_COLS} FROM showcase_items i WHERE id = CAST(:id AS uuid) AND {_PUBLIC}"),
        {"id": item_id},
    ).first()
    return Item(*row) if row else None
