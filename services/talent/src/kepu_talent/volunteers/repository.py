"""All SQL of i科普 科技志愿服务. Every read filters by the caller's path (``<@ scope``), with
row-level security behind it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from .domain import Org, ServiceRecord, Volunteer

_VOLUNTEER = (
    "v.id::text, v.seq, v.talent_id::text, v.tenant_id::text, ltree2text(v.tenant_path), t.name,"
    " t.specialty, v.phone_masked, v.consent_version, v.consented_at, v.consented_by_username,"
    " v.status FROM volunteers v JOIN talents t ON t.id = v.talent_id"
)
_ORG = (
    "o.id::text, o.tenant_id::text, ltree2text(o.tenant_path), o.name, o.contact_name,"
    " o.contact_phone_masked, o.created_at FROM volunteer_orgs o"
)
_RECORD = (
    "r.id::text, r.org_id::text, o.name, r.volunteer_id::text, t.name, ltree2text(r.tenant_path),"
    " r.served_on, r.place, r.kind, r.hours, r.beneficiaries, r.description, r.status, r.reason,"
    " r.entered_by, r.entered_at, r.decided_at FROM volunteer_records r"
    " JOIN volunteer_orgs o ON o.id = r.org_id JOIN volunteers v ON v.id = r.volunteer_id"
    " JOIN talents t ON t.id = v.talent_id"
)


# ---------------------------------------------------------------- the talent pool and tenants


def talent(s: Session, scope: str, talent_id: str) -> Any:
    """(id, tenant_id, tenant_path, status, name) of a talent of the caller's subtree."""
    return s.execute(
        text(
            "SELECT id::text, tenant_id::text, ltree2text(tenant_path), status, name FROM talents"
            " WHERE id = CAST(:id AS uuid) AND tenant_path <@ CAST(:p AS ltree)"
        ),
        {"id": talent_id, "p": scope},
    ).first()


def tenant(s: Session, scope: str, tenant_id: str) -> Any:
    """(id, path, name, kind) of a tenant of the caller's subtree."""
    return s.execute(
        text(
            "SELECT id::text, ltree2text(path), name, kind FROM tenants WHERE id = CAST(:id AS uuid)"
            " AND path <@ CAST(:p AS ltree)"
        ),
        {"id": tenant_id, "p": scope},
    ).first()


def tenant_at(s: Session, path: str) -> Any:
    return s.execute(
        text(
            "SELECT id::text, ltree2text(path), name, kind FROM tenants"
            " WHERE path = CAST(:p AS ltree)"
        ),
        {"p": path},
    ).first()


