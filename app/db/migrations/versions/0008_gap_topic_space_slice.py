"""gap topic sets keep the slice of each vector their topic space compares

With a pair of models of which one reads no Japanese, a gap report whose failing inquiries include
Japanese finds its topics in the multilingual model's half of each vector (retrieval/topic_space.py). New
inquiries join live topics at write time in the same space, so the set keeps the slice with its mean.
Sets saved before this revision have none and compare whole vectors, as they did.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gap_topic_set", schema=None) as batch_op:
        batch_op.add_column(sa.Column("space_start", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("space_end", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gap_topic_set", schema=None) as batch_op:
        batch_op.drop_column("space_end")
        batch_op.drop_column("space_start")
