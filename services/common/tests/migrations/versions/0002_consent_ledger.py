"""A consent ledger (``kepu_common.consent.ConsentLedger``) over a tenant-owned subject table."""

from alembic import op
from kepu_common import rls
from kepu_common.consent import ConsentLedger
from kepu_common.migrations import app_role

revision = "0002"
down_revision = "0001"

LEDGER = ConsentLedger("subject_consents", "subject_id", "subjects")


def upgrade() -> None:
    role = app_role()
    op.execute("CREATE TABLE subjects (id uuid PRIMARY KEY, tenant_path ltree NOT NULL)")
    for stmt in [*rls.enable_rls_sql("subjects"), *LEDGER.ddl(("notified_at timestamptz",))]:
        op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON subjects, subject_consents TO {role}")
