"""payments: one spelling on the wire, ``canceled`` (as Stripe and the rest of the API)

Revision ID: d08d3916aad9
Revises: ba1479c14a2d
Create Date: 2026-12-04 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d08d3916aad9"
down_revision: str | Sequence[str] | None = "ba1479c14a2d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE payment SET status = 'canceled' WHERE status = 'cancelled'")
    op.execute(
        "UPDATE payment_status_change SET from_status = 'canceled' WHERE from_status = 'cancelled'"
    )
    op.execute(
        "UPDATE payment_status_change SET to_status = 'canceled' WHERE to_status = 'cancelled'"
    )


def downgrade() -> None:
    op.execute("UPDATE payment SET status = 'cancelled' WHERE status = 'canceled'")
    op.execute(
        "UPDATE payment_status_change SET from_status = 'cancelled' WHERE from_status = 'canceled'"
    )
    op.execute(
        "UPDATE payment_status_change SET to_status = 'cancelled' WHERE to_status = 'canceled'"
    )
