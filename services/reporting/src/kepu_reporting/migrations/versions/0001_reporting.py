"""Reporting: tenants read model, report types, reports, activities, notifications."""

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
        contact_email text,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "report_types": """CREATE TABLE report_types (
        code text PRIMARY KEY,
        name text NOT NULL,
        period_kind text NOT NULL CHECK (period_kind IN ('month', 'quarter', 'year')),
        fields jsonb NOT NULL,
        due_rules jsonb NOT NULL,
        tenant_path ltree NOT NULL,
        owner_tenant_id uuid NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "reports": """CREATE TABLE reports (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        tenant_kind text NOT NULL,
        type_code text NOT NULL,
        period text NOT NULL,
        status text NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'accepted')),
        "values" jsonb NOT NULL DEFAULT '{}'::jsonb,
        children_values jsonb NOT NULL DEFAULT '{}'::jsonb,
        own_values jsonb NOT NULL DEFAULT '{}'::jsonb,
        deadline date,
        submitted_at timestamptz,
        on_time boolean,
        return_reason text NOT NULL DEFAULT '',
        accepted_at timestamptz,
        reviewed_by text NOT NULL DEFAULT '',
        updated_by text NOT NULL DEFAULT '',
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, type_code, period)
    )""",
    "activities": """CREATE TABLE activities (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        title text NOT NULL,
        day date NOT NULL,
        place text NOT NULL DEFAULT '',
        form text NOT NULL,
        target text NOT NULL,
        participants int NOT NULL CHECK (participants >= 0),
        talents jsonb NOT NULL DEFAULT '[]'::jsonb,
        photos jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "notifications": """CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        kind text NOT NULL,
        type_code text NOT NULL,
        period text NOT NULL,
        subject_tenant_id uuid NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        email_to text,
        email_sent_at timestamptz,
        email_error text,
        read_at timestamptz,
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
        if table != "report_types":
            for stmt in rls.enable_rls_sql(table):
                op.execute(stmt)
    op.execute("CREATE INDEX reports_type_period ON reports (type_code, period, status)")
    op.execute("CREATE INDEX activities_tenant_day ON activities (tenant_id, day)")
    op.execute("CREATE INDEX notifications_tenant ON notifications (tenant_id, created_at DESC)")
    op.execute(
        "CREATE INDEX notifications_unsent ON notifications (id) WHERE email_sent_at IS NULL"
        " AND email_to IS NOT NULL"
    )
    op.execute("CREATE INDEX tenants_parent ON tenants (parent_id)")
    # A report type is defined by an upper level for its subtree: its descendants read it,
    # only the owner's subtree scope may write it.
    vis = rls.visible()
    down = f"({rls.SYSTEM_EXPR} OR {rls.SCOPE_EXPR} <@ tenant_path)"
    for stmt in (
        "ALTER TABLE report_types ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE report_types FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY report_types_select ON report_types FOR SELECT USING ({vis} OR {down})",
        f"CREATE POLICY report_types_insert ON report_types FOR INSERT WITH CHECK {vis}",
        f"CREATE POLICY report_types_update ON report_types FOR UPDATE USING {vis} WITH CHECK {vis}",
        f"CREATE POLICY report_types_delete ON report_types FOR DELETE USING {vis}",
    ):
        op.execute(stmt)
