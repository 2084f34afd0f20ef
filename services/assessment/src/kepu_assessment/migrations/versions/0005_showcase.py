"""先进典型 showcase items (issue 15): one row per honoured unit, talent, activity or resource of a
published scheme, under the scheme owner's path (the owner and its ancestors see the drafts; the
public page reads published rows only, in the system scope). A photo's bytes are in the object
store under ``photo_key``."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        """CREATE TABLE showcase_items (
            id uuid PRIMARY KEY,
            scheme_id uuid NOT NULL REFERENCES schemes (id),
            year int NOT NULL,
            tenant_path ltree NOT NULL,
            kind text NOT NULL CHECK (kind IN ('unit', 'talent', 'activity', 'resource')),
            subject_id text NOT NULL,
            subject_tenant_id uuid NOT NULL,
            name text NOT NULL,
            unit_name text NOT NULL DEFAULT '',
            citation text NOT NULL,
            photo_key text,
            photo_type text,
            photo_sha256 text,
            position int NOT NULL,
            published_at timestamptz,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (scheme_id, kind, subject_id)
        )"""
    )
    op.execute("CREATE INDEX showcase_items_path_gist ON showcase_items USING gist (tenant_path)")
    op.execute(
        "CREATE INDEX showcase_items_public ON showcase_items (year DESC, position)"
        " WHERE published_at IS NOT NULL"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON showcase_items TO {app_role()}")
    for stmt in rls.enable_rls_sql("showcase_items"):
        op.execute(stmt)


def downgrade() -> None:
    op.execute("DROP TABLE showcase_items")
