"""Member departments 成员单位 (issue 14): a tenant kind under a province, city or county, whose
users work on the plan tasks assigned to their department."""

from alembic import op

revision = "0004"
down_revision = "0003"

KINDS = "'province','city','county','township','society'"


def upgrade() -> None:
    op.execute("ALTER TABLE tenants DROP CONSTRAINT tenants_kind_check")
    op.execute(
        f"ALTER TABLE tenants ADD CONSTRAINT tenants_kind_check CHECK (kind IN ({KINDS},'department'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP CONSTRAINT tenants_kind_check")
    op.execute(f"ALTER TABLE tenants ADD CONSTRAINT tenants_kind_check CHECK (kind IN ({KINDS}))")
