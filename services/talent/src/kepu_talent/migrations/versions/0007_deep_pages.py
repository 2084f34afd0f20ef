"""Any page of the talent list at 10^6 talents (issue 16), and no more unused indexes.

- ``talents_recent`` again on (created_at DESC, id), now INCLUDE (tenant_path, status): the
  keys of a page come from an index-only scan (the scope, the row-level-security policy and a
  status filter read the index entry), so the rows a deep page skips cost an index entry
  each instead of a row fetched from the table.
- The pg_trgm indexes of 0001 on name and specialty go: since 0006 the searches use the
  ``kepu_grams`` indexes (pg_trgm's operators are not LEAKPROOF, so no plan under RLS used
  them), and every write kept them up to date for nothing.
- The policies of ``talents`` and ``talent_counts`` read the tenant scope once per statement
  (``kepu_common.rls.visible_once``, the same condition): the plain form read both settings
  and parsed the path for every row a scan filtered, most of a national list's time.
"""

from alembic import op
from kepu_common import rls

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX talents_recent_keys ON talents (created_at DESC, id)"
        " INCLUDE (tenant_path, status)"
    )
    op.execute("DROP INDEX talents_recent")
    op.execute("ALTER INDEX talents_recent_keys RENAME TO talents_recent")
    op.execute("DROP INDEX IF EXISTS talents_name_trgm")
    op.execute("DROP INDEX IF EXISTS talents_specialty_trgm")
    for table in ("talents", "talent_counts"):
        for stmt in rls.alter_policies_sql(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in ("talents", "talent_counts"):
        for stmt in rls.alter_policies_sql(table, once=False):
            op.execute(stmt)
    op.execute("CREATE INDEX talents_name_trgm ON talents USING gin (name gin_trgm_ops)")
    op.execute("CREATE INDEX talents_specialty_trgm ON talents USING gin (specialty gin_trgm_ops)")
    op.execute("CREATE INDEX talents_recent_plain ON talents (created_at DESC, id)")
    op.execute("DROP INDEX talents_recent")
    op.execute("ALTER INDEX talents_recent_plain RENAME TO talents_recent")
