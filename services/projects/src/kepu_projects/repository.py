"""All SQL of the projects service. Every read is scoped twice: by an explicit tenant-path
filter here and by row-level security in the database.

Longer than ~400 lines on purpose: one module holds every statement of the projects schema's
core tables (calls, projects, level opinions, progress, expert scores, yearly counts) so that
each read goes through the one tenant-scoped helper of its aggregate (``_call``, ``_project``)
and a reviewer sees every query of a table in one place; the subpackages keep their own SQL."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from .models import (
    Call,
    Counts,
    ExpertScore,
    Opinion,
    ProgressReport,
    Project,
    ScoreRevision,
    Tenant,
)

_TENANT_COLS = "id::text, code, name, kind, parent_id::text, tenant_path::text, status"
_CALL_COLS = (
    "c.id::text, c.tenant_id::text, c.tenant_path::text, c.owner_name, c.title, c.programme,"
    " c.year, c.description, c.deadline, c.quota, c.criteria, c.min_reviewers, c.created_at,"
    " (SELECT count(*) FROM projects p WHERE p.call_id = c.id AND p.approved_at IS NOT NULL),"
    " c.outcome, c.base_kind, c.validity_years"
)
_PROJECT_FIELDS = (
    "id",
    "tenant_id",
    "tenant_path",
    "tenant_name",
    "call_id",
    "name",
    "applicant_unit",
    "completing_unit",
    "contact_person",
    "phone_sealed",
    "phone_masked",
    "category",
    "start_month",
    "end_month",
    "content",
    "expected_performance",
    "budget",
    "status",
    "awaiting_path",
    "submitted_at",
    "approved_at",
    "library_no",
    "rejected_at",
    "reject_reason",
    "completed_at",
    "completion_summary",
    "evaluated_at",
    "evaluation_score",
    "evaluation_grade",
    "evaluation_comment",
    "award_recommended",
    "returned_at",
    "return_reason",
    "version",
    "created_by",
    "created_at",
    "updated_at",
)
_CASTS = {
    "id": "uuid",
    "tenant_id": "uuid",
    "call_id": "uuid",
    "tenant_path": "ltree",
    "awaiting_path": "ltree",
}
_PROJECT_COLS = (
    ", ".join(f"p.{f}::text" if f in _CASTS else f"p.{f}" for f in _PROJECT_FIELDS)
    + ", coalesce(c.title, ''), coalesce(c.programme, ''), coalesce(c.tenant_path::text, '')"
)
_FROM_PROJECTS = "FROM projects p LEFT JOIN calls c ON c.id = p.call_id"


def _call(row: Any) -> Call:
    criteria = tuple((str(c["name"]), float(c["weight"])) for c in row[10])
    return Call(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        int(row[6]),
        row[7],
        row[8],
        row[9],
        criteria,
        int(row[11]),
        row[12],
        int(row[13]),
        row[14],
        row[15],
        int(row[16]),
    )


def _project(row: Any) -> Project:
    values = list(row)
    if values[9] is not None:
        values[9] = bytes(values[9])
    return Project(*values)


# ---------------------------------------------------------------- tenants


def tenant_by_path(s: Session, path: str) -> Tenant | None:
    row = s.execute(
        text(f"SELECT {_TENANT_COLS} FROM tenants WHERE tenant_path = CAST(:p AS ltree)"),
        {"p": path},
    ).first()
    return Tenant(*row) if row else None


def get_tenant(s: Session, scope_path: str, tenant_id: str) -> Tenant | None:
    row = s.execute(
        text(
            f"SELECT {_TENANT_COLS} FROM tenants WHERE id = CAST(:id AS uuid)"
            " AND tenant_path <@ CAST(:scope AS ltree)"
        ),
        {"id": tenant_id, "scope": scope_path},
    ).first()
    return Tenant(*row) if row else None


def children(s: Session, parent: Tenant) -> list[Tenant]:
    rows = s.execute(
        text(
            f"SELECT {_TENANT_COLS} FROM tenants WHERE tenant_path ~ CAST(:q AS lquery)"
            " AND status NOT IN ('disabled', 'deleted') ORDER BY code"
        ),
        {"q": f"{parent.path}.*{{1}}"},
    ).all()
    return [Tenant(*r) for r in rows]


# ---------------------------------------------------------------- calls


def insert_call(s: Session, c: Call, actor: str) -> None:
    s.execute(
        text(
            "INSERT INTO calls (id, tenant_id, tenant_path, owner_name, title, programme, year,"
            " description, deadline, quota, criteria, min_reviewers, created_by, outcome,"
            " base_kind, validity_years)"
            " VALUES (CAST(:id AS uuid), CAST(:tid AS uuid), CAST(:path AS ltree), :owner,"
            " :title, :programme, :year, :description, :deadline, :quota,"
            " CAST(:criteria AS jsonb), :min_reviewers, :actor, :outcome, :base_kind,"
            " :validity_years)"
        ),
        {
            "id": c.id,
            "tid": c.tenant_id,
            "path": c.tenant_path,
            "owner": c.owner_name,
            "title": c.title,
            "programme": c.programme,
            "year": c.year,
            "description": c.description,
            "deadline": c.deadline,
            "quota": c.quota,
            "criteria": json.dumps(
                [{"name": n, "weight": w} for n, w in c.criteria], ensure_ascii=False
            ),
            "min_reviewers": c.min_reviewers,
            "actor": actor,
            "outcome": c.outcome,
            "base_kind": c.base_kind,
            "validity_years": c.validity_years,
        },
    )


def close_call(s: Session, call_id: str, at: datetime) -> None:
    s.execute(
        text("UPDATE calls SET deadline = :at WHERE id = CAST(:id AS uuid)"),
        {"id": call_id, "at": at},
    )


def get_call(s: Session, scope_path: str, call_id: str) -> Call | None:
    """A call of the caller's ancestors, of itself or of its descendants."""
    row = s.execute(
        text(
            f"SELECT {_CALL_COLS} FROM calls c WHERE c.id = CAST(:id AS uuid) AND"
            " (c.tenant_path @> CAST(:scope AS ltree) OR c.tenant_path <@ CAST(:scope AS ltree))"
        ),
        {"id": call_id, "scope": scope_path},
    ).first()
    return _call(row) if row else None


