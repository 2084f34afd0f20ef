"""All SQL of the e站 network. Reads filter by the caller's path, with row-level security behind."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import Tenant
from .domain import CERTIFIED, Station

_COLS = (
    "id::text, tenant_id::text, tenant_path::text, kind, name, address, host, conditions, status,"
    " plaque_no, informant_ids, opinion"
)


def _station(row: Any) -> Station:
    return Station(*row)


def insert(s: Session, st: Station, actor: str) -> None:
    s.execute(
        text(
            "INSERT INTO stations (id, tenant_id, tenant_path, kind, name, address, host,"
            " conditions, status, created_by) VALUES (CAST(:id AS uuid), CAST(:t AS uuid),"
            " CAST(:p AS ltree), :k, :n, :a, :h, CAST(:c AS jsonb), :st, :by)"
        ),
        {"id": st.id, "t": st.tenant_id, "p": st.tenant_path, "k": st.kind, "n": st.name,
         "a": st.address, "h": st.host, "c": json.dumps(st.conditions), "st": st.status, "by": actor},
    )  # fmt: skip


def get(s: Session, scope_path: str, station_id: str, *, lock: bool = False) -> Station | None:
    row = s.execute(
        text(
            f"SELECT {_COLS} FROM stations WHERE id = CAST(:id AS uuid)"
            " AND tenant_path <@ CAST(:p AS ltree)" + (" FOR UPDATE" if lock else "")
        ),
        {"id": station_id, "p": scope_path},
    ).first()
    return _station(row) if row else None


def list_stations(s: Session, scope_path: str, kind: str, status: str) -> list[Station]:
    q = f"SELECT {_COLS} FROM stations WHERE tenant_path <@ CAST(:p AS ltree)"
    if kind:
        q += " AND kind = :k"
    if status:
        q += " AND status = :st"
    rows = s.execute(
        text(q + " ORDER BY tenant_path, name LIMIT 2000"),
        {"p": scope_path, "k": kind, "st": status},
    )
    return [_station(r) for r in rows]


def save(s: Session, st: Station, *, certified_now: bool = False) -> None:
    s.execute(
        text(
            "UPDATE stations SET status = :st, plaque_no = :no, informant_ids = :inf,"
            " opinion = :op" + (", certified_at = now()" if certified_now else "") +
            " WHERE id = CAST(:id AS uuid)"
        ),
        {"st": st.status, "no": st.plaque_no, "inf": st.informant_ids, "op": st.opinion, "id": st.id},
    )  # fmt: skip


def plaques_with_prefix(s: Session, prefix: str) -> int:
    """Plaques issued under a prefix; read in the system scope, as numbers run city-wide."""
    return int(
        s.execute(
            text("SELECT count(*) FROM stations WHERE plaque_no LIKE :p"), {"p": prefix + "%"}
        ).scalar_one()
    )


# ---------------------------------------------------------------- talents read model


def upsert_talent(s: Session, talent_id: str, path: str, status: str) -> None:
    s.execute(
        text(
            "INSERT INTO talents (id, tenant_path, status) VALUES (CAST(:id AS uuid),"
            " CAST(:p AS ltree), :st) ON CONFLICT (id) DO UPDATE SET tenant_path = EXCLUDED.tenant_path,"
            " status = EXCLUDED.status"
        ),
        {"id": talent_id, "p": path, "st": status},
    )


def talent(s: Session, scope_path: str, talent_id: str) -> tuple[str, str] | None:
    row = s.execute(
        text(
            "SELECT tenant_path::text, status FROM talents WHERE id = CAST(:id AS uuid)"
            " AND tenant_path <@ CAST(:p AS ltree)"
        ),
        {"id": talent_id, "p": scope_path},
    ).first()
    return (row[0], row[1]) if row else None


# ---------------------------------------------------------------- schedules and activities


def save_schedule(s: Session, st: Station, month: str, items: list[str]) -> None:
    s.execute(
        text(
            "INSERT INTO station_schedules (station_id, month, tenant_path, items) VALUES"
            " (CAST(:id AS uuid), :m, CAST(:p AS ltree), CAST(:i AS jsonb))"
            " ON CONFLICT (station_id, month) DO UPDATE SET items = EXCLUDED.items"
        ),
        {"id": st.id, "m": month, "p": st.tenant_path, "i": json.dumps(items, ensure_ascii=False)},
    )


def insert_activity(s: Session, st: Station, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO station_activities (id, station_id, tenant_path, day, title, participants,"
            " created_by) VALUES (CAST(:id AS uuid), CAST(:sid AS uuid), CAST(:p AS ltree), :d, :t,"
            " :n, :by)"
        ),
        {**row, "sid": st.id, "p": st.tenant_path},
    )


def schedules(s: Session, station_id: str, year: int) -> set[str]:
    rows = s.execute(
        text(
            "SELECT month FROM station_schedules WHERE station_id = CAST(:id AS uuid) AND month LIKE :y"
        ),
        {"id": station_id, "y": f"{year}-%"},
    )
    return {r[0] for r in rows}


def activity_by_month(s: Session, station_id: str, year: int) -> dict[str, tuple[int, int]]:
    rows = s.execute(
        text(
            "SELECT to_char(day, 'YYYY-MM'), count(*), max(participants) FROM station_activities"
            " WHERE station_id = CAST(:id AS uuid) AND day BETWEEN :a AND :b GROUP BY 1"
        ),
        {"id": station_id, "a": date(year, 1, 1), "b": date(year, 12, 31)},
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def unmet(s: Session, scope_path: str, first: date, last: date) -> tuple[int, list[Station]]:
    """Certified stations of the subtree, and those without a 50-people activity in the month."""
    total = s.execute(
        text(
            "SELECT count(*) FROM stations WHERE status = :c AND tenant_path <@ CAST(:p AS ltree)"
        ),
        {"c": CERTIFIED, "p": scope_path},
    ).scalar_one()
    rows = s.execute(
        text(
            f"SELECT {_COLS} FROM stations st WHERE status = :c AND tenant_path <@ CAST(:p AS ltree)"
            " AND NOT EXISTS (SELECT 1 FROM station_activities a WHERE a.station_id = st.id"
            " AND a.day BETWEEN :a AND :b AND a.participants >= 50) ORDER BY tenant_path, name LIMIT 2000"
        ),
        {"c": CERTIFIED, "p": scope_path, "a": first, "b": last},
    )
    return int(total), [_station(r) for r in rows]


# ---------------------------------------------------------------- denominators and coverage


def overlapping_denominator(s: Session, path: str, year: int) -> str | None:
    """A tenant above or below ``path`` that already entered the year's numbers."""
    return s.execute(
        text(
            "SELECT tenant_path::text FROM coverage_denominators WHERE year = :y"
            " AND tenant_path <> CAST(:p AS ltree)"
            " AND (tenant_path <@ CAST(:p AS ltree) OR tenant_path @> CAST(:p AS ltree)) LIMIT 1"
        ),
        {"y": year, "p": path},
    ).scalar()


