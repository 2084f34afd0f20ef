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
