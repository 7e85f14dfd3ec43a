"""festivals: Tibetan names

Revision ID: 5099ace98812
Revises: f611265ae4a4
Create Date: 2026-12-04 19:17:07.745559
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

revision: str = "5099ace98812"
down_revision: str | Sequence[str] | None = "f611265ae4a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tibetan names beside the Chinese and English ones; empty means "show the Chinese".
    with op.batch_alter_table("festival", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "name_bo",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "venue_bo",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("festival", schema=None) as batch_op:
        batch_op.drop_column("venue_bo")
        batch_op.drop_column("name_bo")
