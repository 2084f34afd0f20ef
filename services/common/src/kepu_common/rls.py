"""Row-level-security SQL used by every service's migrations (SPEC section 1).

A row is visible when its ``tenant_path`` lies under the transaction's
``app.tenant_path`` (an empty or missing setting matches nothing, never
everything), or when the transaction runs in the explicit system scope.
"""

from __future__ import annotations

SCOPE_EXPR = "nullif(current_setting('app.tenant_path', true), '')::ltree"
SYSTEM_EXPR = "coalesce(current_setting('app.system', true), 'off') = 'on'"


def visible(column: str = "tenant_path") -> str:
    return f"({SYSTEM_EXPR} OR {column} <@ {SCOPE_EXPR})"


# The same condition with each setting read once per statement (a scalar subquery: an InitPlan)
# instead of once per row: ``current_setting`` is STABLE, not constant, so the plain form reads
# both settings and parses the path for every row a scan filters (issue 16: a national list's
# page 500 spent 166 of 175 ms on it; with the InitPlans 9 ms).
SCOPE_ONCE = f"(SELECT {SCOPE_EXPR})"
SYSTEM_ONCE = f"(SELECT {SYSTEM_EXPR})"


def visible_once(column: str = "tenant_path") -> str:
    return f"({SYSTEM_ONCE} OR {column} <@ {SCOPE_ONCE})"


def alter_policies_sql(table: str, column: str = "tenant_path", *, once: bool = True) -> list[str]:
    """Statements that give the four policies of ``enable_rls_sql`` the once-per-statement form
    of their condition (``visible_once``), or back the plain one (``once=False``)."""
    cond = visible_once(column) if once else visible(column)
    return [
        f"ALTER POLICY {table}_select ON {table} USING {cond}",
        f"ALTER POLICY {table}_insert ON {table} WITH CHECK {cond}",
        f"ALTER POLICY {table}_update ON {table} USING {cond} WITH CHECK {cond}",
        f"ALTER POLICY {table}_delete ON {table} USING {cond}",
    ]


def enable_rls_sql(table: str, column: str = "tenant_path") -> list[str]:
    """Statements that enable and force RLS on ``table`` with read and write policies."""
    cond = visible(column)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_select ON {table} FOR SELECT USING {cond}",
        f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK {cond}",
        f"CREATE POLICY {table}_update ON {table} FOR UPDATE USING {cond} WITH CHECK {cond}",
        f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING {cond}",
    ]


def grant_app_sql(table: str, app_role: str) -> list[str]:
    return [f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {app_role}"]


def app_role_from_env() -> str:
    import os

    return os.environ.get("KEPU_APP_ROLE", "kepu_app")