def list_calls(
    s: Session, scope_path: str, *, fileable_only: bool, open_after: datetime | None
) -> list[Call]:
    where = (
        "c.tenant_path @> CAST(:scope AS ltree) AND c.tenant_path <> CAST(:scope AS ltree)"
        if fileable_only
        else "(c.tenant_path @> CAST(:scope AS ltree) OR c.tenant_path <@ CAST(:scope AS ltree))"
    )
    if open_after is not None:
        where += " AND c.deadline >= :now"
    rows = s.execute(
        text(f"SELECT {_CALL_COLS} FROM calls c WHERE {where} ORDER BY c.deadline DESC LIMIT 500"),
        {"scope": scope_path, "now": open_after},
    ).all()
    return [_call(r) for r in rows]


def approved_in_call(s: Session, call_id: str) -> int:
    return int(
        s.execute(
            text(
                "SELECT count(*) FROM projects WHERE call_id = CAST(:c AS uuid)"
                " AND approved_at IS NOT NULL"
            ),
            {"c": call_id},
        ).scalar_one()
    )


# ---------------------------------------------------------------- projects


def _params(p: Project) -> dict[str, Any]:
    return {f: getattr(p, f) for f in _PROJECT_FIELDS if f not in ("created_at", "updated_at")}


def insert_project(s: Session, p: Project) -> None:
    fields = [f for f in _PROJECT_FIELDS if f not in ("created_at", "updated_at")]
    values = ", ".join(f"CAST(:{f} AS {_CASTS[f]})" if f in _CASTS else f":{f}" for f in fields)
    s.execute(text(f"INSERT INTO projects ({', '.join(fields)}) VALUES ({values})"), _params(p))


def save_project(s: Session, p: Project) -> None:
    """Write every mutable column of ``p`` (the row was read with ``lock=True``)."""
    fixed = ("id", "tenant_id", "tenant_path", "created_by", "created_at", "updated_at")
    sets = ", ".join(
        f"{f} = CAST(:{f} AS {_CASTS[f]})" if f in _CASTS else f"{f} = :{f}"
        for f in _PROJECT_FIELDS
        if f not in fixed
    )
    s.execute(
        text(
            f"UPDATE projects SET {sets}, updated_at = now() WHERE id = CAST(:id AS uuid)"
            " AND tenant_path = CAST(:tenant_path AS ltree)"
        ),
        _params(p),
    )