def tenant_names(s: Session, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = s.execute(
        text("SELECT id::text, name FROM tenants WHERE id::text = ANY(:ids)"), {"ids": list(ids)}
    )
    return {r[0]: r[1] for r in rows}


def children(s: Session, path: str) -> list[Any]:
    return list(
        s.execute(
            text(
                "SELECT id::text, ltree2text(path), name, kind FROM tenants"
                " WHERE path ~ CAST(:q AS lquery) ORDER BY path"
            ),
            {"q": path + ".*{1}"},
        )
    )


# ---------------------------------------------------------------- volunteers


def insert_volunteer(s: Session, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO volunteers (id, talent_id, tenant_id, tenant_path, phone_enc,"
            " phone_masked, key_version, consent_version, consent_sha256, consented_by,"
            " consented_by_username, status) VALUES (CAST(:id AS uuid), CAST(:talent_id AS uuid),"
            " CAST(:tenant_id AS uuid), CAST(:tenant_path AS ltree), :phone_enc, :phone_masked,"
            " :key_version, :consent_version, :consent_sha256, :by, :by_username, 'active')"
        ),
        row,
    )


def volunteer_of_talent(s: Session, talent_id: str) -> str | None:
    found = s.execute(
        text("SELECT id::text FROM volunteers WHERE talent_id = CAST(:t AS uuid)"), {"t": talent_id}
    ).scalar()
    return str(found) if found else None


def get_volunteer(s: Session, scope: str, volunteer_id: str) -> Volunteer | None:
    row = s.execute(
        text(
            f"SELECT {_VOLUNTEER} WHERE v.id = CAST(:id AS uuid)"
            " AND v.tenant_path <@ CAST(:p AS ltree)"
        ),
        {"id": volunteer_id, "p": scope},
    ).first()
    return Volunteer(*row) if row else None


def list_volunteers(s: Session, scope: str) -> list[Volunteer]:
    rows = s.execute(
        text(
            f"SELECT {_VOLUNTEER} WHERE v.tenant_path <@ CAST(:p AS ltree)"
            " ORDER BY v.tenant_path, t.name LIMIT 2000"
        ),
        {"p": scope},
    )
    return [Volunteer(*r) for r in rows]


# ---------------------------------------------------------------- teams


def insert_org(s: Session, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO volunteer_orgs (id, tenant_id, tenant_path, name, contact_name,"
            " contact_phone_enc, contact_phone_masked, key_version, created_by) VALUES"
            " (CAST(:id AS uuid), CAST(:tenant_id AS uuid), CAST(:tenant_path AS ltree), :name,"
            " :contact_name, :phone_enc, :phone_masked, :key_version, :by)"
        ),
        row,
    )


def org_named(s: Session, tenant_id: str, name: str) -> bool:
    return (
        s.execute(
            text("SELECT 1 FROM volunteer_orgs WHERE tenant_id = CAST(:t AS uuid) AND name = :n"),
            {"t": tenant_id, "n": name},
        ).first()
        is not None
    )


def get_org(s: Session, scope: str, org_id: str) -> Org | None:
    row = s.execute(
        text(
            f"SELECT {_ORG} WHERE o.id = CAST(:id AS uuid) AND o.tenant_path <@ CAST(:p AS ltree)"
        ),
        {"id": org_id, "p": scope},
    ).first()
    return Org(*row) if row else None


def list_orgs(s: Session, scope: str) -> list[Org]:
    rows = s.execute(
        text(
            f"SELECT {_ORG} WHERE o.tenant_path <@ CAST(:p AS ltree)"
            " ORDER BY o.tenant_path, o.name LIMIT 2000"
        ),
        {"p": scope},
    )
    return [Org(*r) for r in rows]


# ---------------------------------------------------------------- service records


def lock_volunteer(s: Session, volunteer_id: str) -> None:
    """Serialises the records of one volunteer, so two entries cannot pass the 24-hour check
    together."""
    s.execute(
        text("SELECT 1 FROM volunteers WHERE id = CAST(:id AS uuid) FOR UPDATE"),
        {"id": volunteer_id},
    )


def hours_on(s: Session, volunteer_id: str, day: date) -> Decimal:
    """The volunteer's hours that day over every team (rejected records aside); the row lies
    under the volunteer's path, which every team that may record the volunteer can read."""
    found = s.execute(
        text(
            "SELECT hours FROM volunteer_days WHERE volunteer_id = CAST(:v AS uuid)"
            " AND served_on = :d"
        ),
        {"v": volunteer_id, "d": day},
    ).scalar()
    return Decimal(found or 0)


def add_day_hours(s: Session, v: Volunteer, day: date, hours: Decimal) -> None:
    s.execute(
        text(
            "INSERT INTO volunteer_days (volunteer_id, served_on, tenant_path, hours) VALUES"
            " (CAST(:v AS uuid), :d, CAST(:p AS ltree), :h) ON CONFLICT (volunteer_id, served_on)"
            " DO UPDATE SET hours = volunteer_days.hours + EXCLUDED.hours"
        ),
        {"v": v.id, "d": day, "p": v.tenant_path, "h": hours},
    )


def remove_day_hours(s: Session, volunteer_id: str, day: date, hours: Decimal) -> None:
    s.execute(
        text(
            "UPDATE volunteer_days SET hours = greatest(hours - :h, 0)"
            " WHERE volunteer_id = CAST(:v AS uuid) AND served_on = :d"
        ),
        {"v": volunteer_id, "d": day, "h": hours},
    )


def insert_record(s: Session, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO volunteer_records (id, org_id, volunteer_id, tenant_path, served_on,"
            " place, kind, hours, beneficiaries, description, entered_by) VALUES"
            " (CAST(:id AS uuid), CAST(:org_id AS uuid), CAST(:volunteer_id AS uuid),"
            " CAST(:tenant_path AS ltree), :served_on, :place, :kind, :hours, :beneficiaries,"
            " :description, :by)"
        ),
        row,
    )


def get_record(
    s: Session, scope: str, record_id: str, *, lock: bool = False
) -> ServiceRecord | None:
    row = s.execute(
        text(
            f"SELECT {_RECORD} WHERE r.id = CAST(:id AS uuid)"
            " AND r.tenant_path <@ CAST(:p AS ltree)" + (" FOR UPDATE OF r" if lock else "")
        ),
        {"id": record_id, "p": scope},
    ).first()
    return ServiceRecord(*row) if row else None


def list_records(
    s: Session, scope: str, org_id: str, volunteer_id: str, status: str, year: int
) -> list[ServiceRecord]:
    q = f"SELECT {_RECORD} WHERE r.tenant_path <@ CAST(:p AS ltree)"
    if org_id:
        q += " AND r.org_id = CAST(:o AS uuid)"
    if volunteer_id:
        q += " AND r.volunteer_id = CAST(:v AS uuid)"
    if status:
        q += " AND r.status = :st"
    if year:
        q += " AND extract(year FROM r.served_on) = :y"
    rows = s.execute(
        text(q + " ORDER BY r.served_on DESC, r.entered_at DESC LIMIT 2000"),
        {"p": scope, "o": org_id, "v": volunteer_id, "st": status, "y": year},
    )
    return [ServiceRecord(*r) for r in rows]


def decide(s: Session, r: ServiceRecord, actor: str) -> None:
    s.execute(
        text(
            "UPDATE volunteer_records SET status = :st, reason = :why, decided_by = :by,"
            " decided_at = now() WHERE id = CAST(:id AS uuid)"
        ),
        {"st": r.status, "why": r.reason, "by": actor, "id": r.id},
    )


# ---------------------------------------------------------------- confirmed hours


_CONFIRMED = (
    " FROM volunteer_records r WHERE r.status = 'confirmed' AND r.tenant_path <@ CAST(:p AS ltree)"
    " AND r.served_on BETWEEN :a AND :b"
)


def _year(scope: str, year: int) -> dict[str, Any]:
    return {"p": scope, "a": date(year, 1, 1), "b": date(year, 12, 31)}


def hours_by_path(s: Session, scope: str, year: int) -> list[tuple[str, Decimal, int, int]]:
    """(team path, hours, records, beneficiaries) of the confirmed records of the year."""
    rows = s.execute(
        text(
            "SELECT ltree2text(r.tenant_path), sum(r.hours), count(*), sum(r.beneficiaries)"
            + _CONFIRMED
            + " GROUP BY r.tenant_path"
        ),
        _year(scope, year),
    )
    return [(r[0], Decimal(r[1]), int(r[2]), int(r[3])) for r in rows]


def hours_by_org(s: Session, scope: str, year: int) -> list[tuple[str, str, Decimal, int, int]]:
    rows = s.execute(
        text(
            "SELECT o.id::text, o.name, coalesce(sum(r.hours), 0), count(r.id),"
            " coalesce(sum(r.beneficiaries), 0) FROM volunteer_orgs o LEFT JOIN volunteer_records r"
            " ON r.org_id = o.id AND r.status = 'confirmed' AND r.served_on BETWEEN :a AND :b"
            " WHERE o.tenant_path <@ CAST(:p AS ltree) GROUP BY o.id, o.name"
            " ORDER BY 3 DESC, o.name LIMIT 500"
        ),
        _year(scope, year),
    )
    return [(r[0], r[1], Decimal(r[2]), int(r[3]), int(r[4])) for r in rows]


def hours_by_volunteer(
    s: Session, scope: str, year: int, volunteer_id: str = ""
) -> list[tuple[str, str, Decimal, int, int]]:
    """Per volunteer: the confirmed records of the year visible in ``scope``."""
    q = (
        "SELECT r.volunteer_id::text, t.name, sum(r.hours), count(*), sum(r.beneficiaries)"
        + _CONFIRMED.replace(
            " FROM volunteer_records r",
            " FROM volunteer_records r JOIN volunteers v ON v.id = r.volunteer_id"
            " JOIN talents t ON t.id = v.talent_id",
        )
    )
    if volunteer_id:
        q += " AND r.volunteer_id = CAST(:v AS uuid)"
    rows = s.execute(
        text(q + " GROUP BY r.volunteer_id, t.name ORDER BY 3 DESC, t.name LIMIT 500"),
        {**_year(scope, year), "v": volunteer_id},
    )
    return [(r[0], r[1], Decimal(r[2]), int(r[3]), int(r[4])) for r in rows]


def hours_by_kind(s: Session, scope: str, year: int, volunteer_id: str) -> dict[str, Decimal]:
    rows = s.execute(
        text(
            "SELECT r.kind, sum(r.hours)" + _CONFIRMED + " AND r.volunteer_id = CAST(:v AS uuid)"
            " GROUP BY r.kind"
        ),
        {**_year(scope, year), "v": volunteer_id},
    )
    return {r[0]: Decimal(r[1]) for r in rows}


def year_hours(s: Session, scope: str, year: int, ids: Sequence[str]) -> dict[str, Decimal]:
    if not ids:
        return {}
    rows = s.execute(
        text(
            "SELECT r.volunteer_id::text, sum(r.hours)"
            + _CONFIRMED
            + " AND r.volunteer_id::text = ANY(:ids) GROUP BY r.volunteer_id"
        ),
        {**_year(scope, year), "ids": list(ids)},
    )
    return {r[0]: Decimal(r[1]) for r in rows}
