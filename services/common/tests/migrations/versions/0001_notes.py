"""A tenant-owned table used to test the shared mechanisms."""

from alembic import op
from kepu_common import outbox, rls
from kepu_common.migrations import app_role

revision = "0001"
down_revision = None


def upgrade() -> None:
    role = app_role()
    for stmt in outbox.ddl(role):
        op.execute(stmt)
    op.execute(
        "CREATE TABLE notes (id serial PRIMARY KEY, tenant_path ltree NOT NULL, body text NOT NULL)"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO {role}")
    op.execute(f"GRANT USAGE ON SEQUENCE notes_id_seq TO {role}")
    for stmt in rls.enable_rls_sql("notes"):
        op.execute(stmt)
    op.execute(
        "CREATE TABLE effects (event_id uuid PRIMARY KEY, tenant_path ltree NOT NULL,"
        " applied_count int NOT NULL DEFAULT 1)"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON effects TO {role}")
