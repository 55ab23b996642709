"""shown articles carry what the customer did with each of them

Before, the report by article credited a set's click and votes to every article the set showed, so an
article shown beside the one clicked had the same CTR. Each shown article now keeps its own flags (clicked,
voted helpful, voted not helpful within W, by the set's rules), filled here from the stored events with
the configured W (handed in by app.db.engine.migrate), and the covering index of the report by article carries them.
The default is a plain "0", so SQLite adds the columns in place rather than copying the table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = ("clicked", "helpful", "not_helpful")
ACTIONS = {"clicked": "click", "helpful": "helpful", "not_helpful": "not_helpful"}


def _named(action: str) -> str:
    # A frozen copy of app.rollup's rule at this revision: an event on any set of the intent within W.
    return f"""EXISTS (SELECT 1 FROM suggestion_set s JOIN suggestion_set m ON m.intent_id = s.intent_id
                 JOIN event e ON e.query_id = m.id
               WHERE s.id = suggested_article.query_id AND e.action = '{action}'
                 AND e.article_id = suggested_article.article_id AND e.ts_epoch <= s.created_epoch + :window)"""


def upgrade() -> None:
    window = float(context.config.attributes.get("attribution_window_seconds", 24 * 3600))
    with op.batch_alter_table("suggested_article", schema=None) as batch_op:
        batch_op.drop_index("ix_suggested_article_query_article")
        for flag in FLAGS:
            batch_op.add_column(sa.Column(flag, sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("suggested_article", schema=None) as batch_op:
        batch_op.create_index(
            "ix_suggested_article_query_article", ["query_id", "article_id", "position", *FLAGS], unique=False
        )
    assignments = ", ".join(f"{flag} = {_named(action)}" for flag, action in ACTIONS.items())
    op.get_bind().execute(sa.text(f"UPDATE suggested_article SET {assignments}"), {"window": window})


def downgrade() -> None:
    with op.batch_alter_table("suggested_article", schema=None) as batch_op:
        batch_op.drop_index("ix_suggested_article_query_article")
        for flag in FLAGS:
            batch_op.drop_column(flag)
        batch_op.create_index(
            "ix_suggested_article_query_article", ["query_id", "article_id", "position"], unique=False
        )