def save_denominators(s: Session, tenant_id: str, path: str, year: int, v: dict[str, int]) -> None:
    s.execute(
        text(
            "INSERT INTO coverage_denominators (tenant_id, tenant_path, year, communities, schools,"
            " villages) VALUES (CAST(:t AS uuid), CAST(:p AS ltree), :y, :c, :s, :v)"
            " ON CONFLICT (tenant_id, year) DO UPDATE SET communities = EXCLUDED.communities,"
            " schools = EXCLUDED.schools, villages = EXCLUDED.villages"
        ),
        {"t": tenant_id, "p": path, "y": year, "c": v["communities"], "s": v["schools"], "v": v["villages"]},
    )  # fmt: skip


def count_certified(s: Session, st: Station, delta: int) -> None:
    """Move the tenant's count of certified stations of the kind (what coverage reads)."""
    if delta < 0:  # it was counted when certified
        s.execute(
            text(
                "UPDATE station_counts SET certified = certified + :d"
                " WHERE tenant_id = CAST(:t AS uuid) AND kind = :k"
            ),
            {"t": st.tenant_id, "k": st.kind, "d": delta},
        )
        return
    s.execute(
        text(
            "INSERT INTO station_counts (tenant_id, tenant_path, kind, certified) VALUES"
            " (CAST(:t AS uuid), CAST(:p AS ltree), :k, :d) ON CONFLICT (tenant_id, kind)"
            " DO UPDATE SET certified = station_counts.certified + EXCLUDED.certified"
        ),
        {"t": st.tenant_id, "p": st.tenant_path, "k": st.kind, "d": delta},
    )


