"""All SQL of the resource library. Every read names the caller's path: a resource is seen by
its owner's line (the owner and the levels above), and once published by the owner's subtree
or, shared with the province, by everyone; row-level security says the same behind it."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from .domain import PUBLISHED, Resource

_COLS = (
    "r.id::text, r.tenant_id::text, r.tenant_path::text, r.tenant_name, r.kind, r.title, r.theme,"
    " r.summary, r.author_ids::text[], r.share_scope, r.status, r.return_reason, r.submitted_at,"
    " r.published_at, r.created_at, coalesce(d.downloads, 0)"
)
_FROM = "resources r LEFT JOIN resource_downloads d ON d.resource_id = r.id"
# what the caller at :p may read (the same rule as the table's policy)
_SEEN = (
    "(r.tenant_path <@ CAST(:p AS ltree) OR (r.status = 'published' AND"
    " (r.share_scope = 'province' OR CAST(:p AS ltree) <@ r.tenant_path)))"
)
_FILE_COLS = (
    "id::text, resource_id::text, filename, content_type, size, sha256, created_at, storage_key"
)


def _resource(row: Any) -> Resource:
    return Resource(
        id=row[0], tenant_id=row[1], tenant_path=row[2], tenant_name=row[3], kind=row[4],
        title=row[5], theme=row[6], summary=row[7], author_ids=list(row[8] or []),
        share_scope=row[9], status=row[10], return_reason=row[11], submitted_at=row[12],
        published_at=row[13], created_at=row[14], downloads=int(row[15]),
    )  # fmt: skip


def insert(s: Session, r: Resource, actor: str) -> None:
    s.execute(
        text(
            "INSERT INTO resources (id, tenant_id, tenant_path, tenant_name, kind, title, theme,"
            " summary, author_ids, share_scope, status, created_by) VALUES (CAST(:id AS uuid),"
            " CAST(:t AS uuid), CAST(:p AS ltree), :tn, :k, :ti, :th, :su, CAST(:a AS uuid[]),"
            " :sc, :st, :by)"
        ),
        {"id": r.id, "t": r.tenant_id, "p": r.tenant_path, "tn": r.tenant_name, "k": r.kind,
         "ti": r.title, "th": r.theme, "su": r.summary, "a": r.author_ids, "sc": r.share_scope,
         "st": r.status, "by": actor},
    )  # fmt: skip


def save(s: Session, r: Resource) -> None:
    s.execute(
        text(
            "UPDATE resources SET kind = :k, title = :ti, theme = :th, summary = :su,"
            " author_ids = CAST(:a AS uuid[]), share_scope = :sc, status = :st,"
            " return_reason = :rr, submitted_at = :sa, published_at = :pa, updated_at = now()"
            " WHERE id = CAST(:id AS uuid)"
        ),
        {"k": r.kind, "ti": r.title, "th": r.theme, "su": r.summary, "a": r.author_ids,
         "sc": r.share_scope, "st": r.status, "rr": r.return_reason, "sa": r.submitted_at,
         "pa": r.published_at, "id": r.id},
    )  # fmt: skip


def get(s: Session, scope_path: str, resource_id: str, *, lock: bool = False) -> Resource | None:
    row = s.execute(
        text(
            f"SELECT {_COLS} FROM {_FROM} WHERE r.id = CAST(:id AS uuid) AND {_SEEN}"
            + (" FOR UPDATE OF r" if lock else "")
        ),
        {"id": resource_id, "p": scope_path},
    ).first()
    return _resource(row) if row else None


def list_resources(
    s: Session, scope_path: str, *, shared: bool, kind: str, theme: str, status: str, q: str,
    limit: int, offset: int,
) -> tuple[list[Resource], int]:  # fmt: skip
    """The caller's subtree's resources, or (``shared``) every published one it may read."""
    where = [
        _SEEN + " AND r.status = 'published'" if shared else "r.tenant_path <@ CAST(:p AS ltree)"
    ]
    params: dict[str, Any] = {"p": scope_path, "k": kind, "th": theme, "st": status,
                              "q": f"%{q}%", "lim": limit, "off": offset}  # fmt: skip
    for value, cond in ((kind, "r.kind = :k"), (theme, "r.theme = :th"), (status, "r.status = :st"),
                        (q, "r.title ILIKE :q")):  # fmt: skip
        if value:
            where.append(cond)
    cond = " AND ".join(where)
    total = s.execute(text(f"SELECT count(*) FROM resources r WHERE {cond}"), params).scalar_one()
    rows = s.execute(
        text(
            f"SELECT {_COLS} FROM {_FROM} WHERE {cond}"
            " ORDER BY coalesce(r.published_at, r.created_at) DESC, r.id LIMIT :lim OFFSET :off"
        ),
        params,
    )
    return [_resource(x) for x in rows], int(total)


def count_download(s: Session, r: Resource) -> None:
    s.execute(
        text(
            "INSERT INTO resource_downloads (resource_id, tenant_path, downloads) VALUES"
            " (CAST(:id AS uuid), CAST(:p AS ltree), 1) ON CONFLICT (resource_id)"
            " DO UPDATE SET downloads = resource_downloads.downloads + 1"
        ),
        {"id": r.id, "p": r.tenant_path},
    )


# ---------------------------------------------------------------- files


def insert_file(s: Session, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO resource_files (id, resource_id, tenant_path, filename, content_type,"
            " size, sha256, storage_key, created_by) VALUES (CAST(:id AS uuid),"
            " CAST(:rid AS uuid), CAST(:path AS ltree), :name, :ctype, :size, :sha, :key, :by)"
        ),
        row,
    )


def files_of(s: Session, resource_ids: list[str]) -> dict[str, list[Any]]:
    """Files of resources the caller has already been allowed to read."""
    out: dict[str, list[Any]] = defaultdict(list)
    if not resource_ids:
        return out
    rows = s.execute(
        text(
            f"SELECT {_FILE_COLS} FROM resource_files WHERE resource_id = ANY(CAST(:ids AS uuid[]))"
            " ORDER BY created_at, id"
        ),
        {"ids": resource_ids},
    )
    for r in rows:
        out[r[1]].append(r)
    return out


# ---------------------------------------------------------------- authors (talents read model)


def upsert_talent(s: Session, talent_id: str, path: str, status: str) -> None:
    s.execute(
        text(
            "INSERT INTO talents (id, tenant_path, status) VALUES (CAST(:id AS uuid),"
            " CAST(:p AS ltree), :st) ON CONFLICT (id) DO UPDATE SET"
            " tenant_path = EXCLUDED.tenant_path, status = EXCLUDED.status"
        ),
        {"id": talent_id, "p": path, "st": status},
    )


def talents_in(s: Session, scope_path: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` are talents of the subtree (any status but rejected or withdrawn)."""
    if not ids:
        return set()
    rows = s.execute(
        text(
            "SELECT id::text FROM talents WHERE id = ANY(CAST(:ids AS uuid[]))"
            " AND tenant_path <@ CAST(:p AS ltree) AND status NOT IN ('rejected', 'withdrawn')"
        ),
        {"ids": ids, "p": scope_path},
    )
    return {r[0] for r in rows}


# ---------------------------------------------------------------- yearly count


def published_by_child(
    s: Session, root: str, first: datetime, after: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """Resources published in [first, after) under ``root``, per subtree one level below it
    (the root's own under its own path), and per kind."""
    level = root.count(".") + 2
    per_path: dict[str, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    rows = s.execute(
        text(
            "SELECT tenant_path::text, kind, count(*) FROM resources WHERE status = :st"
            " AND tenant_path <@ CAST(:p AS ltree) AND published_at >= :a AND published_at < :b"
            " GROUP BY 1, 2"
        ),
        {"st": PUBLISHED, "p": root, "a": first, "b": after},
    )
    for path, kind, n in rows:
        per_path[".".join(path.split(".")[:level])] += int(n)
        by_kind[kind] += int(n)
    return per_path, by_kind
