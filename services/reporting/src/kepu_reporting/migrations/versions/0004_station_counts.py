"""e站: certified stations counted per tenant and kind, moved with each 认定, suspension,
reinstatement and withdrawal, so coverage reads a few thousand counts instead of every
station (50,000 stations of a province: issue 14's benchmark)."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    role = app_role()
    op.execute(
        """CREATE TABLE station_counts (
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        kind text NOT NULL,
        certified int NOT NULL CHECK (certified >= 0),
        PRIMARY KEY (tenant_id, kind)
    )"""
    )
    op.execute("CREATE INDEX station_counts_path_gist ON station_counts USING gist (tenant_path)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON station_counts TO {role}")
    for stmt in rls.enable_rls_sql("station_counts"):
        op.execute(stmt)
    op.execute(
        "INSERT INTO station_counts (tenant_id, tenant_path, kind, certified)"
        " SELECT tenant_id, tenant_path, kind, count(*) FROM stations WHERE status = 'certified'"
        " GROUP BY tenant_id, tenant_path, kind"
    )


def downgrade() -> None:
    op.execute("DROP TABLE station_counts")
