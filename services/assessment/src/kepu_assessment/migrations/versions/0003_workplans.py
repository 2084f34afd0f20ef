"""Work plans 工作要点 / 实施方案 (issue 14): plans, tasks, quarterly progress, supervision, scores.

Plans and tasks carry the owner's path and are readable below it (a unit reads the plan and
the tasks assigned to it; the repository filters to those). Progress, supervision visits and
scores carry the unit's path: the unit and the owner above it see them, siblings do not.
"""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0003"
down_revision = "0002"

TABLES = {
    "plans": """CREATE TABLE plans (
        id uuid PRIMARY KEY,
        tenant_path ltree NOT NULL,
        owner_tenant_id uuid NOT NULL,
        title text NOT NULL,
        start_year int NOT NULL,
        end_year int NOT NULL CHECK (end_year >= start_year),
        phases jsonb NOT NULL,
        sections jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "plan_tasks": """CREATE TABLE plan_tasks (
        id uuid PRIMARY KEY,
        plan_id uuid NOT NULL REFERENCES plans (id),
        tenant_path ltree NOT NULL,
        seq int NOT NULL,
        section text NOT NULL DEFAULT '',
        text text NOT NULL,
        lead_unit_id uuid NOT NULL,
        participant_ids uuid[] NOT NULL DEFAULT '{}',
        unit_paths ltree[] NOT NULL,
        milestones jsonb NOT NULL,
        targets jsonb NOT NULL,
        UNIQUE (plan_id, seq)
    )""",
    "plan_progress": """CREATE TABLE plan_progress (
        id uuid PRIMARY KEY,
        plan_id uuid NOT NULL REFERENCES plans (id),
        task_id uuid NOT NULL REFERENCES plan_tasks (id),
        unit_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        quarter text NOT NULL,
        text text NOT NULL,
        figures jsonb NOT NULL,
        attachments jsonb NOT NULL,
        submitted_by text NOT NULL,
        submitted_at timestamptz NOT NULL DEFAULT now(),
        on_time boolean NOT NULL,
        UNIQUE (task_id, unit_id, quarter)
    )""",
    "plan_supervisions": """CREATE TABLE plan_supervisions (
        id uuid PRIMARY KEY,
        plan_id uuid NOT NULL REFERENCES plans (id),
        task_id uuid REFERENCES plan_tasks (id),
        unit_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        visited_on date NOT NULL,
        findings text NOT NULL,
        rectify_by date,
        rectified boolean NOT NULL DEFAULT false,
        rectified_on date,
        rectify_note text NOT NULL DEFAULT '',
        created_by text NOT NULL
    )""",
    "plan_scores": """CREATE TABLE plan_scores (
        plan_id uuid NOT NULL REFERENCES plans (id),
        task_id uuid NOT NULL REFERENCES plan_tasks (id),
        unit_id uuid NOT NULL,
        year int NOT NULL,
        tenant_path ltree NOT NULL,
        result text NOT NULL CHECK (result IN ('completed', 'partly', 'not')),
        score double precision NOT NULL CHECK (score >= 0),
        PRIMARY KEY (plan_id, task_id, unit_id, year)
    )""",
}
DOWN_READ = {"plans", "plan_tasks"}


def upgrade() -> None:
    role = app_role()
    vis = rls.visible()
    down = f"({rls.SCOPE_EXPR} <@ tenant_path)"
    for table, ddl in TABLES.items():
        op.execute(ddl)
        op.execute(f"CREATE INDEX {table}_path_gist ON {table} USING gist (tenant_path)")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        if table not in DOWN_READ:
            for stmt in rls.enable_rls_sql(table):
                op.execute(stmt)
            continue
        for stmt in (
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {table}_select ON {table} FOR SELECT USING ({vis} OR {down})",
            f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK {vis}",
            f"CREATE POLICY {table}_update ON {table} FOR UPDATE USING {vis} WITH CHECK {vis}",
            f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING {vis}",
        ):
            op.execute(stmt)
    op.execute("CREATE INDEX plan_tasks_plan ON plan_tasks (plan_id, seq)")
    op.execute("CREATE INDEX plan_tasks_units ON plan_tasks USING gist (unit_paths)")
    op.execute("CREATE INDEX plan_progress_task ON plan_progress (task_id)")
    op.execute("CREATE INDEX plan_supervisions_plan ON plan_supervisions (plan_id)")
