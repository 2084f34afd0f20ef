"""Audit log: the object acted on (a talent, an exported subtree) and a time index for filters."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE audit_log ADD COLUMN object text NOT NULL DEFAULT ''")
    op.execute("CREATE INDEX audit_log_time ON audit_log (occurred_at DESC, id DESC)")


def downgrade() -> None:
    op.execute("DROP INDEX audit_log_time")
    op.execute("ALTER TABLE audit_log DROP COLUMN object")
