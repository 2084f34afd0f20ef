"""The activity list's order (day DESC, created_at DESC, id) as an index (issue 16): a page of
a national or provincial list reads its rows from the index instead of sorting every activity
under the scope."""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute("CREATE INDEX activities_recent ON activities (day DESC, created_at DESC, id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS activities_recent")
