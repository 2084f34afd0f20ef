"""All SQL of the talent service. Every read of tenant-owned rows is filtered by the
caller's subtree (``scope``) here, and row-level security backs it up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, and_, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from .models import (
    talent_archive_entries,
    talent_attachments,
    talent_imports,
    talent_reveals,
    talent_reviews,
    talents,
    tenants,
)


def _under(column: Any, scope: str) -> Any:
    return column.op("<@")(func.text2ltree(scope))


# --- tenants read model -----------------------------------------------------------


def tenant_by_id(s: Session, tenant_id: str) -> Row[Any] | None:
    return s.execute(select(tenants).where(tenants.c.id == tenant_id)).first()


def tenant_by_path(s: Session, path: str) -> Row[Any] | None:
    return s.execute(select(tenants).where(tenants.c.path == path)).first()


def kinds_of(s: Session, paths: Iterable[str]) -> dict[str, str]:
    wanted = list(set(paths))
    if not wanted:
        return {}
    rows = s.execute(
        text("SELECT ltree2text(path) AS path, kind FROM tenants WHERE ltree2text(path) = ANY(:p)"),
        {"p": wanted},
    )
    return {r.path: r.kind for r in rows}


def child_tenants(s: Session, path: str) -> Sequence[Row[Any]]:
    return s.execute(
        select(tenants)
        .where(tenants.c.path.op("~")(func.lquery(path + ".*{1}")))
        .order_by(tenants.c.code)
    ).all()


def set_quota(s: Session, tenant_id: str, quota: int | None) -> None:
    s.execute(update(tenants).where(tenants.c.id == tenant_id).values(talent_quota=quota))


# --- talents ----------------------------------------------------------------------


def insert_talents(s: Session, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT per batch (COPY is not allowed on tables with RLS)."""
    if rows:
        s.execute(insert(talents), rows)


def get_talent(s: Session, scope: str, talent_id: str, *, lock: bool = False) -> Row[Any] | None:
    query = select(talents).where(talents.c.id == talent_id, _under(talents.c.tenant_path, scope))
    if lock:
        query = query.with_for_update()
    return s.execute(query).first()


def update_talent(s: Session, talent_id: str, values: dict[str, Any]) -> None:
    s.execute(
        update(talents).where(talents.c.id == talent_id).values(**values, updated_at=func.now())
    )


