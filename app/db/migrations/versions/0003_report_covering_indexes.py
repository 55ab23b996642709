"""report covering indexes

The deflection report reads a period's sets, and by article their shown articles, from these indexes
alone: no lookups of the sets' rows (which carry question text and vectors).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_COLUMNS = [
    *("created_epoch", "composing", "superseded", "channel", "created_day", "result_count", "label"),
    *("ticketed", "explicit", "clicked", "helpful", "not_helpful", "recontacted", "click_position", "id"),
]


def upgrade() -> None:
    with op.batch_alter_table("suggestion_set", schema=None) as batch_op:
        batch_op.create_index("ix_suggestion_set_report", REPORT_COLUMNS, unique=False)
    with op.batch_alter_table("suggested_article", schema=None) as batch_op:
        batch_op.create_index(
            "ix_suggested_article_query_article", ["query_id", "article_id", "position"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("suggested_article", schema=None) as batch_op:
        batch_op.drop_index("ix_suggested_article_query_article")
    with op.batch_alter_table("suggestion_set", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_set_report")
