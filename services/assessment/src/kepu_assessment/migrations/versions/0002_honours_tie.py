"""Schemes: the owner's choice among units tied at the honours boundary (issue 10)."""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # {"group": [tenant ids tied], "chosen": [those honoured]}; applies to that very tie only
    op.execute("ALTER TABLE schemes ADD COLUMN honours_tie jsonb")
