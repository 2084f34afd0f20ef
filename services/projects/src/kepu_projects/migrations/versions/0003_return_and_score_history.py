"""退回修改 at every review level (status ``returned``, decision ``return``) and the history of
expert scores (every score and every explicit correction, with its reason)."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0003"
down_revision = "0002"

STATUSES = (
    "'draft', 'submitted', 'returned', 'expert_review', 'approved', 'rejected', 'in_progress',"
    " 'completed', 'evaluated'"
)


def upgrade() -> None:
    role = app_role()
    op.execute("ALTER TABLE projects DROP CONSTRAINT projects_status_check")
    op.execute(
        f"ALTER TABLE projects ADD CONSTRAINT projects_status_check CHECK (status IN ({STATUSES}))"
    )
    op.execute("ALTER TABLE projects ADD COLUMN returned_at timestamptz")
    op.execute("ALTER TABLE projects ADD COLUMN return_reason text NOT NULL DEFAULT ''")
    op.execute("ALTER TABLE opinions DROP CONSTRAINT opinions_decision_check")
    op.execute(
        "ALTER TABLE opinions ADD CONSTRAINT opinions_decision_check"
        " CHECK (decision IN ('pass', 'fail', 'return'))"
    )
    op.execute("""CREATE TABLE expert_score_history (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id),
        call_id uuid NOT NULL REFERENCES calls (id),
        tenant_path ltree NOT NULL,
        reviewer text NOT NULL,
        scores jsonb NOT NULL,
        total numeric(5, 2) NOT NULL CHECK (total >= 0 AND total <= 100),
        recorded_by text NOT NULL,
        correction boolean NOT NULL DEFAULT false,
        reason text NOT NULL DEFAULT '',
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CHECK (NOT correction OR length(reason) > 0)
    )""")
    op.execute(
        "CREATE INDEX expert_score_history_path_gist ON expert_score_history USING gist (tenant_path)"
    )
    op.execute(
        "CREATE INDEX expert_score_history_project ON expert_score_history"
        " (project_id, reviewer, recorded_at)"
    )
    op.execute(f"GRANT SELECT, INSERT ON expert_score_history TO {role}")  # append-only
    for stmt in rls.enable_rls_sql("expert_score_history"):
        op.execute(stmt)
    # The scores recorded so far are each one's first entry (RLS is forced on the owner too).
    op.execute("SELECT set_config('app.system', 'on', true)")
    op.execute(
        "INSERT INTO expert_score_history (id, project_id, call_id, tenant_path, reviewer, scores,"
        " total, recorded_by, recorded_at) SELECT gen_random_uuid(), project_id, call_id,"
        " tenant_path, reviewer, scores, total, recorded_by, updated_at FROM expert_scores"
    )
    op.execute("SELECT set_config('app.system', 'off', true)")