def certified_by_kind(s: Session, path: str) -> dict[str, int]:
    rows = s.execute(
        text(
            "SELECT kind, sum(certified) FROM station_counts"
            " WHERE tenant_path <@ CAST(:p AS ltree) GROUP BY kind"
        ),
        {"p": path},
    )
    return {r[0]: int(r[1]) for r in rows}


def coverage_by_child(s: Session, root: str, year: int) -> dict[str, dict[str, int]]:
    """Certified stations and denominators summed per subtree one level below ``root`` (the
    root's own rows under its own path). Reads the per-tenant counts, not the stations, so a
    province's 50,000 stations are a few thousand rows."""
    level = root.count(".") + 2
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = s.execute(
        text(
            "SELECT tenant_path::text, kind, certified FROM station_counts"
            " WHERE tenant_path <@ CAST(:p AS ltree) AND certified <> 0"
        ),
        {"p": root},
    )
    for path, kind, n in rows:
        out[_below(path, level)][kind] += int(n)
    rows = s.execute(
        text(
            "SELECT tenant_path::text, communities, schools, villages FROM coverage_denominators"
            " WHERE year = :y AND tenant_path <@ CAST(:p AS ltree)"
        ),
        {"y": year, "p": root},
    )
    for path, c, sc, v in rows:
        key = out[_below(path, level)]
        key["communities"] += int(c)
        key["schools"] += int(sc)
        key["villages"] += int(v)
    return out


def _below(path: str, level: int) -> str:
    """The path cut to ``level`` labels (the child of the root whose subtree holds it)."""
    return ".".join(path.split(".")[:level])


def children(s: Session, path: str) -> list[Tenant]:
    rows = s.execute(
        text(
            "SELECT id::text, code, name, kind, parent_id::text, tenant_path::text, status"
            " FROM tenants WHERE tenant_path ~ CAST(:q AS lquery) ORDER BY code"
        ),
        {"q": f"{path}.*{{1}}"},
    )
    return [Tenant(*r) for r in rows]


# ---------------------------------------------------------------- 五有 evidence files

_EVIDENCE_COLS = (
    "id::text, station_id::text, condition, filename, content_type, size, sha256, created_at,"
    " storage_key"
)


def insert_evidence(s: Session, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO station_evidence (id, station_id, condition, tenant_path, filename,"
            " content_type, size, sha256, storage_key, created_by) VALUES (CAST(:id AS uuid),"
            " CAST(:station AS uuid), :cond, CAST(:path AS ltree), :name, :ctype, :size, :sha,"
            " :key, :by)"
        ),
        row,
    )


def evidence_of(s: Session, scope_path: str, station_ids: list[str]) -> list[Any]:
    if not station_ids:
        return []
    return list(
        s.execute(
            text(
                f"SELECT {_EVIDENCE_COLS} FROM station_evidence"
                " WHERE station_id = ANY(CAST(:ids AS uuid[]))"
                " AND tenant_path <@ CAST(:p AS ltree) ORDER BY created_at, id"
            ),
            {"ids": station_ids, "p": scope_path},
        )
    )


def get_evidence(s: Session, scope_path: str, station_id: str, evidence_id: str) -> Any:
    return s.execute(
        text(
            f"SELECT {_EVIDENCE_COLS} FROM station_evidence WHERE id = CAST(:id AS uuid)"
            " AND station_id = CAST(:station AS uuid) AND tenant_path <@ CAST(:p AS ltree)"
        ),
        {"id": evidence_id, "station": station_id, "p": scope_path},
    ).first()
