"""All SQL of certified bases. Reads name the caller's path: a base is seen by its holder and
the levels above it (the certifier among them); row-level security says the same behind it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from .domain import CERTIFIED, Base

_COLS = (
    "id::text, tenant_id::text, tenant_path::text, tenant_name, kind, name, project_id::text,"
    " call_id::text, certifier_path::text, number, certified_on, valid_until, status, revoked_on"
)


def _base(row: Any) -> Base:
    return Base(*row)


def insert(s: Session, b: Base) -> None:
    s.execute(
        text(
            "INSERT INTO bases (id, tenant_id, tenant_path, tenant_name, kind, name, project_id,"
            " call_id, certifier_path, number, certified_on, valid_until, status) VALUES"
            " (CAST(:id AS uuid), CAST(:t AS uuid), CAST(:p AS ltree), :tn, :k, :n,"
            " CAST(:pid AS uuid), CAST(:cid AS uuid), CAST(:cp AS ltree), :no, :on, :until, :st)"
        ),
        {"id": b.id, "t": b.tenant_id, "p": b.tenant_path, "tn": b.tenant_name, "k": b.kind,
         "n": b.name, "pid": b.project_id, "cid": b.call_id, "cp": b.certifier_path,
         "no": b.number, "on": b.certified_on, "until": b.valid_until, "st": b.status},
    )  # fmt: skip


def get(s: Session, scope_path: str, base_id: str, *, lock: bool = False) -> Base | None:
    row = s.execute(
        text(
            f"SELECT {_COLS} FROM bases WHERE id = CAST(:id AS uuid)"
            " AND tenant_path <@ CAST(:p AS ltree)" + (" FOR UPDATE" if lock else "")
        ),
        {"id": base_id, "p": scope_path},
    ).first()
    return _base(row) if row else None


def list_bases(s: Session, scope_path: str, kind: str, status: str, today: date) -> list[Base]:
    q = f"SELECT {_COLS} FROM bases WHERE tenant_path <@ CAST(:p AS ltree)"
    if kind:
        q += " AND kind = :k"
    if status == "expired":
        q += " AND status = 'certified' AND valid_until < :today"
    elif status == CERTIFIED:
        q += " AND status = 'certified' AND valid_until >= :today"
    elif status:
        q += " AND status = :st"
    rows = s.execute(
        text(q + " ORDER BY kind, number LIMIT 2000"),
        {"p": scope_path, "k": kind, "st": status, "today": today},
    )
    return [_base(r) for r in rows]


def save(s: Session, b: Base) -> None:
    s.execute(
        text("UPDATE bases SET status = :st, revoked_on = :r WHERE id = CAST(:id AS uuid)"),
        {"st": b.status, "r": b.revoked_on, "id": b.id},
    )


def numbers_with_prefix(s: Session, prefix: str) -> int:
    """Numbers issued under a prefix (the certifier's own: its subtree holds every one)."""
    return int(
        s.execute(
            text("SELECT count(*) FROM bases WHERE number LIKE :p"), {"p": prefix + "%"}
        ).scalar_one()
    )


def reviews_of(s: Session, base_ids: list[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    if not base_ids:
        return out
    rows = s.execute(
        text(
            "SELECT base_id::text, year, outcome, opinion, created_at FROM base_reviews"
            " WHERE base_id = ANY(CAST(:ids AS uuid[])) ORDER BY year"
        ),
        {"ids": base_ids},
    )
    for r in rows:
        out[r[0]].append(r)
    return out


def insert_review(s: Session, b: Base, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO base_reviews (id, base_id, tenant_path, year, outcome, opinion,"
            " reviewed_by) VALUES (CAST(:id AS uuid), CAST(:bid AS uuid), CAST(:p AS ltree),"
            " :y, :o, :op, :by)"
        ),
        {**row, "bid": b.id, "p": b.tenant_path},
    )


def certified_by_child(s: Session, root: str, today: date) -> dict[str, dict[str, int]]:
    """Bases holding their title today under ``root``, per subtree one level below it (the
    root's own under its own path) and kind."""
    level = root.count(".") + 2
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = s.execute(
        text(
            "SELECT tenant_path::text, kind, count(*) FROM bases WHERE status = 'certified'"
            " AND valid_until >= :today AND tenant_path <@ CAST(:p AS ltree) GROUP BY 1, 2"
        ),
        {"p": root, "today": today},
    )
    for path, kind, n in rows:
        out[".".join(path.split(".")[:level])][kind] += int(n)
    return out


def targets(s: Session, tenant_ids: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    if not tenant_ids:
        return out
    rows = s.execute(
        text(
            "SELECT tenant_id::text, kind, target FROM base_targets"
            " WHERE tenant_id = ANY(CAST(:ids AS uuid[]))"
        ),
        {"ids": tenant_ids},
    )
    for tid, kind, n in rows:
        out[tid][kind] = int(n)
    return out


def save_target(s: Session, tenant_id: str, path: str, kind: str, target: int) -> None:
    s.execute(
        text(
            "INSERT INTO base_targets (tenant_id, tenant_path, kind, target) VALUES"
            " (CAST(:t AS uuid), CAST(:p AS ltree), :k, :n) ON CONFLICT (tenant_id, kind)"
            " DO UPDATE SET target = EXCLUDED.target"
        ),
        {"t": tenant_id, "p": path, "k": kind, "n": target},
    )
