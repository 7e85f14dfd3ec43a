"""registration: one spelling on the wire, ``canceled`` (as Stripe and the rest of the API)

Revision ID: 9495f7c1678a
Revises: 4a65ce518af6
Create Date: 2026-12-04 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9495f7c1678a"
down_revision: str | Sequence[str] | None = "4a65ce518af6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE entry SET status = 'canceled' WHERE status = 'cancelled'")
    op.execute("UPDATE entry_event SET from_status = 'canceled' WHERE from_status = 'cancelled'")
    op.execute("UPDATE entry_event SET to_status = 'canceled' WHERE to_status = 'cancelled'")


def downgrade() -> None:
    op.execute("UPDATE entry SET status = 'cancelled' WHERE status = 'canceled'")
    op.execute("UPDATE entry_event SET from_status = 'cancelled' WHERE from_status = 'canceled'")
    op.execute("UPDATE entry_event SET to_status = 'cancelled' WHERE to_status = 'canceled'")