def get_project(
    s: Session, scope_path: str, project_id: str, *, lock: bool = False
) -> Project | None:
    row = s.execute(
        text(
            f"SELECT {_PROJECT_COLS} {_FROM_PROJECTS} WHERE p.id = CAST(:id AS uuid)"
            " AND p.tenant_path <@ CAST(:scope AS ltree)" + (" FOR UPDATE OF p" if lock else "")
        ),
        {"id": project_id, "scope": scope_path},
    ).first()
    return _project(row) if row else None


# The list's sort keys as SQL: only these strings reach the ORDER BY, never the caller's text.
_SORT_SQL = {
    "updated_at": "p.updated_at",
    "submitted_at": "p.submitted_at",
    "created_at": "p.created_at",
    "name": "p.name",
    "status": "p.status",
    "category": "p.category",
    "budget": "p.budget",
    "tenant_name": "p.tenant_name",
}
_ORDER_SQL = {"asc": "ASC NULLS LAST", "desc": "DESC NULLS LAST"}


def list_projects(
    s: Session,
    scope_path: str,
    *,
    own_tenant_id: str | None,
    status: str = "",
    call_id: str = "",
    category: str = "",
    q: str = "",
    awaiting_path: str = "",
    sort: str = "updated_at",
    order: str = "desc",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Project], int]:
    """``sort`` is one of domain.SORT_CN's keys, ``order`` asc or desc (checked by the
    service: they are written into the SQL)."""
    where = ["p.tenant_path <@ CAST(:scope AS ltree)"]
    params: dict[str, Any] = {"scope": scope_path, "limit": limit, "offset": offset}
    if own_tenant_id:
        where.append("p.tenant_id = CAST(:own AS uuid)")
        params["own"] = own_tenant_id
    if status:
        where.append("p.status = :status")
        params["status"] = status
    if call_id:
        where.append("p.call_id = CAST(:call AS uuid)")
        params["call"] = call_id
    if category:
        where.append("p.category = :category")
        params["category"] = category
    if q:
        where.append("p.name ILIKE :q")
        params["q"] = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if awaiting_path:
        where.append("p.status = 'submitted' AND p.awaiting_path = CAST(:awaiting AS ltree)")
        params["awaiting"] = awaiting_path
    cond = " AND ".join(where)
    total = int(
        s.execute(text(f"SELECT count(*) FROM projects p WHERE {cond}"), params).scalar_one()
    )
    rows = s.execute(
        text(
            f"SELECT {_PROJECT_COLS} {_FROM_PROJECTS} WHERE {cond}"
            f" ORDER BY {_SORT_SQL[sort]} {_ORDER_SQL[order]}, p.updated_at DESC, p.id"
            " LIMIT :limit OFFSET :offset"
        ),
        params,
    ).all()
    return [_project(r) for r in rows], total


def call_projects(s: Session, call: Call, *, lock: bool = False) -> list[Project]:
    """Projects filed against ``call`` (all lie in the owner's subtree)."""
    rows = s.execute(
        text(
            f"SELECT {_PROJECT_COLS} {_FROM_PROJECTS} WHERE p.call_id = CAST(:c AS uuid)"
            " AND p.tenant_path <@ CAST(:scope AS ltree) AND p.status <> 'draft'"
            " ORDER BY p.submitted_at, p.id" + (" FOR UPDATE OF p" if lock else "")
        ),
        {"c": call.id, "scope": call.tenant_path},
    ).all()
    return [_project(r) for r in rows]


# ---------------------------------------------------------------- opinions, progress, scores


def insert_opinion(
    s: Session, p: Project, reviewer: Tenant, decision: str, opinion: str, actor: str
) -> None:
    s.execute(
        text(
            "INSERT INTO opinions (id, project_id, tenant_path, reviewer_tenant_id,"
            " reviewer_tenant_name, decision, opinion, actor) VALUES (CAST(:id AS uuid),"
            " CAST(:pid AS uuid), CAST(:path AS ltree), CAST(:rid AS uuid), :rname, :decision,"
            " :opinion, :actor)"
        ),
        {
            "id": str(uuid.uuid4()),
            "pid": p.id,
            "path": p.tenant_path,
            "rid": reviewer.id,
            "rname": reviewer.name,
            "decision": decision,
            "opinion": opinion,
            "actor": actor,
        },
    )


