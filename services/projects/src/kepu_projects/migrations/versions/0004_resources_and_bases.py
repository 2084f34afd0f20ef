"""The resource library 科普资源库 and certified bases (issue 15).

Resources live under their owner's path: the owner and the levels above read and write them
(the parent reviews); a published resource is also readable by the owner's subtree, or by
every tenant when shared with the whole province. Its files and download counter follow the
visibility of the resource itself. Calls gain an outcome (funding | certification); a
certification call's selection creates certified bases, reviewed every year (复核); targets
per tenant and kind are the plan's (e.g. 惠济: 2 / 6 / 7)."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0004"
down_revision = "0003"

KINDS = "'文章', '挂图', '漫画', '微视频', '微电影', '动漫', '展板', '课件', '游戏', '其他'"
BASE_KINDS = "'科普教育基地', '科普示范社区', '农村中学科技馆', '现代农业科普园'"

TABLES = {
    "talents": """CREATE TABLE talents (
        id uuid PRIMARY KEY,
        tenant_path ltree NOT NULL,
        status text NOT NULL
    )""",
    "resources": f"""CREATE TABLE resources (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        tenant_name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ({KINDS})),
        title text NOT NULL,
        theme text NOT NULL,
        summary text NOT NULL DEFAULT '',
        author_ids uuid[] NOT NULL DEFAULT '{{}}',
        share_scope text NOT NULL CHECK (share_scope IN ('subtree', 'province')),
        status text NOT NULL CHECK (status IN ('draft', 'submitted', 'published', 'returned')),
        return_reason text NOT NULL DEFAULT '',
        submitted_at timestamptz,
        published_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "resource_files": """CREATE TABLE resource_files (
        id uuid PRIMARY KEY,
        resource_id uuid NOT NULL REFERENCES resources (id),
        tenant_path ltree NOT NULL,
        filename text NOT NULL,
        content_type text NOT NULL,
        size bigint NOT NULL CHECK (size > 0),
        sha256 text NOT NULL,
        storage_key text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "resource_downloads": """CREATE TABLE resource_downloads (
        resource_id uuid PRIMARY KEY REFERENCES resources (id),
        tenant_path ltree NOT NULL,
        downloads bigint NOT NULL DEFAULT 0 CHECK (downloads >= 0)
    )""",
    "bases": f"""CREATE TABLE bases (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        tenant_name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ({BASE_KINDS})),
        name text NOT NULL,
        project_id uuid NOT NULL UNIQUE REFERENCES projects (id),
        call_id uuid NOT NULL REFERENCES calls (id),
        certifier_path ltree NOT NULL,
        number text NOT NULL UNIQUE,
        certified_on date NOT NULL,
        valid_until date NOT NULL CHECK (valid_until > certified_on),
        status text NOT NULL CHECK (status IN ('certified', 'revoked')),
        revoked_on date,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "base_reviews": """CREATE TABLE base_reviews (
        id uuid PRIMARY KEY,
        base_id uuid NOT NULL REFERENCES bases (id),
        tenant_path ltree NOT NULL,
        year int NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('passed', 'failed')),
        opinion text NOT NULL DEFAULT '',
        reviewed_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (base_id, year)
    )""",
    "base_targets": f"""CREATE TABLE base_targets (
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        kind text NOT NULL CHECK (kind IN ({BASE_KINDS})),
        target int NOT NULL CHECK (target >= 0),
        PRIMARY KEY (tenant_id, kind)
    )""",
}
# Tables whose reads follow the resource's own visibility (the subquery runs under the
# caller's policies on ``resources``); writes stay within the caller's subtree.
FOLLOW_RESOURCE = ("resource_files", "resource_downloads")


def upgrade() -> None:
    role = app_role()
    op.execute(
        "ALTER TABLE calls ADD COLUMN outcome text NOT NULL DEFAULT 'funding'"
        " CHECK (outcome IN ('funding', 'certification'))"
    )
    op.execute("ALTER TABLE calls ADD COLUMN base_kind text NOT NULL DEFAULT ''")
    op.execute(
        "ALTER TABLE calls ADD COLUMN validity_years int NOT NULL DEFAULT 3"
        " CHECK (validity_years BETWEEN 1 AND 10)"
    )
    for table, ddl in TABLES.items():
        op.execute(ddl)
        op.execute(f"CREATE INDEX {table}_path_gist ON {table} USING gist (tenant_path)")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        if table not in ("resources", *FOLLOW_RESOURCE):
            for stmt in rls.enable_rls_sql(table):
                op.execute(stmt)
    op.execute(
        "CREATE INDEX resources_published ON resources (published_at) WHERE status = 'published'"
    )
    op.execute("CREATE INDEX resource_files_resource ON resource_files (resource_id, created_at)")
    op.execute("CREATE INDEX bases_kind ON bases (kind, status)")
    vis = rls.visible()
    shared = (
        f"(status = 'published' AND (share_scope = 'province' OR {rls.SCOPE_EXPR} <@ tenant_path))"
    )
    seen = "EXISTS (SELECT 1 FROM resources r WHERE r.id = resource_id)"
    published = (
        "EXISTS (SELECT 1 FROM resources r WHERE r.id = resource_id AND r.status = 'published')"
    )
    stmts = [
        "ALTER TABLE resources ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE resources FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY resources_select ON resources FOR SELECT USING ({vis} OR {shared})",
        f"CREATE POLICY resources_insert ON resources FOR INSERT WITH CHECK {vis}",
        f"CREATE POLICY resources_update ON resources FOR UPDATE USING {vis} WITH CHECK {vis}",
        f"CREATE POLICY resources_delete ON resources FOR DELETE USING {vis}",
    ]
    for t in FOLLOW_RESOURCE:
        stmts += [
            f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {t}_select ON {t} FOR SELECT USING ({vis} OR {seen})",
            f"CREATE POLICY {t}_delete ON {t} FOR DELETE USING {vis}",
        ]
    stmts += [  # files are added by the owner's subtree; a download is counted by any reader
        f"CREATE POLICY resource_files_insert ON resource_files FOR INSERT WITH CHECK {vis}",
        f"CREATE POLICY resource_files_update ON resource_files FOR UPDATE USING {vis}"
        f" WITH CHECK {vis}",
        "CREATE POLICY resource_downloads_insert ON resource_downloads FOR INSERT"
        f" WITH CHECK ({rls.SYSTEM_EXPR} OR {published})",
        "CREATE POLICY resource_downloads_update ON resource_downloads FOR UPDATE"
        f" USING ({rls.SYSTEM_EXPR} OR {published}) WITH CHECK ({rls.SYSTEM_EXPR} OR {published})",
    ]
    for stmt in stmts:
        op.execute(stmt)
