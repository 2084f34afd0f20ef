"""The talent list and search at 10^6 talents (issue 16).

- ``talents_recent``: the list's order (created_at DESC, id), so a page reads its 20 rows from
  the index instead of sorting every talent under the scope.
- ``talent_counts``: talents per (tenant path, status), and per tenant path under status ''
  (all statuses), kept by statement-level triggers in the writing transaction, so the exact
  total of an unfiltered or status-only list is a sum over the tenants of the subtree instead of
  a count of every talent. RLS like ``talents``: a writer only changes the counts of rows it may
  write.
"""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0005"
down_revision = "0004"

# One function per event (a trigger with transition tables has one event); each adds the
# signed counts of its rows, per (status, path) and per ('', path), in key order. The key
# leads with the status: the national total reads the '' rows of the key, not every row.
_APPLY = """INSERT INTO talent_counts AS c (status, tenant_path, n)
    SELECT s, tenant_path, sum(d) FROM ({rows}) AS r, LATERAL (VALUES (r.status), ('')) AS v (s)
    GROUP BY s, tenant_path HAVING sum(d) <> 0 ORDER BY s, tenant_path
    ON CONFLICT (status, tenant_path) DO UPDATE SET n = c.n + excluded.n"""
_ROWS = {
    "insert": "SELECT tenant_path, status, 1 AS d FROM new_rows",
    "delete": "SELECT tenant_path, status, -1 AS d FROM old_rows",
    "update": "SELECT tenant_path, status, 1 AS d FROM new_rows"
    " UNION ALL SELECT tenant_path, status, -1 FROM old_rows",
}
_REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def upgrade() -> None:
    role = app_role()
    # No writer between the counts' backfill and their triggers (held to the migration's end).
    op.execute("LOCK TABLE talents IN SHARE ROW EXCLUSIVE MODE")
    op.execute("CREATE INDEX talents_recent ON talents (created_at DESC, id)")
    op.execute(
        """CREATE TABLE talent_counts (
            status text NOT NULL,
            tenant_path ltree NOT NULL,
            n bigint NOT NULL,
            PRIMARY KEY (status, tenant_path)
        )"""
    )
    op.execute("CREATE INDEX talent_counts_path ON talent_counts USING gist (tenant_path)")
    op.execute("SELECT set_config('app.system', 'on', true)")
    op.execute(
        "INSERT INTO talent_counts (status, tenant_path, n)"
        " SELECT s, tenant_path, count(*) FROM talents,"
        " LATERAL (VALUES (talents.status), ('')) AS v (s) GROUP BY s, tenant_path"
    )
    op.execute("SELECT set_config('app.system', 'off', true)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON talent_counts TO {role}")
    for stmt in rls.enable_rls_sql("talent_counts"):
        op.execute(stmt)
    for event, rows in _ROWS.items():
        op.execute(
            f"""CREATE FUNCTION talent_counts_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {_APPLY.format(rows=rows)};
                RETURN NULL;
            END $$"""
        )
        op.execute(
            f"CREATE TRIGGER talent_counts_{event} AFTER {event.upper()} ON talents"
            f" REFERENCING {_REFERENCING[event]} FOR EACH STATEMENT"
            f" EXECUTE FUNCTION talent_counts_{event}()"
        )


def downgrade() -> None:
    for event in _ROWS:
        op.execute(f"DROP TRIGGER IF EXISTS talent_counts_{event} ON talents")
        op.execute(f"DROP FUNCTION IF EXISTS talent_counts_{event}()")
    op.execute("DROP TABLE IF EXISTS talent_counts")
    op.execute("DROP INDEX IF EXISTS talents_recent")