def opinions(s: Session, p: Project) -> list[Opinion]:
    rows = s.execute(
        text(
            "SELECT reviewer_tenant_id::text, reviewer_tenant_name, decision, opinion, actor,"
            " created_at FROM opinions WHERE project_id = CAST(:pid AS uuid)"
            " AND tenant_path = CAST(:path AS ltree) ORDER BY created_at"
        ),
        {"pid": p.id, "path": p.tenant_path},
    ).all()
    return [Opinion(*r) for r in rows]


def insert_progress(s: Session, p: Project, content: str, percent: int, actor: str) -> None:
    s.execute(
        text(
            "INSERT INTO progress_reports (id, project_id, tenant_path, content, percent, actor)"
            " VALUES (CAST(:id AS uuid), CAST(:pid AS uuid), CAST(:path AS ltree), :content,"
            " :percent, :actor)"
        ),
        {
            "id": str(uuid.uuid4()),
            "pid": p.id,
            "path": p.tenant_path,
            "content": content,
            "percent": percent,
            "actor": actor,
        },
    )


def progress(s: Session, p: Project) -> list[ProgressReport]:
    rows = s.execute(
        text(
            "SELECT content, percent, actor, created_at FROM progress_reports"
            " WHERE project_id = CAST(:pid AS uuid) AND tenant_path = CAST(:path AS ltree)"
            " ORDER BY created_at"
        ),
        {"pid": p.id, "path": p.tenant_path},
    ).all()
    return [ProgressReport(*r) for r in rows]


def save_score(
    s: Session,
    p: Project,
    call_id: str,
    score: ExpertScore,
    actor: str,
    *,
    correction: bool,
    reason: str,
) -> None:
    """The expert's current score (a first one, or a correction replacing it) and its entry
    in the append-only history."""
    params = {
        "pid": p.id,
        "cid": call_id,
        "path": p.tenant_path,
        "reviewer": score.reviewer,
        "scores": json.dumps(score.scores, ensure_ascii=False),
        "total": score.total,
        "actor": actor,
        "correction": correction,
        "reason": reason,
        "id": str(uuid.uuid4()),
    }
    if correction:
        s.execute(
            text(
                "UPDATE expert_scores SET scores = CAST(:scores AS jsonb), total = :total,"
                " recorded_by = :actor, updated_at = now() WHERE project_id = CAST(:pid AS uuid)"
                " AND reviewer = :reviewer AND tenant_path = CAST(:path AS ltree)"
            ),
            params,
        )
    else:
        s.execute(
            text(
                "INSERT INTO expert_scores (project_id, call_id, tenant_path, reviewer, scores,"
                " total, recorded_by) VALUES (CAST(:pid AS uuid), CAST(:cid AS uuid),"
                " CAST(:path AS ltree), :reviewer, CAST(:scores AS jsonb), :total, :actor)"
            ),
            params,
        )
    s.execute(
        text(
            "INSERT INTO expert_score_history (id, project_id, call_id, tenant_path, reviewer,"
            " scores, total, recorded_by, correction, reason) VALUES (CAST(:id AS uuid),"
            " CAST(:pid AS uuid), CAST(:cid AS uuid), CAST(:path AS ltree), :reviewer,"
            " CAST(:scores AS jsonb), :total, :actor, :correction, :reason)"
        ),
        params,
    )


def _scores(s: Session, where: str, params: dict[str, Any]) -> list[ExpertScore]:
    history: dict[tuple[str, str], list[ScoreRevision]] = {}
    for r in s.execute(
        text(
            "SELECT project_id::text, reviewer, scores, total, recorded_by, recorded_at,"
            f" correction, reason FROM expert_score_history WHERE {where}"
            " ORDER BY recorded_at, id"
        ),
        params,
    ):
        history.setdefault((r[0], r[1]), []).append(
            ScoreRevision(dict(r[2]), float(r[3]), r[4], r[5], bool(r[6]), r[7])
        )
    rows = s.execute(
        text(
            "SELECT project_id::text, reviewer, scores, total FROM expert_scores"
            f" WHERE {where} ORDER BY reviewer"
        ),
        params,
    ).all()
    return [
        ExpertScore(r[0], r[1], dict(r[2]), float(r[3]), tuple(history.get((r[0], r[1]), ())))
        for r in rows
    ]


