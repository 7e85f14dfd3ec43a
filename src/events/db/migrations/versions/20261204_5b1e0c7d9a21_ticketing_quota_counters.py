"""ticketing: quota held counter and coverage version, capacity epoch

Revision ID: 5b1e0c7d9a21
Revises: 2cef5c9cb17f
Create Date: 2026-12-04 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e0c7d9a21"
down_revision: str | Sequence[str] | None = "2cef5c9cb17f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_quota", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    # The counter starts as the quantity of the holds that exist.
    op.execute(
        "UPDATE ticket_quota SET held = (SELECT coalesce(sum(h.quantity), 0) "
        "FROM ticket_quota_hold h WHERE h.quota_id = ticket_quota.id)"
    )
    with op.batch_alter_table("ticket_quota", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_ticket_quota_taken_within_size"), "held >= 0 AND sold + held <= size"
        )
    op.create_table(
        "ticket_capacity_epoch",
        sa.Column("festival_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["festival_id"],
            ["festival.id"],
            name=op.f("fk_ticket_capacity_epoch_festival_id_festival"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("festival_id", name=op.f("pk_ticket_capacity_epoch")),
    )


def downgrade() -> None:
    op.drop_table("ticket_capacity_epoch")
    with op.batch_alter_table("ticket_quota", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_ticket_quota_taken_within_size"), type_="check")
        batch_op.drop_column("version")
        batch_op.drop_column("held")
