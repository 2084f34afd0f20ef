"""All SQL of the reporting service. Every read is scoped twice: by an explicit tenant-path
filter here and by row-level security in the database.

Longer than ~400 lines on purpose: every statement of the reporting schema (report types,
briefs and their roll-up sums, completeness, activities, notifications, the resources read
model) in one module, each read through the one tenant-scoped helper of its aggregate
(``_tenant``, ``_report``, ``_activity_filter``); the roll-up queries read the briefs, the
activities and the tenants together, so splitting by table would split those queries.
e站 stations keep their own SQL (``stations/repository.py``)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.orm import Session

from . import periods, report_types
from .models import Activity, ChildRow, Notification, Report, Tenant

ACTIVE = "status NOT IN ('disabled', 'deleted', 'inactive')"
_TENANT_COLS = (
    "id::text, code, name, kind, parent_id::text, tenant_path::text, status, contact_email"
)
_REPORT_COLS = (
    "id::text, tenant_id::text, tenant_path::text, tenant_kind, type_code, period, status,"
    ' "values", deadline, submitted_at, on_time, return_reason, accepted_at, reviewed_by,'
    " updated_by, version, updated_at"
)


def _tenant(row: Any) -> Tenant:
    return Tenant(*row)


def _report(row: Any) -> Report:
    return Report(*row)


# ---------------------------------------------------------------- tenants


def get_tenant(s: Session, scope_path: str, tenant_id: str) -> Tenant | None:
    row = s.execute(
        text(
            f"SELECT {_TENANT_COLS} FROM tenants WHERE id = CAST(:id AS uuid)"
            " AND tenant_path <@ CAST(:scope AS ltree)"
        ),
        {"id": tenant_id, "scope": scope_path},
    ).first()
    return _tenant(row) if row else None


def tenant_by_path(s: Session, path: str) -> Tenant | None:
    row = s.execute(
        text(f"SELECT {_TENANT_COLS} FROM tenants WHERE tenant_path = CAST(:p AS ltree)"),
        {"p": path},
    ).first()
    return _tenant(row) if row else None


def set_contact_email(s: Session, tenant_id: str, path: str, email: str | None) -> None:
    s.execute(
        text(
            "UPDATE tenants SET contact_email = :e WHERE id = CAST(:id AS uuid)"
            " AND tenant_path = CAST(:p AS ltree)"
        ),
        {"e": email, "id": tenant_id, "p": path},
    )


# ---------------------------------------------------------------- report types


def _type_from_row(row: Any) -> report_types.ReportType:
    fields = tuple(report_types.FieldDef(**f) for f in row.fields)
    rules = {k: periods.DueRule(**v) for k, v in row.due_rules.items()}
    return report_types.ReportType(
        row.code, row.name, row.period_kind, fields, rules, row.tenant_path, row.owner_tenant_id
    )


def custom_types(s: Session, scope_path: str) -> list[report_types.ReportType]:
    """Types defined by the caller's ancestors or by itself (for the caller's subtree)."""
    rows = s.execute(
        text(
            "SELECT code, name, period_kind, fields, due_rules, tenant_path::text AS tenant_path,"
            " owner_tenant_id::text AS owner_tenant_id FROM report_types"
            " WHERE tenant_path @> CAST(:scope AS ltree) ORDER BY created_at"
        ),
        {"scope": scope_path},
    ).all()
    return [_type_from_row(r) for r in rows]


def all_custom_types(s: Session) -> list[report_types.ReportType]:
    rows = s.execute(
        text(
            "SELECT code, name, period_kind, fields, due_rules, tenant_path::text AS tenant_path,"
            " owner_tenant_id::text AS owner_tenant_id FROM report_types ORDER BY created_at"
        )
    ).all()
    return [_type_from_row(r) for r in rows]


def type_code_taken(s: Session, code: str) -> bool:
    # A SECURITY-neutral existence check: the code is the global key of a type.
    return bool(s.execute(text("SELECT 1 FROM report_types WHERE code = :c"), {"c": code}).first())


def insert_type(s: Session, t: report_types.ReportType, actor: str) -> None:
    s.execute(
        text(
            "INSERT INTO report_types (code, name, period_kind, fields, due_rules, tenant_path,"
            " owner_tenant_id, created_by) VALUES (:code, :name, :pk, CAST(:fields AS jsonb),"
            " CAST(:rules AS jsonb), CAST(:path AS ltree), CAST(:owner AS uuid), :actor)"
        ),
        {
            "code": t.code,
            "name": t.name,
            "pk": t.period_kind,
            "fields": json.dumps([f.__dict__ for f in t.fields], ensure_ascii=False),
            "rules": json.dumps({k: r.__dict__ for k, r in t.due_rules.items()}),
            "path": t.owner_path,
            "owner": t.owner_tenant_id,
            "actor": actor,
        },
    )


# ---------------------------------------------------------------- reports


def get_report(
    s: Session, scope_path: str, tenant_id: str, type_code: str, period: str, *, lock: bool = False
) -> Report | None:
    row = s.execute(
        text(
            f"SELECT {_REPORT_COLS} FROM reports WHERE tenant_id = CAST(:t AS uuid)"
            " AND type_code = :c AND period = :p AND tenant_path <@ CAST(:scope AS ltree)"
            + (" FOR UPDATE" if lock else "")
        ),
        {"t": tenant_id, "c": type_code, "p": period, "scope": scope_path},
    ).first()
    return _report(row) if row else None


def save_report(s: Session, r: Report) -> None:
    """Insert or update ``r`` (keyed by tenant, type and period)."""
    s.execute(
        text(
            "INSERT INTO reports (id, tenant_id, tenant_path, tenant_kind, type_code, period, status,"
            ' "values", deadline, submitted_at, on_time, return_reason, accepted_at, reviewed_by,'
            " updated_by, version)"
            " VALUES (CAST(:id AS uuid), CAST(:tenant_id AS uuid), CAST(:tenant_path AS ltree),"
            " :tenant_kind, :type_code, :period, :status, CAST(:values AS jsonb), :deadline,"
            " :submitted_at, :on_time, :return_reason, :accepted_at, :reviewed_by, :updated_by,"
            " :version)"
            " ON CONFLICT (tenant_id, type_code, period) DO UPDATE SET status = EXCLUDED.status,"
            ' "values" = EXCLUDED."values", deadline = EXCLUDED.deadline,'
            " submitted_at = EXCLUDED.submitted_at, on_time = EXCLUDED.on_time,"
            " return_reason = EXCLUDED.return_reason, accepted_at = EXCLUDED.accepted_at,"
            " reviewed_by = EXCLUDED.reviewed_by, updated_by = EXCLUDED.updated_by,"
            " version = EXCLUDED.version, updated_at = now()"
        ),
        {**r.__dict__, "values": json.dumps(r.values, ensure_ascii=False)},
    )


def submitted_paths(s: Session, scope_path: str, type_code: str, period: str) -> dict[str, str]:
    """Path -> report id of the submitted (or accepted) briefs strictly below ``scope_path``."""
    rows = s.execute(
        text(
            "SELECT tenant_path::text, id::text FROM reports"
            " WHERE tenant_path <@ CAST(:scope AS ltree) AND tenant_path <> CAST(:scope AS ltree)"
            " AND type_code = :c AND period = :p AND status IN ('submitted', 'accepted')"
        ),
        {"scope": scope_path, "c": type_code, "p": period},
    ).all()
    return {path: rid for path, rid in rows}


def briefs_with_tenants(
    s: Session, scope_path: str, report_ids: list[str]
) -> list[tuple[Tenant, str, str, datetime | None]]:
    """(tenant, report id, status, submitted_at) of the given reports, in path order."""
    if not report_ids:
        return []
    rows = s.execute(
        text(
            f"SELECT {', '.join('t.' + c for c in _TENANT_COLS.split(', '))},"
            " r.id::text, r.status, r.submitted_at FROM reports r"
            " JOIN tenants t ON t.id = r.tenant_id WHERE r.id = ANY(CAST(:ids AS uuid[]))"
            " AND r.tenant_path <@ CAST(:scope AS ltree) ORDER BY r.tenant_path"
        ),
        {"ids": report_ids, "scope": scope_path},
    ).all()
    return [(_tenant(r[:-3]), r[-3], r[-2], r[-1]) for r in rows]


def sum_fields(
    s: Session, scope_path: str, report_ids: list[str], keys: list[str]
) -> dict[str, int | float]:
    """Sums of the numeric fields ``keys`` over the given reports (below ``scope_path``)."""
    if not report_ids or not keys:
        return {}
    rows = s.execute(
        text(
            "SELECT e.key, sum((e.value)::numeric) FROM reports r,"
            ' jsonb_each_text(r."values") AS e(key, value)'
            " WHERE r.id = ANY(CAST(:ids AS uuid[])) AND r.tenant_path <@ CAST(:scope AS ltree)"
            " AND e.key = ANY(:keys) GROUP BY e.key"
        ),
        {"ids": report_ids, "scope": scope_path, "keys": keys},
    ).all()
    return {k: _num(v) for k, v in rows}


def _num(v: Any) -> int | float:
    f = float(v)
    return int(f) if f.is_integer() else f


# ---------------------------------------------------------------- aggregation (DHIS2-like)


def children_with_reports(
    s: Session, parent_path: str, type_code: str, period: str
) -> list[ChildRow]:
    rows = s.execute(
        text(
            f"SELECT {', '.join('t.' + c for c in _TENANT_COLS.split(', '))}, r.id::text"
            " FROM tenants t LEFT JOIN reports r ON r.tenant_id = t.id AND r.type_code = :c"
            " AND r.period = :p WHERE t.tenant_path ~ CAST(:q AS lquery)"
            " AND t." + ACTIVE + " ORDER BY t.code"
        ),
        {"q": parent_path + ".*{1}", "c": type_code, "p": period},
    ).all()
    ids = [r[-1] for r in rows if r[-1]]
    reports: dict[str, Report] = {}
    if ids:
        for row in s.execute(
            text(f"SELECT {_REPORT_COLS} FROM reports WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": ids},
        ).all():
            rep = _report(row)
            reports[rep.id] = rep
    return [ChildRow(_tenant(r[:-1]), reports.get(r[-1]) if r[-1] else None) for r in rows]


def completeness_rows(
    s: Session, parent_path: str, type_code: str, period: str, kinds: list[str]
) -> list[tuple[str, bool, int, int, int]]:
    """Per tenant kind and per "direct child or deeper": the tenants below ``parent_path``
    that must report, how many submitted, how many on time (one aggregate over the GiST
    index)."""
    rows = s.execute(
        text(
            "SELECT t.kind, nlevel(t.tenant_path) = nlevel(CAST(:path AS ltree)) + 1, count(*),"
            " count(*) FILTER (WHERE r.status IN ('submitted', 'accepted')),"
            " count(*) FILTER (WHERE r.status IN ('submitted', 'accepted') AND r.on_time)"
            " FROM tenants t LEFT JOIN reports r ON r.tenant_id = t.id AND r.type_code = :c"
            " AND r.period = :p WHERE t.tenant_path <@ CAST(:path AS ltree)"
            " AND t.tenant_path <> CAST(:path AS ltree) AND t.kind = ANY(:kinds)"
            " AND t." + ACTIVE + " GROUP BY 1, 2"
        ),
        {"path": parent_path, "c": type_code, "p": period, "kinds": kinds},
    ).all()
    return [(str(k), bool(d), int(n), int(m), int(o)) for k, d, n, m, o in rows]


def overdue_tenants(
    s: Session, parent_path: str, type_code: str, period: str, kinds: list[str], limit: int = 5000
) -> list[Tenant]:
    """Tenants below ``parent_path`` of the given (already past-deadline) kinds that have not
    submitted."""
    if not kinds:
        return []
    rows = s.execute(
        text(
            f"SELECT {', '.join('t.' + c for c in _TENANT_COLS.split(', '))} FROM tenants t"
            " LEFT JOIN reports r ON r.tenant_id = t.id AND r.type_code = :c AND r.period = :p"
            " WHERE t.tenant_path <@ CAST(:path AS ltree) AND t.tenant_path <> CAST(:path AS ltree)"
            " AND t.kind = ANY(:kinds) AND t."
            + ACTIVE
            + " AND (r.status IS NULL OR r.status NOT IN ('submitted', 'accepted'))"
            " ORDER BY t.tenant_path LIMIT :n"
        ),
        {"path": parent_path, "c": type_code, "p": period, "kinds": kinds, "n": limit},
    ).all()
    return [_tenant(r) for r in rows]


# ---------------------------------------------------------------- activities


def insert_activity(s: Session, tenant: Tenant, data: dict[str, Any], actor: str) -> str:
    aid = str(uuid.uuid4())
    s.execute(
        text(
            "INSERT INTO activities (id, tenant_id, tenant_path, title, day, place, form, target,"
            " participants, talents, photos, created_by) VALUES (CAST(:id AS uuid),"
            " CAST(:tid AS uuid), CAST(:path AS ltree), :title, :date, :place, :form, :target,"
            " :participants, CAST(:talents AS jsonb), CAST(:photos AS jsonb), :actor)"
        ),
        {
            **data,
            "id": aid,
            "tid": tenant.id,
            "path": tenant.path,
            "actor": actor,
            "talents": json.dumps(data["talents"], ensure_ascii=False),
            "photos": json.dumps(data["photos"], ensure_ascii=False),
        },
    )
    return aid


_ACTIVITY_COLS = (
    "id::text, tenant_id::text, tenant_path::text, title, day, place, form, target,"
    " participants, talents, photos, created_by, created_at"
)


def _activity_filter(
    scope_path: str, start: date | None, end: date | None, own_tenant_id: str | None
) -> tuple[str, dict[str, Any]]:
    where = "tenant_path <@ CAST(:scope AS ltree)"
    params: dict[str, Any] = {"scope": scope_path}
    if own_tenant_id:
        where += " AND tenant_id = CAST(:tid AS uuid)"
        params["tid"] = own_tenant_id
    if start:
        where += " AND day >= :start"
        params["start"] = start
    if end:
        where += " AND day <= :end"
        params["end"] = end
    return where, params


def list_activities(
    s: Session,
    scope_path: str,
    *,
    start: date | None,
    end: date | None,
    own_tenant_id: str | None,
    limit: int,
    offset: int = 0,
) -> list[Activity]:
    where, params = _activity_filter(scope_path, start, end, own_tenant_id)
    rows = s.execute(
        text(
            f"SELECT {_ACTIVITY_COLS} FROM activities WHERE {where}"
            " ORDER BY day DESC, created_at DESC, id LIMIT :n OFFSET :skip"
        ),
        {**params, "n": limit, "skip": offset},
    ).all()
    return [Activity(*r) for r in rows]


def count_activities(
    s: Session,
    scope_path: str,
    *,
    start: date | None,
    end: date | None,
    own_tenant_id: str | None,
) -> int:
    """A live count (the tenant's own activities: a few rows of ``activities_tenant_day``)."""
    where, params = _activity_filter(scope_path, start, end, own_tenant_id)
    return int(
        s.execute(text(f"SELECT count(*) FROM activities WHERE {where}"), params).scalar_one()
    )


def count_subtree_activities(s: Session, scope_path: str, period: str) -> int:
    """The activities of the tenants under ``scope_path`` in ``period`` (a code such as
    ``2026-10``, ``2026Q4``, ``2026``; ``''`` for all time): a sum of ``activity_counts``
    (migration 0008) over the subtree's tenants, not a count of every activity."""
    return int(
        s.execute(
            text(
                "SELECT coalesce(sum(n), 0) FROM activity_counts WHERE period = :period"
                " AND tenant_path <@ CAST(:scope AS ltree)"
            ),
            {"period": period, "scope": scope_path},
        ).scalar_one()
    )


def get_activity(s: Session, scope_path: str, activity_id: str) -> Activity | None:
    row = s.execute(
        text(
            f"SELECT {_ACTIVITY_COLS} FROM activities WHERE id = CAST(:id AS uuid)"
            " AND tenant_path <@ CAST(:scope AS ltree)"
        ),
        {"id": activity_id, "scope": scope_path},
    ).first()
    return Activity(*row) if row else None


# ---------------------------------------------------------------- notifications


def add_notification(
    s: Session,
    *,
    recipient: Tenant,
    kind: str,
    type_code: str,
    period: str,
    subject_tenant_id: str,
    title: str,
    body: str,
    dedupe_key: str,
) -> bool:
    """Record a notification once (per ``dedupe_key``); True when it is new."""
    row = s.execute(
        text(
            "INSERT INTO notifications (id, tenant_id, tenant_path, kind, type_code, period,"
            " subject_tenant_id, title, body, dedupe_key, email_to) VALUES (CAST(:id AS uuid),"
            " CAST(:tid AS uuid), CAST(:path AS ltree), :kind, :tc, :period, CAST(:subj AS uuid),"
            " :title, :body, :key, :email) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
        ),
        {
            "id": str(uuid.uuid4()),
            "tid": recipient.id,
            "path": recipient.path,
            "kind": kind,
            "tc": type_code,
            "period": period,
            "subj": subject_tenant_id,
            "title": title,
            "body": body,
            "key": dedupe_key,
            "email": recipient.contact_email,
        },
    ).first()
    return row is not None


_NOTE_COLS = (
    "id::text, tenant_id::text, kind, type_code, period, subject_tenant_id::text, title,"
    " body, created_at, read_at, email_to, email_sent_at"
)


def list_notifications(
    s: Session, tenant_id: str, path: str, *, unread_only: bool, limit: int
) -> list[Notification]:
    sql = (
        f"SELECT {_NOTE_COLS} FROM notifications WHERE tenant_id = CAST(:t AS uuid)"
        " AND tenant_path = CAST(:p AS ltree)"
    )
    if unread_only:
        sql += " AND read_at IS NULL"
    rows = s.execute(
        text(sql + " ORDER BY created_at DESC LIMIT :n"), {"t": tenant_id, "p": path, "n": limit}
    ).all()
    return [Notification(*r) for r in rows]


def mark_read(s: Session, tenant_id: str, notification_id: str, now: datetime) -> bool:
    result = cast(
        CursorResult[Any],
        s.execute(
            text(
                "UPDATE notifications SET read_at = coalesce(read_at, :now)"
                " WHERE id = CAST(:id AS uuid) AND tenant_id = CAST(:t AS uuid)"
            ),
            {"id": notification_id, "t": tenant_id, "now": now},
        ),
    )
    return bool(result.rowcount)


def unsent_emails(s: Session, limit: int = 200) -> list[Notification]:
    rows = s.execute(
        text(
            f"SELECT {_NOTE_COLS} FROM notifications WHERE email_sent_at IS NULL"
            " AND email_to IS NOT NULL AND email_error IS NULL ORDER BY created_at LIMIT :n"
            " FOR UPDATE SKIP LOCKED"
        ),
        {"n": limit},
    ).all()
    return [Notification(*r) for r in rows]


def mark_email(
    s: Session, notification_id: str, *, sent_at: datetime | None, error: str | None
) -> None:
    s.execute(
        text(
            "UPDATE notifications SET email_sent_at = :at, email_error = :err"
            " WHERE id = CAST(:id AS uuid)"
        ),
        {"id": notification_id, "at": sent_at, "err": error},
    )


def pending_tenants(
    s: Session, rtype: report_types.ReportType, period: str, kind: str, limit: int = 100000
) -> list[Tenant]:
    """Active tenants of ``kind`` the type applies to that have not submitted for ``period``."""
    scope = rtype.owner_path
    rows = s.execute(
        text(
            f"SELECT {', '.join('t.' + c for c in _TENANT_COLS.split(', '))} FROM tenants t"
            " LEFT JOIN reports r ON r.tenant_id = t.id AND r.type_code = :c AND r.period = :p"
            " WHERE t.kind = :kind AND t."
            + ACTIVE
            + (
                " AND t.tenant_path <@ CAST(:scope AS ltree) AND t.tenant_path <> CAST(:scope AS ltree)"
                if scope
                else ""
            )
            + " AND (r.status IS NULL OR r.status NOT IN ('submitted', 'accepted'))"
            " ORDER BY t.tenant_path LIMIT :n"
        ),
        {"c": rtype.code, "p": period, "kind": kind, "scope": scope, "n": limit},
    ).all()
    return [_tenant(r) for r in rows]


def tenant_by_id_system(s: Session, tenant_id: str | None) -> Tenant | None:
    if not tenant_id:
        return None
    row = s.execute(
        text(f"SELECT {_TENANT_COLS} FROM tenants WHERE id = CAST(:id AS uuid)"), {"id": tenant_id}
    ).first()
    return _tenant(row) if row else None


# ---------------------------------------------------------------- resources (projects' library)


def record_resource(
    s: Session, resource_id: str, tenant_id: str, path: str, kind: str, day: date
) -> None:
    """One published resource (idempotent: a redelivered event changes nothing)."""
    s.execute(
        text(
            "INSERT INTO resource_facts (id, tenant_id, tenant_path, kind, day) VALUES"
            " (CAST(:id AS uuid), CAST(:t AS uuid), CAST(:p AS ltree), :k, :d)"
            " ON CONFLICT (id) DO NOTHING"
        ),
        {"id": resource_id, "t": tenant_id, "p": path, "k": kind, "d": day},
    )


def count_resources(s: Session, scope_path: str, tenant_id: str, start: date, end: date) -> int:
    """Resources of the tenant itself published between ``start`` and ``end`` (inclusive)."""
    return int(
        s.execute(
            text(
                "SELECT count(*) FROM resource_facts WHERE tenant_id = CAST(:t AS uuid)"
                " AND tenant_path <@ CAST(:p AS ltree) AND day BETWEEN :a AND :b"
            ),
            {"t": tenant_id, "p": scope_path, "a": start, "b": end},
        ).scalar_one()
    )
