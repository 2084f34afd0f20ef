"""Reports: drop the children/own figures snapshotted at submission.

Subtree sums are now computed from the submitted briefs themselves (domain.rollup_sources),
so they no longer depend on the order in which the levels filed (issue 10).
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE reports DROP COLUMN children_values, DROP COLUMN own_values")
