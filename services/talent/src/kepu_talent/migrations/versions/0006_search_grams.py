"""Name and specialty search at 10^6 talents (issue 16): GIN indexes on the character grams
(``kepu_grams``, created LEAKPROOF where the database is provisioned) of (name, employer) and
(specialty, industry). One index answers the OR of the two columns, and a one- or
two-character Chinese query is served (pg_trgm's indexes need three characters and, their
operators not being LEAKPROOF, were not used under RLS at all)."""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute("CREATE INDEX talents_name_grams ON talents USING gin (kepu_grams(name, employer))")
    op.execute(
        "CREATE INDEX talents_specialty_grams ON talents USING gin (kepu_grams(specialty, industry))"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS talents_specialty_grams")
    op.execute("DROP INDEX IF EXISTS talents_name_grams")