def call_scores(s: Session, call: Call) -> list[ExpertScore]:
    """The current scores of a call's projects, each with its history (oldest first)."""
    return _scores(
        s,
        "call_id = CAST(:c AS uuid) AND tenant_path <@ CAST(:scope AS ltree)",
        {"c": call.id, "scope": call.tenant_path},
    )


def project_score(s: Session, p: Project, reviewer: str) -> ExpertScore | None:
    found = _scores(
        s,
        "project_id = CAST(:pid AS uuid) AND reviewer = :reviewer"
        " AND tenant_path = CAST(:path AS ltree)",
        {"pid": p.id, "reviewer": reviewer, "path": p.tenant_path},
    )
    return found[0] if found else None


def stale_phone_masks(s: Session, after: str, limit: int) -> list[tuple[str, bytes]]:
    """Projects whose stored mask predates the area-code rule (``*********3372``), by id."""
    rows = s.execute(
        text(
            "SELECT id::text, phone_sealed FROM projects WHERE phone_masked LIKE '*****%'"
            " AND phone_sealed IS NOT NULL AND id > CAST(:after AS uuid) ORDER BY id LIMIT :n"
        ),
        {"after": after, "n": limit},
    ).all()
    return [(r[0], bytes(r[1])) for r in rows]


def set_phone_mask(s: Session, project_id: str, masked: str) -> None:
    s.execute(
        text("UPDATE projects SET phone_masked = :m WHERE id = CAST(:id AS uuid)"),
        {"m": masked, "id": project_id},
    )


def record_reveal(s: Session, p: Project, viewer_path: str, subject: str, username: str) -> None:
    s.execute(
        text(
            "INSERT INTO reveal_audit (id, project_id, tenant_path, viewer_subject,"
            " viewer_username, field) VALUES (CAST(:id AS uuid), CAST(:pid AS uuid),"
            " CAST(:path AS ltree), :sub, :username, 'contact_phone')"
        ),
        {
            "id": str(uuid.uuid4()),
            "pid": p.id,
            "path": viewer_path,
            "sub": subject,
            "username": username,
        },
    )


# ---------------------------------------------------------------- yearly counts

_YEAR = "EXTRACT(YEAR FROM {col} AT TIME ZONE 'Asia/Shanghai') = :year"


def yearly_counts(s: Session, root_path: str, year: int) -> dict[str, Counts]:
    """Counts of the subtree under ``root_path``, keyed by the direct child's path (the root
    itself under its own path)."""
    depth = root_path.count(".") + 2
    rows = s.execute(
        text(
            "SELECT CASE WHEN nlevel(tenant_path) >= :depth"
            " THEN subpath(tenant_path, 0, :depth)::text ELSE tenant_path::text END AS k,"
            f" count(*) FILTER (WHERE {_YEAR.format(col='submitted_at')}),"
            f" count(*) FILTER (WHERE {_YEAR.format(col='approved_at')}),"
            f" count(*) FILTER (WHERE {_YEAR.format(col='completed_at')}),"
            f" count(*) FILTER (WHERE {_YEAR.format(col='evaluated_at')})"
            " FROM projects WHERE tenant_path <@ CAST(:root AS ltree) GROUP BY 1"
        ),
        {"root": root_path, "depth": depth, "year": year},
    ).all()
    return {r[0]: Counts(int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}


def yearly_by_category(s: Session, root_path: str, year: int) -> dict[str, tuple[int, int]]:
    rows = s.execute(
        text(
            "SELECT category,"
            f" count(*) FILTER (WHERE {_YEAR.format(col='approved_at')}),"
            f" count(*) FILTER (WHERE {_YEAR.format(col='completed_at')})"
            " FROM projects WHERE tenant_path <@ CAST(:root AS ltree) GROUP BY category"
        ),
        {"root": root_path, "year": year},
    ).all()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}
