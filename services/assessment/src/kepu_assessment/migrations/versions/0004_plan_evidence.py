"""Evidence files 佐证材料 of quarterly progress (issue 14): one row per uploaded file, under
the reporting unit's path like its progress entry, so the unit and the owner above it (and the
owner's ancestors) see it and siblings or other departments do not. The bytes are in the
object store under ``storage_key``."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute(
        """CREATE TABLE plan_evidence (
            id uuid PRIMARY KEY,
            plan_id uuid NOT NULL REFERENCES plans (id),
            progress_id uuid NOT NULL REFERENCES plan_progress (id) ON DELETE CASCADE,
            unit_id uuid NOT NULL,
            tenant_path ltree NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL,
            size bigint NOT NULL CHECK (size > 0),
            sha256 text NOT NULL,
            storage_key text NOT NULL,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX plan_evidence_path_gist ON plan_evidence USING gist (tenant_path)")
    op.execute("CREATE INDEX plan_evidence_progress ON plan_evidence (progress_id, created_at)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON plan_evidence TO {app_role()}")
    for stmt in rls.enable_rls_sql("plan_evidence"):
        op.execute(stmt)
