"""Tenants, users, sign-in state, signing keys, OIDC codes and sessions, credential batches, audit."""

from alembic import op
from kepu_common import outbox, rls
from kepu_common.migrations import app_role

revision = "0001"
down_revision = None

TENANT_OWNED = [
    "tenants",
    "users",
    "password_history",
    "credential_batches",
    "credential_items",
    "audit_log",
]


def upgrade() -> None:
    role = app_role()
    for stmt in outbox.ddl(role):
        op.execute(stmt)
    op.execute("""
    CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        code text NOT NULL UNIQUE,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('province','city','county','township','society')),
        parent_id uuid REFERENCES tenants(id),
        tenant_path ltree NOT NULL UNIQUE,
        status text NOT NULL DEFAULT 'active',
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("CREATE INDEX tenants_path_gist ON tenants USING gist (tenant_path)")
    op.execute("CREATE INDEX tenants_parent ON tenants (parent_id)")
    op.execute("""
    CREATE TABLE users (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        tenant_path ltree NOT NULL,
        username text NOT NULL UNIQUE,
        display_name text NOT NULL DEFAULT '',
        email text,
        password_hash text NOT NULL,
        must_change_password boolean NOT NULL DEFAULT true,
        roles text[] NOT NULL DEFAULT '{}',
        is_tenant_admin boolean NOT NULL DEFAULT false,
        failed_count int NOT NULL DEFAULT 0,
        locked_until timestamptz,
        totp_secret bytea,
        totp_enabled boolean NOT NULL DEFAULT false,
        enabled boolean NOT NULL DEFAULT true,
        external_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        password_changed_at timestamptz
    )""")
    # Never two distributed admin accounts for one tenant.
    op.execute(
        "CREATE UNIQUE INDEX users_one_tenant_admin ON users (tenant_id) WHERE is_tenant_admin"
    )
    op.execute("CREATE INDEX users_path_gist ON users USING gist (tenant_path)")
    op.execute("""
    CREATE TABLE password_history (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        tenant_path ltree NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("""
    CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        private_key bytea NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("""
    CREATE TABLE clients (
        client_id text PRIMARY KEY,
        name text NOT NULL,
        public boolean NOT NULL,
        secret_hash text,
        redirect_uris text[] NOT NULL DEFAULT '{}',
        grant_types text[] NOT NULL,
        scopes text[] NOT NULL DEFAULT '{}',
        tenant_id uuid REFERENCES tenants(id),
        enabled boolean NOT NULL DEFAULT true
    )""")
    op.execute("""
    CREATE TABLE auth_codes (
        code_hash text PRIMARY KEY,
        client_id text NOT NULL,
        user_id uuid NOT NULL,
        redirect_uri text NOT NULL,
        code_challenge text,
        code_challenge_method text,
        scope text NOT NULL,
        nonce text,
        session_id uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        used boolean NOT NULL DEFAULT false
    )""")
    op.execute("""
    CREATE TABLE sso_sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        client_id text NOT NULL,
        scope text NOT NULL,
        refresh_hash text UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_refresh timestamptz NOT NULL DEFAULT now(),
        revoked boolean NOT NULL DEFAULT false
    )""")
    op.execute("""
    CREATE TABLE credential_batches (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        tenant_path ltree NOT NULL,
        scope text NOT NULL,
        status text NOT NULL DEFAULT 'running',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
    )""")
    op.execute(
        "CREATE UNIQUE INDEX credential_batches_one_running ON credential_batches (tenant_id)"
        " WHERE status = 'running'"
    )
    op.execute("""
    CREATE TABLE credential_items (
        batch_id uuid NOT NULL REFERENCES credential_batches(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        tenant_path ltree NOT NULL,
        username text NOT NULL,
        sealed_password bytea,
        status text NOT NULL DEFAULT 'pending',
        PRIMARY KEY (batch_id, tenant_id)
    )""")
    op.execute("""
    CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        tenant_path ltree NOT NULL,
        action text NOT NULL,
        username text NOT NULL DEFAULT '',
        actor text NOT NULL DEFAULT '',
        client_ip text NOT NULL DEFAULT '',
        details jsonb NOT NULL DEFAULT '{}'::jsonb
    )""")
    op.execute("CREATE INDEX audit_log_path ON audit_log USING gist (tenant_path)")
    for table in (
        "tenants",
        "users",
        "password_history",
        "signing_keys",
        "clients",
        "auth_codes",
        "sso_sessions",
        "credential_batches",
        "credential_items",
        "audit_log",
    ):
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    op.execute(f"GRANT USAGE ON SEQUENCE password_history_id_seq, audit_log_id_seq TO {role}")
    for table in TENANT_OWNED:
        for stmt in rls.enable_rls_sql(table):
            op.execute(stmt)
