"""registration: Tibetan race names

Revision ID: 3e8f1a6b2c47
Revises: 9495f7c1678a
Create Date: 2026-12-04 19:17:07.745559
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

revision: str = "3e8f1a6b2c47"
down_revision: str | Sequence[str] | None = "9495f7c1678a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A Tibetan name beside the Chinese and English ones; empty means "show the Chinese".
    with op.batch_alter_table("race", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "name_bo",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("race", schema=None) as batch_op:
        batch_op.drop_column("name_bo")