def search_talents(
    s: Session,
    scope: str,
    *,
    q: str = "",
    specialty: str = "",
    category: str = "",
    status: str = "",
    offset: int = 0,
    limit: int = 20,
) -> tuple[Sequence[Row[Any]], int]:
    conditions = [_under(talents.c.tenant_path, scope)]
    if q:
        like = f"%{_escape_like(q)}%"
        conditions.append(or_(talents.c.name.ilike(like), talents.c.employer.ilike(like)))
    if specialty:
        like = f"%{_escape_like(specialty)}%"
        conditions.append(or_(talents.c.specialty.ilike(like), talents.c.industry.ilike(like)))
    if category:
        conditions.append(talents.c.categories.contains([category]))
    if status:
        conditions.append(talents.c.status == status)
    where = and_(*conditions)
    total = s.execute(select(func.count()).select_from(talents).where(where)).scalar_one()
    rows = s.execute(
        select(talents)
        .where(where)
        .order_by(talents.c.created_at.desc(), talents.c.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return rows, int(total)


def talents_for_export(s: Session, scope: str, status: str = "") -> Sequence[Row[Any]]:
    query = select(talents).where(_under(talents.c.tenant_path, scope))
    if status:
        query = query.where(talents.c.status == status)
    return s.execute(query.order_by(talents.c.tenant_path, talents.c.created_at)).all()


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def existing_fingerprints(
    s: Session,
    province: str,
    id_hashes: list[str],
    name_phone_hashes: list[str],
    exclude_id: str | None = None,
) -> tuple[set[str], set[str]]:
    """Keyed hashes already used by a live talent anywhere in the province.

    Runs in the system scope: it returns hashes only, never a record of another tenant.
    """
    rows = s.execute(
        text(
            "SELECT id_number_hash, name_phone_hash FROM talents"
            " WHERE province = :p AND status NOT IN ('rejected', 'revoked')"
            " AND (id_number_hash = ANY(:ih) OR name_phone_hash = ANY(:nh))"
            " AND (CAST(:ex AS uuid) IS NULL OR id <> CAST(:ex AS uuid))"
        ),
        {"p": province, "ih": id_hashes, "nh": name_phone_hashes, "ex": exclude_id},
    ).all()
    wanted_ids, wanted_np = set(id_hashes), set(name_phone_hashes)
    return (
        {r.id_number_hash for r in rows if r.id_number_hash in wanted_ids},
        {r.name_phone_hash for r in rows if r.name_phone_hash in wanted_np},
    )


def next_certificate_sequence(s: Session) -> int:
    return int(s.execute(text("SELECT nextval('talent_certificate_seq')")).scalar_one())


def counts_by_child(s: Session, scope: str, depth: int) -> dict[str, tuple[int, int]]:
    """(certified, pending) per ancestor at ``depth`` labels, within ``scope``."""
    rows = s.execute(
        text(
            "SELECT ltree2text(subpath(tenant_path, 0, :d)) AS p,"
            " count(*) FILTER (WHERE status = 'certified') AS certified,"
            " count(*) FILTER (WHERE status IN ('recommended', 'city_reviewed')) AS pending"
            " FROM talents WHERE tenant_path <@ text2ltree(:scope) AND nlevel(tenant_path) >= :d"
            " GROUP BY 1"
        ),
        {"d": depth, "scope": scope},
    )
    return {r.p: (int(r.certified), int(r.pending)) for r in rows}


# --- review history and reveal audit ------------------------------------------------


def add_review(s: Session, values: dict[str, Any]) -> None:
    s.execute(insert(talent_reviews).values(**values))


def reviews_of(s: Session, scope: str, talent_id: str) -> Sequence[Row[Any]]:
    return s.execute(
        select(talent_reviews)
        .where(talent_reviews.c.talent_id == talent_id, _under(talent_reviews.c.tenant_path, scope))
        .order_by(talent_reviews.c.id)
    ).all()


def add_reveals(s: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        s.execute(insert(talent_reveals), rows)


def reveals_of(s: Session, scope: str, talent_id: str) -> Sequence[Row[Any]]:
    return s.execute(
        select(talent_reveals)
        .where(talent_reveals.c.talent_id == talent_id, _under(talent_reveals.c.tenant_path, scope))
        .order_by(talent_reveals.c.id)
    ).all()


# --- imports ------------------------------------------------------------------------


def insert_import(s: Session, values: dict[str, Any]) -> None:
    s.execute(insert(talent_imports).values(**values))


def update_import(s: Session, import_id: str, values: dict[str, Any]) -> None:
    s.execute(update(talent_imports).where(talent_imports.c.id == import_id).values(**values))


STALE_IMPORT_MINUTES = 30  # an import is capped at 20,000 rows and takes seconds


def fail_stale_imports(s: Session) -> int:
    """Imports still validating/writing long after they started died with their process.

    The write is one transaction, so nothing of theirs was written; say so to the clerk."""
    result = s.execute(
        update(talent_imports)
        .where(
            talent_imports.c.status.in_(("validating", "writing")),
            talent_imports.c.created_at < func.now() - timedelta(minutes=STALE_IMPORT_MINUTES),
        )
        .values(
            status="failed",
            message="导入因服务中断而未完成，未写入任何数据，请重新导入。",
            finished_at=func.now(),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def get_import(s: Session, scope: str, import_id: str) -> Row[Any] | None:
    return s.execute(
        select(talent_imports).where(
            talent_imports.c.id == import_id, _under(talent_imports.c.tenant_path, scope)
        )
    ).first()


# --- electronic archive ---------------------------------------------------------------


def add_archive_entry(s: Session, values: dict[str, Any]) -> None:
    s.execute(insert(talent_archive_entries).values(**values))


def add_attachment(s: Session, values: dict[str, Any]) -> None:
    s.execute(insert(talent_attachments).values(**values))


def archive_of(
    s: Session, scope: str, talent_id: str
) -> tuple[Sequence[Row[Any]], Sequence[Row[Any]]]:
    entries = s.execute(
        select(talent_archive_entries)
        .where(
            talent_archive_entries.c.talent_id == talent_id,
            _under(talent_archive_entries.c.tenant_path, scope),
        )
        .order_by(talent_archive_entries.c.occurred_on.desc().nulls_last())
    ).all()
    files = s.execute(
        select(talent_attachments)
        .where(
            talent_attachments.c.talent_id == talent_id,
            _under(talent_attachments.c.tenant_path, scope),
        )
        .order_by(talent_attachments.c.created_at)
    ).all()
    return entries, files


def get_attachment(s: Session, scope: str, talent_id: str, attachment_id: str) -> Row[Any] | None:
    return s.execute(
        select(talent_attachments).where(
            talent_attachments.c.id == attachment_id,
            talent_attachments.c.talent_id == talent_id,
            _under(talent_attachments.c.tenant_path, scope),
        )
    ).first()


def tenant_names(s: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = s.execute(select(tenants.c.id, tenants.c.name).where(tenants.c.id.in_(wanted)))
    return {str(r.id): r.name for r in rows}
