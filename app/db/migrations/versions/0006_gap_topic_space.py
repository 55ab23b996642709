"""gap topic sets keep the topic space they were found in

A report's topic centroids live in the topic space of the index it was computed with (the mean of
the help center's questions, subtracted before cosine). New inquiries join live topics at write time,
so the set keeps that mean with it: assignment projects exactly as the report did, whatever index
is live by then. Sets saved before this revision have none and compare by plain cosine.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gap_topic_set", schema=None) as batch_op:
        batch_op.add_column(sa.Column("space_mean", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gap_topic_set", schema=None) as batch_op:
        batch_op.drop_column("space_mean")
