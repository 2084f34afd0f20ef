"""Talent pool: talents, review history, reveal audit, archive, imports, tenants read model."""

from alembic import op
from kepu_common import outbox, rls
from kepu_common.migrations import app_role

revision = "0001"
down_revision = None

TENANT_OWNED = (
    "talents",
    "talent_reviews",
    "talent_reveals",
    "talent_archive_entries",
    "talent_attachments",
    "talent_imports",
)


def upgrade() -> None:
    role = app_role()
    for stmt in outbox.ddl(role):
        op.execute(stmt)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        """CREATE TABLE tenants (
            id uuid PRIMARY KEY,
            code text NOT NULL,
            name text NOT NULL,
            kind text NOT NULL,
            parent_id uuid,
            path ltree NOT NULL UNIQUE,
            status text NOT NULL DEFAULT 'active',
            talent_quota integer,
            updated_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX tenants_path_gist ON tenants USING gist (path)")
    op.execute(
        """CREATE TABLE talents (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            tenant_path ltree NOT NULL,
            province text NOT NULL,
            status text NOT NULL DEFAULT 'draft',
            name text NOT NULL,
            gender text NOT NULL,
            birth_month text NOT NULL DEFAULT '',
            ethnicity text NOT NULL DEFAULT '',
            political_status text NOT NULL DEFAULT '',
            education text NOT NULL DEFAULT '',
            industry text NOT NULL DEFAULT '',
            specialty text NOT NULL DEFAULT '',
            employer text NOT NULL DEFAULT '',
            position text NOT NULL DEFAULT '',
            categories text[] NOT NULL,
            biography text NOT NULL DEFAULT '',
            experience text NOT NULL DEFAULT '',
            plan text NOT NULL DEFAULT '',
            phone_enc bytea,
            phone_masked text NOT NULL DEFAULT '',
            email_enc bytea,
            email_masked text NOT NULL DEFAULT '',
            im_enc bytea,
            im_masked text NOT NULL DEFAULT '',
            id_number_enc bytea,
            id_number_masked text NOT NULL DEFAULT '',
            key_version integer NOT NULL,
            id_number_hash text,
            name_phone_hash text NOT NULL,
            recommend_opinion text NOT NULL DEFAULT '',
            city_opinion text NOT NULL DEFAULT '',
            province_opinion text NOT NULL DEFAULT '',
            reject_reason text NOT NULL DEFAULT '',
            certificate_no text UNIQUE,
            certified_at timestamptz,
            source text NOT NULL DEFAULT 'form',
            import_id uuid,
            created_by text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    # Duplicates across the whole province (keyed hashes; a rejected or revoked
    # record no longer blocks a new recommendation of the same person).
    op.execute(
        "CREATE UNIQUE INDEX talents_id_number_unique ON talents (province, id_number_hash)"
        " WHERE id_number_hash IS NOT NULL AND status NOT IN ('rejected', 'revoked')"
    )
    op.execute(
        "CREATE UNIQUE INDEX talents_name_phone_unique ON talents (province, name_phone_hash)"
        " WHERE status NOT IN ('rejected', 'revoked')"
    )
    op.execute("CREATE INDEX talents_path_gist ON talents USING gist (tenant_path)")
    op.execute("CREATE INDEX talents_status ON talents (status, created_at DESC)")
    op.execute("CREATE INDEX talents_name_trgm ON talents USING gin (name gin_trgm_ops)")
    op.execute("CREATE INDEX talents_specialty_trgm ON talents USING gin (specialty gin_trgm_ops)")
    op.execute("CREATE INDEX talents_categories ON talents USING gin (categories)")
    op.execute("CREATE SEQUENCE talent_certificate_seq")
    op.execute(
        """CREATE TABLE talent_reviews (
            id bigserial PRIMARY KEY,
            talent_id uuid NOT NULL REFERENCES talents (id) ON DELETE CASCADE,
            tenant_path ltree NOT NULL,
            step text NOT NULL,
            from_status text NOT NULL,
            to_status text NOT NULL,
            opinion text NOT NULL DEFAULT '',
            actor text NOT NULL,
            actor_username text NOT NULL DEFAULT '',
            actor_tenant_path text NOT NULL,
            at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX talent_reviews_talent ON talent_reviews (talent_id, id)")
    op.execute(
        """CREATE TABLE talent_reveals (
            id bigserial PRIMARY KEY,
            talent_id uuid NOT NULL,
            tenant_path ltree NOT NULL,
            fields text[] NOT NULL,
            actor text NOT NULL,
            actor_username text NOT NULL DEFAULT '',
            actor_tenant_path text NOT NULL,
            at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX talent_reveals_talent ON talent_reveals (talent_id, at)")
    op.execute(
        """CREATE TABLE talent_archive_entries (
            id uuid PRIMARY KEY,
            talent_id uuid NOT NULL REFERENCES talents (id) ON DELETE CASCADE,
            tenant_path ltree NOT NULL,
            kind text NOT NULL,
            title text NOT NULL,
            occurred_on date,
            hours numeric(6, 1),
            description text NOT NULL DEFAULT '',
            created_by text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX talent_archive_talent ON talent_archive_entries (talent_id)")
    op.execute(
        """CREATE TABLE talent_attachments (
            id uuid PRIMARY KEY,
            talent_id uuid NOT NULL REFERENCES talents (id) ON DELETE CASCADE,
            tenant_path ltree NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL,
            size bigint NOT NULL,
            sha256 text NOT NULL,
            storage_key text NOT NULL,
            created_by text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX talent_attachments_talent ON talent_attachments (talent_id)")
    op.execute(
        """CREATE TABLE talent_imports (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            tenant_path ltree NOT NULL,
            filename text NOT NULL DEFAULT '',
            layout text NOT NULL DEFAULT '',
            mode text NOT NULL,
            status text NOT NULL,
            total integer NOT NULL DEFAULT 0,
            processed integer NOT NULL DEFAULT 0,
            inserted integer NOT NULL DEFAULT 0,
            error_count integer NOT NULL DEFAULT 0,
            errors jsonb NOT NULL DEFAULT '[]'::jsonb,
            message text NOT NULL DEFAULT '',
            created_by text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz
        )"""
    )
    tables = ("tenants",) + TENANT_OWNED
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(tables)} TO {role}")
    op.execute(
        f"GRANT USAGE, SELECT ON SEQUENCE talent_certificate_seq, talent_reviews_id_seq,"
        f" talent_reveals_id_seq TO {role}"
    )
    for table in TENANT_OWNED:
        for stmt in rls.enable_rls_sql(table):
            op.execute(stmt)
    # The tenants read model is a directory (codes, names, kinds) every caller may read,
    # e.g. a county needs its city's kind; only its subtree (or the consumer) may write.
    write = rls.visible("path")
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tenants FORCE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tenants_select ON tenants FOR SELECT USING (true)")
    op.execute(f"CREATE POLICY tenants_insert ON tenants FOR INSERT WITH CHECK {write}")
    op.execute(
        f"CREATE POLICY tenants_update ON tenants FOR UPDATE USING {write} WITH CHECK {write}"
    )
    op.execute(f"CREATE POLICY tenants_delete ON tenants FOR DELETE USING {write}")
