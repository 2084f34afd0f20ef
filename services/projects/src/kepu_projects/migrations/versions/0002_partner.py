"""Partners 合作机构 (银会合作): consents to share a project with a partner, and the audit
log of every partner read."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0002"
down_revision = "0001"

TABLES = {
    "project_consents": """CREATE TABLE project_consents (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id),
        tenant_path ltree NOT NULL,
        partner_client_id text NOT NULL,
        partner_tenant_path ltree NOT NULL,
        purpose text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 500),
        expires_at timestamptz NOT NULL,
        created_by text NOT NULL,
        created_by_username text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_by text NOT NULL DEFAULT '',
        notified_at timestamptz
    )""",
    "partner_access_log": """CREATE TABLE partner_access_log (
        id bigserial PRIMARY KEY,
        project_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        partner_client_id text NOT NULL,
        action text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
}


def upgrade() -> None:
    role = app_role()
    for table, ddl in TABLES.items():
        op.execute(ddl)
        op.execute(f"CREATE INDEX {table}_path_gist ON {table} USING gist (tenant_path)")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        for stmt in rls.enable_rls_sql(table):
            op.execute(stmt)
    op.execute("GRANT USAGE ON SEQUENCE partner_access_log_id_seq TO " + role)
    op.execute(
        "CREATE UNIQUE INDEX project_consents_open ON project_consents"
        " (project_id, partner_client_id) WHERE revoked_at IS NULL"
    )
    op.execute("CREATE INDEX project_consents_partner ON project_consents (partner_client_id)")
    op.execute("CREATE INDEX partner_access_log_partner ON partner_access_log (partner_client_id)")
