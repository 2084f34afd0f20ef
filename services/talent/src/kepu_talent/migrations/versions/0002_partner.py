"""Partners: consent to share a talent with a partner (PIPL art. 23), partner access audit,
financing outcomes posted back by banks (银会合作)."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0002"
down_revision = "0001"

TENANT_OWNED = ("talent_consents", "partner_access_log", "financing_outcomes")


def upgrade() -> None:
    role = app_role()
    op.execute(
        """CREATE TABLE talent_consents (
            id uuid PRIMARY KEY,
            talent_id uuid NOT NULL REFERENCES talents (id) ON DELETE CASCADE,
            tenant_path ltree NOT NULL,
            partner_client_id text NOT NULL,
            partner_tenant_path ltree NOT NULL,
            purpose text NOT NULL CHECK (length(purpose) > 0),
            expires_at timestamptz NOT NULL,
            created_by text NOT NULL,
            created_by_username text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz,
            revoked_by text NOT NULL DEFAULT '',
            -- the talent status the partner was last told about (webhook notices)
            notified_status text NOT NULL DEFAULT ''
        )"""
    )
    op.execute(
        "CREATE UNIQUE INDEX talent_consents_one_open ON talent_consents"
        " (talent_id, partner_client_id) WHERE revoked_at IS NULL"
    )
    op.execute(
        "CREATE INDEX talent_consents_partner ON talent_consents (partner_client_id, expires_at)"
        " WHERE revoked_at IS NULL"
    )
    op.execute("CREATE INDEX talent_consents_path ON talent_consents USING gist (tenant_path)")
    op.execute(
        """CREATE TABLE partner_access_log (
            id bigserial PRIMARY KEY,
            talent_id uuid NOT NULL,
            tenant_path ltree NOT NULL,
            partner_client_id text NOT NULL,
            action text NOT NULL,
            at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX partner_access_talent ON partner_access_log (talent_id, at)")
    op.execute(
        """CREATE TABLE financing_outcomes (
            id uuid PRIMARY KEY,
            talent_id uuid NOT NULL REFERENCES talents (id) ON DELETE CASCADE,
            tenant_path ltree NOT NULL,
            partner_client_id text NOT NULL,
            consent_id uuid NOT NULL REFERENCES talent_consents (id),
            product text NOT NULL,
            amount_yuan numeric(14, 2) NOT NULL CHECK (amount_yuan > 0),
            status text NOT NULL CHECK (status IN ('申请中', '已放款', '已拒绝')),
            decided_at date NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        "CREATE INDEX financing_outcomes_talent ON financing_outcomes (talent_id, created_at)"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TENANT_OWNED)} TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE partner_access_log_id_seq TO {role}")
    for table in TENANT_OWNED:
        for stmt in rls.enable_rls_sql(table):
            op.execute(stmt)
