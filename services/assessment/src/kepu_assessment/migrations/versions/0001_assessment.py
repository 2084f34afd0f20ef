"""Assessment: tenants read model, metric counters, schemes, entries, results, allocations."""

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
    # The last known value of one fact (a talent certified, a report on time, an activity's
    # participants), so a changed fact moves the counters by the difference only.
    "metric_facts": """CREATE TABLE metric_facts (
        metric text NOT NULL,
        subject_id text NOT NULL,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        year int NOT NULL,
        value double precision NOT NULL,
        PRIMARY KEY (metric, subject_id)
    )""",
    "metric_counters": """CREATE TABLE metric_counters (
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        year int NOT NULL,
        metric text NOT NULL,
        value double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, year, metric)
    )""",
    "schemes": """CREATE TABLE schemes (
        id uuid PRIMARY KEY,
        year int NOT NULL,
        name text NOT NULL,
        tenant_path ltree NOT NULL,
        owner_tenant_id uuid NOT NULL,
        status text NOT NULL CHECK (status IN ('open', 'closed', 'published')),
        indicators jsonb NOT NULL,
        honours_top_n int NOT NULL DEFAULT 0 CHECK (honours_top_n >= 0),
        honours_min_score double precision NOT NULL DEFAULT 0,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        published_at timestamptz
    )""",
    "entries": """CREATE TABLE entries (
        scheme_id uuid NOT NULL REFERENCES schemes (id),
        tenant_id uuid NOT NULL,
        indicator_code text NOT NULL,
        score double precision,
        value double precision,
        evidence text NOT NULL DEFAULT '',
        tenant_path ltree NOT NULL,
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scheme_id, tenant_id, indicator_code)
    )""",
    "results": """CREATE TABLE results (
        scheme_id uuid NOT NULL REFERENCES schemes (id),
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        name text NOT NULL,
        kind text NOT NULL,
        code text NOT NULL,
        total double precision NOT NULL,
        rank int NOT NULL,
        honoured boolean NOT NULL DEFAULT false,
        details jsonb NOT NULL,
        published boolean NOT NULL DEFAULT false,
        PRIMARY KEY (scheme_id, tenant_id)
    )""",
    "allocation_totals": """CREATE TABLE allocation_totals (
        scheme_id uuid NOT NULL REFERENCES schemes (id),
        indicator_code text NOT NULL,
        tenant_path ltree NOT NULL,
        parent_quota double precision NOT NULL CHECK (parent_quota >= 0),
        PRIMARY KEY (scheme_id, indicator_code)
    )""",
    # One child's quota; tenant_path is the child's, so the child reads its own quota
    # (and allocates it further) while its siblings see nothing.
    "allocations": """CREATE TABLE allocations (
        scheme_id uuid NOT NULL REFERENCES schemes (id),
        indicator_code text NOT NULL,
        quota_key text NOT NULL,
        year int NOT NULL,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        quota double precision NOT NULL CHECK (quota >= 0),
        PRIMARY KEY (scheme_id, indicator_code, tenant_id)
    )""",
}

# Readable below the owner too: a scheme by the units it assesses, results once published.
DOWN_READ = {"schemes": "true", "results": "published"}


def upgrade() -> None:
    role = app_role()
    for stmt in outbox.ddl(role):
        op.execute(stmt)
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
            f"CREATE POLICY {table}_select ON {table} FOR SELECT"
            f" USING ({vis} OR ({DOWN_READ[table]} AND {down}))",
            f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK {vis}",
            f"CREATE POLICY {table}_update ON {table} FOR UPDATE USING {vis} WITH CHECK {vis}",
            f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING {vis}",
        ):
            op.execute(stmt)
    op.execute("CREATE INDEX tenants_parent ON tenants (parent_id)")
    op.execute("CREATE INDEX schemes_owner_year ON schemes (owner_tenant_id, year)")
    op.execute("CREATE INDEX allocations_inherited ON allocations (tenant_id, year, quota_key)")
