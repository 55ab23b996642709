"""client history index

Edit chains, ticket attribution and re-contact look up one client's sets in a time range. On
client_id alone that scans the client's whole history, which grows without bound for a busy
client id; (client_id, created_epoch) reads just the range.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("suggestion_set", schema=None) as batch_op:
        batch_op.create_index("ix_suggestion_set_client_created", ["client_id", "created_epoch"], unique=False)
        batch_op.drop_index("ix_suggestion_set_client_id")


def downgrade() -> None:
    with op.batch_alter_table("suggestion_set", schema=None) as batch_op:
        batch_op.create_index("ix_suggestion_set_client_id", ["client_id"], unique=False)
        batch_op.drop_index("ix_suggestion_set_client_created")
