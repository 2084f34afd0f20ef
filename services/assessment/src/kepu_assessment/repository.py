"""All SQL of the assessment service. Reads are scoped twice: by an explicit tenant-path filter
here and by row-level security in the database."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from . import domain, scoring
from .models import Scheme, Tenant

ACTIVE = "status NOT IN ('disabled', 'deleted', 'inactive')"
_TENANT_COLS = "id::text, code, name, kind, parent_id::text, tenant_path::text, status"
_SCHEME_COLS = (
    "id::text, year, name, tenant_path::text, owner_tenant_id::text, status, indicators,"
    " honours_top_n, honours_min_score, created_by, created_at, closed_at, published_at,"
    " honours_tie"
)

# ---------------------------------------------------------------- tenants


def tenant_by_path(s: Session, path: str) -> Tenant | None:
    row = s.execute(
        text(f"SELECT {_TENANT_COLS} FROM tenants WHERE tenant_path = CAST(:p AS ltree)"),
        {"p": path},
    ).first()
    return Tenant(*row) if row else None


def children(s: Session, parent_path: str) -> list[Tenant]:
    """The active direct children of ``parent_path`` (the units a scheme assesses)."""
    rows = s.execute(
        text(
            f"SELECT {_TENANT_COLS} FROM tenants WHERE tenant_path ~ CAST(:q AS lquery)"
            f" AND {ACTIVE} ORDER BY code"
        ),
        {"q": f"{parent_path}.*{{1}}"},
    ).all()
    return [Tenant(*r) for r in rows]


# ---------------------------------------------------------------- read model (metrics)


def record_fact(
    s: Session,
    *,
    metric: str,
    subject_id: str,
    tenant_id: str,
    tenant_path: str,
    year: int,
    value: float,
) -> float:
    """Set a fact's value and move the tenant's counter by the difference; returns it."""
    old = s.execute(
        text("SELECT value FROM metric_facts WHERE metric = :m AND subject_id = :sid FOR UPDATE"),
        {"m": metric, "sid": subject_id},
    ).scalar()
    delta = value - (old or 0.0)
    s.execute(
        text(
            "INSERT INTO metric_facts (metric, subject_id, tenant_id, tenant_path, year, value)"
            " VALUES (:m, :sid, CAST(:t AS uuid), CAST(:p AS ltree), :y, :v)"
            " ON CONFLICT (metric, subject_id) DO UPDATE SET value = EXCLUDED.value"
        ),
        {"m": metric, "sid": subject_id, "t": tenant_id, "p": tenant_path, "y": year, "v": value},
    )
    if delta:
        add_to_counter(s, tenant_id, tenant_path, year, metric, delta)
    return delta


def add_to_counter(
    s: Session, tenant_id: str, tenant_path: str, year: int, metric: str, delta: float
) -> None:
    s.execute(
        text(
            "INSERT INTO metric_counters (tenant_id, tenant_path, year, metric, value)"
            " VALUES (CAST(:t AS uuid), CAST(:p AS ltree), :y, :m, :d)"
            " ON CONFLICT (tenant_id, year, metric)"
            " DO UPDATE SET value = metric_counters.value + EXCLUDED.value"
        ),
        {"t": tenant_id, "p": tenant_path, "y": year, "m": metric, "d": delta},
    )


def subtree_counters(
    s: Session, owner_path: str, year: int, cumulative: Iterable[str]
) -> dict[str, dict[str, float]]:
    """Counters rolled up per child subtree: child path -> counter -> sum.

    One scan of the owner's subtree; each row is attributed to the child whose subtree holds
    it (the path's first label below the owner)."""
    level = owner_path.count(".") + 2
    rows = s.execute(
        text(
            "SELECT subpath(tenant_path, 0, :lvl)::text, metric, sum(value)"
            " FROM metric_counters WHERE tenant_path <@ CAST(:owner AS ltree)"
            " AND nlevel(tenant_path) >= :lvl"
            " AND (year = :y OR (year < :y AND metric = ANY(:cum)))"
            " GROUP BY 1, 2"
        ),
        {"lvl": level, "owner": owner_path, "y": year, "cum": list(cumulative)},
    ).all()
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for path, metric, value in rows:
        out[path][metric] = float(value)
    return out


# ---------------------------------------------------------------- schemes


def _scheme(row: Any) -> Scheme:
    inds = tuple(domain.Indicator.from_dict(d) for d in row[6])
    return Scheme(
        row[0], row[1], row[2], row[3], row[4], row[5], inds, row[7], row[8], row[9],
        row[10], row[11], row[12], scoring.TieResolution.from_dict(row[13]),
    )  # fmt: skip


def insert_scheme(s: Session, sc: Scheme) -> None:
    s.execute(
        text(
            "INSERT INTO schemes (id, year, name, tenant_path, owner_tenant_id, status,"
            " indicators, honours_top_n, honours_min_score, created_by) VALUES"
            " (CAST(:id AS uuid), :y, :n, CAST(:p AS ltree), CAST(:o AS uuid), :st,"
            " CAST(:ind AS jsonb), :top, :min, :by)"
        ),
        {
            "id": sc.id,
            "y": sc.year,
            "n": sc.name,
            "p": sc.owner_path,
            "o": sc.owner_tenant_id,
            "st": sc.status,
            "ind": json.dumps([i.as_dict() for i in sc.indicators], ensure_ascii=False),
            "top": sc.honours_top_n,
            "min": sc.honours_min_score,
            "by": sc.created_by,
        },
    )


def get_scheme(s: Session, scope_path: str, scheme_id: str, *, lock: bool = False) -> Scheme | None:
    """A scheme owned in the caller's subtree or by one of its ancestors (who assess it)."""
    row = s.execute(
        text(
            f"SELECT {_SCHEME_COLS} FROM schemes WHERE id = CAST(:id AS uuid)"
            " AND (tenant_path <@ CAST(:scope AS ltree) OR tenant_path @> CAST(:scope AS ltree))"
            + (" FOR UPDATE" if lock else "")
        ),
        {"id": scheme_id, "scope": scope_path},
    ).first()
    return _scheme(row) if row else None


def list_schemes(s: Session, scope_path: str, year: int | None) -> list[Scheme]:
    rows = s.execute(
        text(
            f"SELECT {_SCHEME_COLS} FROM schemes WHERE (tenant_path <@ CAST(:scope AS ltree)"
            " OR tenant_path @> CAST(:scope AS ltree)) AND (CAST(:y AS int) IS NULL OR year = :y)"
            " ORDER BY year DESC, nlevel(tenant_path), created_at"
        ),
        {"scope": scope_path, "y": year},
    ).all()
    return [_scheme(r) for r in rows]


def set_status(s: Session, scheme_id: str, status: str, now: datetime) -> None:
    column = {"closed": "closed_at", "published": "published_at"}[status]
    s.execute(
        text(f"UPDATE schemes SET status = :st, {column} = :now WHERE id = CAST(:id AS uuid)"),
        {"st": status, "now": now, "id": scheme_id},
    )


def set_honours_tie(s: Session, scheme_id: str, resolution: scoring.TieResolution) -> None:
    s.execute(
        text("UPDATE schemes SET honours_tie = CAST(:t AS jsonb) WHERE id = CAST(:id AS uuid)"),
        {"t": json.dumps(resolution.as_dict()), "id": scheme_id},
    )


# ---------------------------------------------------------------- entries


def upsert_entries(
    s: Session,
    scheme: Scheme,
    tenant_id: str,
    entries: dict[str, domain.Entry],
    actor: str,
) -> None:
    s.execute(
        text(
            "INSERT INTO entries (scheme_id, tenant_id, indicator_code, score, value, evidence,"
            " tenant_path, updated_by) VALUES (CAST(:sid AS uuid), CAST(:t AS uuid), :c, :sc,"
            " :v, :ev, CAST(:p AS ltree), :by) ON CONFLICT (scheme_id, tenant_id, indicator_code)"
            " DO UPDATE SET score = EXCLUDED.score, value = EXCLUDED.value,"
            " evidence = EXCLUDED.evidence, updated_by = EXCLUDED.updated_by, updated_at = now()"
        ),
        [
            {
                "sid": scheme.id,
                "t": tenant_id,
                "c": code,
                "sc": e.score,
                "v": e.value,
                "ev": e.evidence,
                "p": scheme.owner_path,
                "by": actor,
            }
            for code, e in entries.items()
        ],
    )


def entries(
    s: Session, scheme: Scheme, tenant_id: str | None = None
) -> dict[str, dict[str, domain.Entry]]:
    """tenant id -> indicator code -> entry."""
    rows = s.execute(
        text(
            "SELECT tenant_id::text, indicator_code, score, value, evidence FROM entries"
            " WHERE scheme_id = CAST(:sid AS uuid) AND tenant_path = CAST(:p AS ltree)"
            " AND (CAST(:t AS uuid) IS NULL OR tenant_id = CAST(:t AS uuid))"
        ),
        {"sid": scheme.id, "p": scheme.owner_path, "t": tenant_id},
    ).all()
    out: dict[str, dict[str, domain.Entry]] = defaultdict(dict)
    for tid, code, score, value, evidence in rows:
        out[tid][code] = domain.Entry(score, value, evidence)
    return out


# ---------------------------------------------------------------- results


def replace_results(
    s: Session, scheme: Scheme, results: list[scoring.ChildResult], details: list[Any]
) -> None:
    s.execute(text("DELETE FROM results WHERE scheme_id = CAST(:sid AS uuid)"), {"sid": scheme.id})
    if not results:
        return
    s.execute(
        text(
            "INSERT INTO results (scheme_id, tenant_id, tenant_path, name, kind, code, total,"
            " rank, honoured, details) VALUES (CAST(:sid AS uuid), CAST(:t AS uuid),"
            " CAST(:p AS ltree), :n, :k, :c, :tot, :r, :h, CAST(:d AS jsonb))"
        ),
        [
            {
                "sid": scheme.id,
                "t": r.tenant_id,
                "p": scheme.owner_path,
                "n": r.name,
                "k": r.kind,
                "c": r.code,
                "tot": r.total,
                "r": r.rank,
                "h": r.honoured,
                "d": json.dumps(d, ensure_ascii=False),
            }
            for r, d in zip(results, details, strict=True)
        ],
    )


def set_honoured(s: Session, scheme: Scheme, honoured: Iterable[str]) -> None:
    """Mark exactly ``honoured`` (tenant ids) as 先进典型 in the frozen results."""
    s.execute(
        text(
            "UPDATE results SET honoured = (tenant_id = ANY(CAST(:ids AS uuid[])))"
            " WHERE scheme_id = CAST(:sid AS uuid) AND tenant_path = CAST(:p AS ltree)"
        ),
        {"ids": list(honoured), "sid": scheme.id, "p": scheme.owner_path},
    )


def publish_results(s: Session, scheme_id: str) -> None:
    s.execute(
        text("UPDATE results SET published = true WHERE scheme_id = CAST(:sid AS uuid)"),
        {"sid": scheme_id},
    )


def stored_results(s: Session, scheme: Scheme) -> list[tuple[scoring.ChildResult, Any]]:
    rows = s.execute(
        text(
            "SELECT tenant_id::text, name, kind, code, total, rank, honoured, details"
            " FROM results WHERE scheme_id = CAST(:sid AS uuid)"
            " AND tenant_path = CAST(:p AS ltree) ORDER BY rank, code"
        ),
        {"sid": scheme.id, "p": scheme.owner_path},
    ).all()
    return [(scoring.ChildResult(r[0], r[1], r[2], r[3], r[4], [], r[5], r[6]), r[7]) for r in rows]


# ---------------------------------------------------------------- allocations (附表1)


def inherited_quota(s: Session, tenant_id: str, year: int, key: str) -> float | None:
    """The quota an ancestor's scheme allocated to ``tenant_id`` for the same measure."""
    return s.execute(
        text(
            "SELECT max(quota) FROM allocations WHERE tenant_id = CAST(:t AS uuid)"
            " AND year = :y AND quota_key = :k"
        ),
        {"t": tenant_id, "y": year, "k": key},
    ).scalar()


def save_allocation(
    s: Session,
    scheme: Scheme,
    code: str,
    key: str,
    parent_quota: float,
    quotas: dict[str, tuple[str, float]],
) -> None:
    """Replace the children's quotas of one indicator (tenant id -> (path, quota))."""
    s.execute(
        text(
            "INSERT INTO allocation_totals (scheme_id, indicator_code, tenant_path, parent_quota)"
            " VALUES (CAST(:sid AS uuid), :c, CAST(:p AS ltree), :q)"
            " ON CONFLICT (scheme_id, indicator_code) DO UPDATE SET parent_quota = EXCLUDED.parent_quota"
        ),
        {"sid": scheme.id, "c": code, "p": scheme.owner_path, "q": parent_quota},
    )
    s.execute(
        text(
            "DELETE FROM allocations WHERE scheme_id = CAST(:sid AS uuid) AND indicator_code = :c"
        ),
        {"sid": scheme.id, "c": code},
    )
    s.execute(
        text(
            "INSERT INTO allocations (scheme_id, indicator_code, quota_key, year, tenant_id,"
            " tenant_path, quota) VALUES (CAST(:sid AS uuid), :c, :k, :y, CAST(:t AS uuid),"
            " CAST(:p AS ltree), :q)"
        ),
        [
            {"sid": scheme.id, "c": code, "k": key, "y": scheme.year, "t": t, "p": p, "q": q}
            for t, (p, q) in quotas.items()
        ],
    )


def allocation_totals(s: Session, scheme: Scheme) -> dict[str, float]:
    rows = s.execute(
        text(
            "SELECT indicator_code, parent_quota FROM allocation_totals"
            " WHERE scheme_id = CAST(:sid AS uuid) AND tenant_path = CAST(:p AS ltree)"
        ),
        {"sid": scheme.id, "p": scheme.owner_path},
    ).all()
    return {c: float(q) for c, q in rows}


def allocations(s: Session, scheme: Scheme, scope_path: str) -> dict[str, dict[str, float]]:
    """tenant id -> indicator code -> quota, for the children the caller may see."""
    rows = s.execute(
        text(
            "SELECT tenant_id::text, indicator_code, quota FROM allocations"
            " WHERE scheme_id = CAST(:sid AS uuid) AND tenant_path <@ CAST(:scope AS ltree)"
        ),
        {"sid": scheme.id, "scope": scope_path},
    ).all()
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for tid, code, q in rows:
        out[tid][code] = float(q)
    return out
