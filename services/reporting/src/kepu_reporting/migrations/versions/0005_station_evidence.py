"""e站 五有 evidence files (issue 14): one row per uploaded file of a condition, under the
station's path, so the station's township or county and the levels above it see it and
siblings do not. The bytes are in the object store under ``storage_key``."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        """CREATE TABLE station_evidence (
            id uuid PRIMARY KEY,
            station_id uuid NOT NULL REFERENCES stations (id),
            condition text NOT NULL
                CHECK (condition IN ('network', 'staff', 'place', 'activities', 'terminal')),
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
    op.execute(
        "CREATE INDEX station_evidence_path_gist ON station_evidence USING gist (tenant_path)"
    )
    op.execute("CREATE INDEX station_evidence_station ON station_evidence (station_id, created_at)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON station_evidence TO {app_role()}")
    for stmt in rls.enable_rls_sql("station_evidence"):
        op.execute(stmt)
