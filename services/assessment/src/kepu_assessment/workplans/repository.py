"""All SQL of work plans. Reads filter by tenant path here, with row-level security behind."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from .domain import Milestone, Plan, Target, Task

_PLAN_COLS = (
    "id::text, owner_tenant_id::text, tenant_path::text, title, start_year, end_year, phases,"
    " sections, created_by, created_at"
)
_TASK_COLS = (
    "id::text, seq, section, text, lead_unit_id::text, participant_ids::text[], milestones, targets"
)


def _plan(row: Any) -> Plan:
    phases = tuple(
        (p["name"], date.fromisoformat(p["start"]), date.fromisoformat(p["end"])) for p in row[6]
    )
    sections = tuple((s["no"], s["title"]) for s in row[7])
    return Plan(
        row[0], row[1], row[2], row[3], row[4], row[5], phases, sections, [], row[8], row[9]
    )


def _task(row: Any) -> Task:
    ms = tuple(
        Milestone(
            m["id"],
            m["title"],
            date.fromisoformat(m["due"]),
            m["status"],
            date.fromisoformat(m["done_on"]) if m.get("done_on") else None,
        )  # fmt: skip
        for m in row[6]
    )
    targets = tuple(Target(t["year"], t["label"], t["value"]) for t in row[7])
    return Task(row[0], row[1], row[2], row[3], row[4], tuple(row[5] or ()), ms, targets)


def _milestones_json(t: Task) -> str:
    return json.dumps(
        [
            {"id": m.id, "title": m.title, "due": m.due.isoformat(), "status": m.status,
             "done_on": m.done_on.isoformat() if m.done_on else None}
            for m in t.milestones
        ]
    )  # fmt: skip


def insert_plan(s: Session, plan: Plan, unit_paths: dict[str, str]) -> None:
    s.execute(
        text(
            "INSERT INTO plans (id, tenant_path, owner_tenant_id, title, start_year, end_year,"
            " phases, sections, created_by) VALUES (CAST(:id AS uuid), CAST(:p AS ltree),"
            " CAST(:o AS uuid), :t, :sy, :ey, CAST(:ph AS jsonb), CAST(:se AS jsonb), :by)"
        ),
        {
            "id": plan.id, "p": plan.owner_path, "o": plan.owner_tenant_id, "t": plan.title,
            "sy": plan.start_year, "ey": plan.end_year,
            "ph": json.dumps([{"name": n, "start": a.isoformat(), "end": b.isoformat()}
                              for n, a, b in plan.phases]),
            "se": json.dumps([{"no": n, "title": t} for n, t in plan.sections]),
            "by": plan.created_by,
        },
    )  # fmt: skip
    for t in plan.tasks:
        s.execute(
            text(
                "INSERT INTO plan_tasks (id, plan_id, tenant_path, seq, section, text,"
                " lead_unit_id, participant_ids, unit_paths, milestones, targets) VALUES"
                " (CAST(:id AS uuid), CAST(:plan AS uuid), CAST(:p AS ltree), :seq, :sec, :txt,"
                " CAST(:lead AS uuid), CAST(:parts AS uuid[]), CAST(:paths AS ltree[]),"
                " CAST(:ms AS jsonb), CAST(:tg AS jsonb))"
            ),
            {
                "id": t.id, "plan": plan.id, "p": plan.owner_path, "seq": t.seq,
                "sec": t.section, "txt": t.text, "lead": t.lead_unit_id,
                "parts": list(t.participant_ids), "paths": [unit_paths[u] for u in t.unit_ids],
                "ms": _milestones_json(t),
                "tg": json.dumps([{"year": x.year, "label": x.label, "value": x.value}
                                  for x in t.targets]),
            },
        )  # fmt: skip


def get_plan(s: Session, plan_id: str) -> Plan | None:
    row = s.execute(
        text(f"SELECT {_PLAN_COLS} FROM plans WHERE id = CAST(:id AS uuid)"), {"id": plan_id}
    ).first()
    if row is None:
        return None
    plan = _plan(row)
    plan.tasks = [
        _task(r)
        for r in s.execute(
            text(
                f"SELECT {_TASK_COLS} FROM plan_tasks WHERE plan_id = CAST(:id AS uuid) ORDER BY seq"
            ),
            {"id": plan_id},
        )
    ]
    return plan


def list_plan_ids(s: Session, scope_path: str, year: int | None) -> list[str]:
    """Plans the caller owns or that its owner ancestors made (filtered by unit later)."""
    q = (
        "SELECT id::text FROM plans WHERE (tenant_path <@ CAST(:p AS ltree)"
        " OR CAST(:p AS ltree) <@ tenant_path)"
    )
    if year:
        q += " AND :y BETWEEN start_year AND end_year"
    q += " ORDER BY start_year DESC, created_at DESC"
    return list(s.execute(text(q), {"p": scope_path, "y": year}).scalars())


def update_milestones(s: Session, task: Task) -> None:
    s.execute(
        text("UPDATE plan_tasks SET milestones = CAST(:ms AS jsonb) WHERE id = CAST(:id AS uuid)"),
        {"ms": _milestones_json(task), "id": task.id},
    )


# ---------------------------------------------------------------- progress


_PROGRESS_COLS = (
    "id::text, task_id::text, unit_id::text, quarter, text, figures, attachments, submitted_at,"
    " on_time"
)


def upsert_progress(s: Session, row: dict[str, Any]) -> str:
    return str(
        s.execute(
            text(
                "INSERT INTO plan_progress (id, plan_id, task_id, unit_id, tenant_path, quarter,"
                " text, figures, attachments, submitted_by, on_time) VALUES (CAST(:id AS uuid),"
                " CAST(:plan AS uuid), CAST(:task AS uuid), CAST(:unit AS uuid),"
                " CAST(:path AS ltree), :q, :txt, CAST(:fig AS jsonb), CAST(:att AS jsonb), :by,"
                " :on_time) ON CONFLICT (task_id, unit_id, quarter) DO UPDATE SET"
                " text = EXCLUDED.text, figures = EXCLUDED.figures,"
                " attachments = EXCLUDED.attachments, submitted_by = EXCLUDED.submitted_by,"
                " submitted_at = now() RETURNING id::text"
            ),
            {**row, "fig": json.dumps(row["fig"]), "att": json.dumps(row["att"])},
        ).scalar_one()
    )


def progress_of(s: Session, plan_id: str, scope_path: str) -> list[Any]:
    return list(
        s.execute(
            text(
                f"SELECT {_PROGRESS_COLS} FROM plan_progress WHERE plan_id = CAST(:id AS uuid)"
                " AND tenant_path <@ CAST(:p AS ltree) ORDER BY quarter, submitted_at"
            ),
            {"id": plan_id, "p": scope_path},
        )
    )


def reported(s: Session, plan_id: str, quarter: str) -> set[tuple[str, str]]:
    rows = s.execute(
        text(
            "SELECT task_id::text, unit_id::text FROM plan_progress"
            " WHERE plan_id = CAST(:id AS uuid) AND quarter = :q"
        ),
        {"id": plan_id, "q": quarter},
    )
    return {(r[0], r[1]) for r in rows}


# ---------------------------------------------------------------- supervision

_SUP_COLS = (
    "id::text, plan_id::text, task_id::text, unit_id::text, visited_on, findings, rectify_by,"
    " rectified, rectified_on, rectify_note"
)


def insert_supervision(s: Session, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO plan_supervisions (id, plan_id, task_id, unit_id, tenant_path,"
            " visited_on, findings, rectify_by, created_by) VALUES (CAST(:id AS uuid),"
            " CAST(:plan AS uuid), CAST(:task AS uuid), CAST(:unit AS uuid),"
            " CAST(:path AS ltree), :on, :findings, :by_date, :by)"
        ),
        row,
    )


def supervisions(
    s: Session, scope_path: str, plan_id: str | None = None, open_only: bool = False
) -> list[Any]:
    q = f"SELECT {_SUP_COLS} FROM plan_supervisions WHERE tenant_path <@ CAST(:p AS ltree)"
    if plan_id:
        q += " AND plan_id = CAST(:id AS uuid)"
    if open_only:
        q += " AND rectify_by IS NOT NULL AND NOT rectified"
    q += " ORDER BY visited_on, id"
    return list(s.execute(text(q), {"p": scope_path, "id": plan_id}))


def get_supervision(s: Session, scope_path: str, sup_id: str) -> Any:
    return s.execute(
        text(
            f"SELECT {_SUP_COLS} FROM plan_supervisions WHERE id = CAST(:id AS uuid)"
            " AND tenant_path <@ CAST(:p AS ltree) FOR UPDATE"
        ),
        {"id": sup_id, "p": scope_path},
    ).first()


def rectify(s: Session, sup_id: str, day: date, note: str) -> None:
    s.execute(
        text(
            "UPDATE plan_supervisions SET rectified = true, rectified_on = :d, rectify_note = :n"
            " WHERE id = CAST(:id AS uuid)"
        ),
        {"d": day, "n": note, "id": sup_id},
    )


# ---------------------------------------------------------------- scores


def replace_scores(
    s: Session, plan_id: str, unit_id: str, unit_path: str, year: int,
    items: list[tuple[str, str, float]],
) -> None:  # fmt: skip
    s.execute(
        text(
            "DELETE FROM plan_scores WHERE plan_id = CAST(:plan AS uuid)"
            " AND unit_id = CAST(:unit AS uuid) AND year = :y"
        ),
        {"plan": plan_id, "unit": unit_id, "y": year},
    )
    for task_id, result, score in items:
        s.execute(
            text(
                "INSERT INTO plan_scores (plan_id, task_id, unit_id, year, tenant_path, result,"
                " score) VALUES (CAST(:plan AS uuid), CAST(:task AS uuid), CAST(:unit AS uuid),"
                " :y, CAST(:path AS ltree), :r, :sc)"
            ),
            {"plan": plan_id, "task": task_id, "unit": unit_id, "y": year, "path": unit_path,
             "r": result, "sc": score},
        )  # fmt: skip


def scores(s: Session, plan_id: str, scope_path: str) -> list[Any]:
    return list(
        s.execute(
            text(
                "SELECT task_id::text, unit_id::text, year, result, score FROM plan_scores"
                " WHERE plan_id = CAST(:id AS uuid) AND tenant_path <@ CAST(:p AS ltree)"
                " ORDER BY year, unit_id"
            ),
            {"id": plan_id, "p": scope_path},
        )
    )


# ---------------------------------------------------------------- evidence 佐证材料

_EVIDENCE_COLS = (
    "id::text, progress_id::text, filename, content_type, size, sha256, created_at, storage_key,"
    " unit_id::text"
)


def get_progress(s: Session, plan_id: str, progress_id: str, scope_path: str) -> Any:
    """A progress entry of the plan under ``scope_path``: (id, task, unit, unit path)."""
    return s.execute(
        text(
            "SELECT id::text, task_id::text, unit_id::text, tenant_path::text FROM plan_progress"
            " WHERE id = CAST(:id AS uuid) AND plan_id = CAST(:plan AS uuid)"
            " AND tenant_path <@ CAST(:p AS ltree)"
        ),
        {"id": progress_id, "plan": plan_id, "p": scope_path},
    ).first()


def insert_evidence(s: Session, row: dict[str, Any]) -> None:
    s.execute(
        text(
            "INSERT INTO plan_evidence (id, plan_id, progress_id, unit_id, tenant_path, filename,"
            " content_type, size, sha256, storage_key, created_by) VALUES (CAST(:id AS uuid),"
            " CAST(:plan AS uuid), CAST(:progress AS uuid), CAST(:unit AS uuid),"
            " CAST(:path AS ltree), :name, :ctype, :size, :sha, :key, :by)"
        ),
        row,
    )


def evidence_of(s: Session, plan_id: str, scope_path: str) -> list[Any]:
    return list(
        s.execute(
            text(
                f"SELECT {_EVIDENCE_COLS} FROM plan_evidence WHERE plan_id = CAST(:id AS uuid)"
                " AND tenant_path <@ CAST(:p AS ltree) ORDER BY created_at, id"
            ),
            {"id": plan_id, "p": scope_path},
        )
    )


def get_evidence(s: Session, plan_id: str, evidence_id: str, scope_path: str) -> Any:
    return s.execute(
        text(
            f"SELECT {_EVIDENCE_COLS} FROM plan_evidence WHERE id = CAST(:id AS uuid)"
            " AND plan_id = CAST(:plan AS uuid) AND tenant_path <@ CAST(:p AS ltree)"
        ),
        {"id": evidence_id, "plan": plan_id, "p": scope_path},
    ).first()
