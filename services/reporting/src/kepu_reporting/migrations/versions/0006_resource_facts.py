"""Resources published in the projects service's library (projects.resource.published), one
row each under the owner's path: a month's brief pre-fills 资源开发数量 from them."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute(
        """CREATE TABLE resource_facts (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            tenant_path ltree NOT NULL,
            kind text NOT NULL,
            day date NOT NULL
        )"""
    )
    op.execute("CREATE INDEX resource_facts_path_gist ON resource_facts USING gist (tenant_path)")
    op.execute("CREATE INDEX resource_facts_tenant_day ON resource_facts (tenant_id, day)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON resource_facts TO {app_role()}")
    for stmt in rls.enable_rls_sql("resource_facts"):
        op.execute(stmt)
