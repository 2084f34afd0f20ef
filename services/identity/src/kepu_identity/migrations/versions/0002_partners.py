"""Partners (banks, 银会合作): registration per tenant, webhook subscriptions and deliveries."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    role = app_role()
    op.execute("""
    CREATE TABLE partners (
        client_id text PRIMARY KEY REFERENCES clients(client_id),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        tenant_path ltree NOT NULL,
        name text NOT NULL,
        scopes text[] NOT NULL,
        webhook_url text NOT NULL DEFAULT '',
        events text[] NOT NULL DEFAULT '{}',
        webhook_secret bytea NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        secret_rotated_at timestamptz,
        disabled_at timestamptz
    )""")
    op.execute("CREATE INDEX partners_path_gist ON partners USING gist (tenant_path)")
    # One row per notice and partner; the delivery loop works off this table, never off the
    # consumer's transaction, so a slow or failing endpoint blocks nobody.
    op.execute("""
    CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY,
        client_id text NOT NULL REFERENCES partners(client_id),
        tenant_path ltree NOT NULL,
        event_type text NOT NULL,
        url text NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_status_code int,
        last_error text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
    )""")
    op.execute(
        "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)"
        " WHERE status = 'pending'"
    )
    op.execute(
        "CREATE INDEX webhook_deliveries_client ON webhook_deliveries (client_id, created_at)"
    )
    for table in ("partners", "webhook_deliveries"):
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        for stmt in rls.enable_rls_sql(table):
            op.execute(stmt)
