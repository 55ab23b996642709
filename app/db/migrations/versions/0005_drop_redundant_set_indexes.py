"""drop redundant suggestion set indexes

Every suggest inserts a suggestion set and its shown articles, and each index is one more write
per row. Nothing filters on created_at, channel or created_day alone, and a range of created_epoch
is read from ix_suggestion_set_report, which leads with it (reports, retention, gap inquiries, new
topic members). Four of the eight set indexes go; the primary key, intent_id (the rollup), the
client history and the report index stay. Shown articles are always found by query_id (the
primary key and the report's covering index), never by article_id alone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {  # table -> index name -> its column
    "suggestion_set": {
        "ix_suggestion_set_created_at": "created_at",
        "ix_suggestion_set_channel": "channel",
        "ix_suggestion_set_created_epoch": "created_epoch",
        "ix_suggestion_set_created_day": "created_day",
    },
    "suggested_article": {"ix_suggested_article_article_id": "article_id"},
}


def upgrade() -> None:
    for table, indexes in DROPPED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)


def downgrade() -> None:
    for table, indexes in DROPPED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column in indexes.items():
                batch_op.create_index(name, [column], unique=False)
