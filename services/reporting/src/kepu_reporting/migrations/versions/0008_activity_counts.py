"""The activity list's total at 10^6 activities (issue 16): ``activity_counts``, activities per
(period, tenant path) for every period a day lies in (its month ``2026-10``, quarter ``2026Q4``,
year ``2026``, and ``''`` for all time), kept by statement-level triggers in the writing
transaction. The exact total of a list (all time or one period; the tenant's own or its
subtree) is then a sum over the tenants of the scope instead of a count of every activity.
RLS like ``activities``: a writer only changes the counts of its own tenant's rows.

The policies of the tables the lists and roll-ups scan (activities, activity_counts, reports,
tenants) read the tenant scope once per statement (``kepu_common.rls.visible_once``, the same
condition) instead of reading both settings and parsing the path for every row."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0008"
down_revision = "0007"

# The periods of an activity's day, in the codes kepu_reporting.periods gives them.
_PERIODS = (
    "(VALUES (''), (to_char(r.day::timestamp, 'YYYY')), (to_char(r.day::timestamp, 'YYYY\"Q\"Q')),"
    " (to_char(r.day::timestamp, 'YYYY-MM'))) AS v (period)"
)
_APPLY = f"""INSERT INTO activity_counts AS c (period, tenant_path, n)
    SELECT period, tenant_path, sum(d) FROM ({{rows}}) AS r, LATERAL {_PERIODS}
    GROUP BY period, tenant_path HAVING sum(d) <> 0 ORDER BY period, tenant_path
    ON CONFLICT (period, tenant_path) DO UPDATE SET n = c.n + excluded.n"""
_ROWS = {
    "insert": "SELECT tenant_path, day, 1 AS d FROM new_rows",
    "delete": "SELECT tenant_path, day, -1 AS d FROM old_rows",
    "update": "SELECT tenant_path, day, 1 AS d FROM new_rows"
    " UNION ALL SELECT tenant_path, day, -1 FROM old_rows",
}
ONCE = ("activities", "reports", "tenants", "activity_counts")
_REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def upgrade() -> None:
    role = app_role()
    # No writer between the counts' backfill and their triggers (held to the migration's end).
    op.execute("LOCK TABLE activities IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        """CREATE TABLE activity_counts (
            period text NOT NULL,
            tenant_path ltree NOT NULL,
            n bigint NOT NULL,
            PRIMARY KEY (period, tenant_path)
        )"""
    )
    op.execute("SELECT set_config('app.system', 'on', true)")
    op.execute(
        "INSERT INTO activity_counts (period, tenant_path, n)"
        f" SELECT period, tenant_path, count(*) FROM activities AS r, LATERAL {_PERIODS}"
        " GROUP BY period, tenant_path"
    )
    op.execute("SELECT set_config('app.system', 'off', true)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON activity_counts TO {role}")
    for stmt in rls.enable_rls_sql("activity_counts"):
        op.execute(stmt)
    for table in ONCE:
        for stmt in rls.alter_policies_sql(table):
            op.execute(stmt)
    for event, rows in _ROWS.items():
        op.execute(
            f"""CREATE FUNCTION activity_counts_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {_APPLY.format(rows=rows)};
                RETURN NULL;
            END $$"""
        )
        op.execute(
            f"CREATE TRIGGER activity_counts_{event} AFTER {event.upper()} ON activities"
            f" REFERENCING {_REFERENCING[event]} FOR EACH STATEMENT"
            f" EXECUTE FUNCTION activity_counts_{event}()"
        )


def downgrade() -> None:
    for table in ONCE[:-1]:
        for stmt in rls.alter_policies_sql(table, once=False):
            op.execute(stmt)
    for event in _ROWS:
        op.execute(f"DROP TRIGGER IF EXISTS activity_counts_{event} ON activities")
        op.execute(f"DROP FUNCTION IF EXISTS activity_counts_{event}()")
    op.execute("DROP TABLE IF EXISTS activity_counts")
