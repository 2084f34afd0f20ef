"""Projects: tenants read model, calls, projects, chain opinions, expert scores, progress,
audit of full views; outbox."""

from alembic import op
from kepu_common import outbox, rls
from kepu_common.migrations import app_role

revision = "0001"
down_revision = None

TABLES = {
    "tenants": """CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        code text NOT NULL,
        name text NOT NULL,
        kind text NOT NULL,
        parent_id uuid,
        tenant_path ltree NOT NULL,
        status text NOT NULL DEFAULT 'active',
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "calls": """CREATE TABLE calls (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        owner_name text NOT NULL,
        title text NOT NULL,
        programme text NOT NULL,
        year int NOT NULL,
        description text NOT NULL DEFAULT '',
        deadline timestamptz NOT NULL,
        quota int CHECK (quota IS NULL OR quota > 0),
        criteria jsonb NOT NULL,
        min_reviewers int NOT NULL DEFAULT 1 CHECK (min_reviewers >= 1),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "projects": """CREATE TABLE projects (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        tenant_name text NOT NULL,
        call_id uuid REFERENCES calls (id),
        name text NOT NULL,
        applicant_unit text NOT NULL,
        completing_unit text NOT NULL,
        contact_person text NOT NULL,
        phone_sealed bytea,
        phone_masked text NOT NULL DEFAULT '',
        category text NOT NULL
            CHECK (category IN ('activity', 'creation', 'facility', 'other')),
        start_month text NOT NULL,
        end_month text NOT NULL CHECK (end_month >= start_month),
        content text NOT NULL,
        expected_performance text NOT NULL,
        budget numeric(14, 2) CHECK (budget IS NULL OR budget >= 0),
        status text NOT NULL CHECK (status IN ('draft', 'submitted', 'expert_review',
            'approved', 'rejected', 'in_progress', 'completed', 'evaluated')),
        awaiting_path ltree,
        submitted_at timestamptz,
        approved_at timestamptz,
        library_no text UNIQUE,
        rejected_at timestamptz,
        reject_reason text NOT NULL DEFAULT '',
        completed_at timestamptz,
        completion_summary text NOT NULL DEFAULT '',
        evaluated_at timestamptz,
        evaluation_score numeric(5, 2),
        evaluation_grade text NOT NULL DEFAULT '',
        evaluation_comment text NOT NULL DEFAULT '',
        award_recommended boolean NOT NULL DEFAULT false,
        version int NOT NULL DEFAULT 1,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "opinions": """CREATE TABLE opinions (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id),
        tenant_path ltree NOT NULL,
        reviewer_tenant_id uuid NOT NULL,
        reviewer_tenant_name text NOT NULL,
        decision text NOT NULL CHECK (decision IN ('pass', 'fail')),
        opinion text NOT NULL DEFAULT '',
        actor text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "expert_scores": """CREATE TABLE expert_scores (
        project_id uuid NOT NULL REFERENCES projects (id),
        call_id uuid NOT NULL REFERENCES calls (id),
        tenant_path ltree NOT NULL,
        reviewer text NOT NULL,
        scores jsonb NOT NULL,
        total numeric(5, 2) NOT NULL CHECK (total >= 0 AND total <= 100),
        recorded_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, reviewer)
    )""",
    "progress_reports": """CREATE TABLE progress_reports (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id),
        tenant_path ltree NOT NULL,
        content text NOT NULL,
        percent int NOT NULL CHECK (percent >= 0 AND percent <= 100),
        actor text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "reveal_audit": """CREATE TABLE reveal_audit (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        viewer_subject text NOT NULL,
        viewer_username text NOT NULL,
        field text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
}


def upgrade() -> None:
    role = app_role()
    for stmt in outbox.ddl(role):
        op.execute(stmt)
    for table, ddl in TABLES.items():
        op.execute(ddl)
        op.execute(f"CREATE INDEX {table}_path_gist ON {table} USING gist (tenant_path)")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        if table != "calls":
            for stmt in rls.enable_rls_sql(table):
                op.execute(stmt)
    op.execute("CREATE INDEX projects_call ON projects (call_id, status)")
    op.execute("CREATE INDEX projects_awaiting ON projects USING gist (awaiting_path)")
    op.execute("CREATE INDEX projects_approved_at ON projects (approved_at)")
    op.execute("CREATE INDEX opinions_project ON opinions (project_id, created_at)")
    op.execute("CREATE INDEX progress_project ON progress_reports (project_id, created_at)")
    op.execute("CREATE INDEX tenants_parent ON tenants (parent_id)")
    # A call is opened by an upper level for its subtree: descendants read it (to file
    # against it), only the owner's scope (or an ancestor's) may write it.
    vis = rls.visible()
    down = f"({rls.SYSTEM_EXPR} OR {rls.SCOPE_EXPR} <@ tenant_path)"
    for stmt in (
        "ALTER TABLE calls ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE calls FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY calls_select ON calls FOR SELECT USING ({vis} OR {down})",
        f"CREATE POLICY calls_insert ON calls FOR INSERT WITH CHECK {vis}",
        f"CREATE POLICY calls_update ON calls FOR UPDATE USING {vis} WITH CHECK {vis}",
        f"CREATE POLICY calls_delete ON calls FOR DELETE USING {vis}",
    ):
        op.execute(stmt)
