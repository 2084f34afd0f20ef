"""i科普 科技志愿服务: volunteers (a talent of the pool with a recorded consent), volunteer
teams of a tenant, their service records (confirmed or rejected by the tenant) and each volunteer's hours per day. Each row
lies under a tenant path with RLS (FORCE, WITH CHECK) like the other talent tables."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0004"
down_revision = "0003"

TENANT_OWNED = ("volunteers", "volunteer_orgs", "volunteer_records", "volunteer_days")


def upgrade() -> None:
    role = app_role()
    op.execute(
        """CREATE TABLE volunteers (
            id uuid PRIMARY KEY,
            seq bigserial UNIQUE,
            talent_id uuid NOT NULL UNIQUE REFERENCES talents (id) ON DELETE CASCADE,
            tenant_id uuid NOT NULL,
            tenant_path ltree NOT NULL,
            phone_enc bytea,
            phone_masked text NOT NULL DEFAULT '',
            key_version integer NOT NULL,
            consent_version text NOT NULL CHECK (length(consent_version) > 0),
            consent_sha256 text NOT NULL,
            consented_at timestamptz NOT NULL DEFAULT now(),
            consented_by text NOT NULL,
            consented_by_username text NOT NULL DEFAULT '',
            status text NOT NULL DEFAULT 'active'
        )"""
    )
    op.execute("CREATE INDEX volunteers_path ON volunteers USING gist (tenant_path)")
    op.execute(
        """CREATE TABLE volunteer_orgs (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            tenant_path ltree NOT NULL,
            name text NOT NULL CHECK (length(name) > 0),
            contact_name text NOT NULL DEFAULT '',
            contact_phone_enc bytea,
            contact_phone_masked text NOT NULL DEFAULT '',
            key_version integer NOT NULL,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, name)
        )"""
    )
    op.execute("CREATE INDEX volunteer_orgs_path ON volunteer_orgs USING gist (tenant_path)")
    op.execute(
        """CREATE TABLE volunteer_records (
            id uuid PRIMARY KEY,
            org_id uuid NOT NULL REFERENCES volunteer_orgs (id) ON DELETE CASCADE,
            volunteer_id uuid NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
            tenant_path ltree NOT NULL,
            served_on date NOT NULL,
            place text NOT NULL,
            kind text NOT NULL CHECK (kind IN
                ('training', 'lecture', 'agriculture', 'clinic', 'youth')),
            hours numeric(4, 1) NOT NULL CHECK (hours > 0 AND hours <= 24),
            beneficiaries integer NOT NULL CHECK (beneficiaries >= 0),
            description text NOT NULL DEFAULT '',
            status text NOT NULL DEFAULT 'submitted'
                CHECK (status IN ('submitted', 'confirmed', 'rejected')),
            reason text NOT NULL DEFAULT '',
            entered_by text NOT NULL,
            entered_at timestamptz NOT NULL DEFAULT now(),
            decided_by text NOT NULL DEFAULT '',
            decided_at timestamptz
        )"""
    )
    op.execute("CREATE INDEX volunteer_records_path ON volunteer_records USING gist (tenant_path)")
    op.execute("CREATE INDEX volunteer_records_day ON volunteer_records (volunteer_id, served_on)")
    # The hours of a volunteer per day over every team, under the volunteer's path: each team
    # that may record the volunteer sees the volunteer, and so this row, even when the other
    # teams' records lie in branches it cannot read (the 24-hour rule spans them all).
    op.execute(
        """CREATE TABLE volunteer_days (
            volunteer_id uuid NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
            served_on date NOT NULL,
            tenant_path ltree NOT NULL,
            hours numeric(5, 1) NOT NULL CHECK (hours >= 0 AND hours <= 24),
            PRIMARY KEY (volunteer_id, served_on)
        )"""
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TENANT_OWNED)} TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE volunteers_seq_seq TO {role}")
    for table in TENANT_OWNED:
        for stmt in rls.enable_rls_sql(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(TENANT_OWNED):
        op.execute(f"DROP TABLE IF EXISTS {table}")
