"""A partner's financing outcome is recorded once: the ``Idempotency-Key`` of the post (unique
per partner) and an index for the natural key (partner, talent, product, amount, status, day)."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE financing_outcomes ADD COLUMN idempotency_key text")
    op.execute(
        "CREATE UNIQUE INDEX financing_outcomes_idempotency ON financing_outcomes"
        " (partner_client_id, idempotency_key) WHERE idempotency_key IS NOT NULL"
    )
    # Not unique: outcomes posted twice before this revision stay as they are.
    op.execute(
        "CREATE INDEX financing_outcomes_natural ON financing_outcomes"
        " (partner_client_id, talent_id, product, amount_yuan, status, decided_at)"
    )
