"""Database tables. Question text is stored only after redaction (app.privacy)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
from sqlalchemy import DateTime, Index, LargeBinary, Table
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def packed_vector(vector: npt.NDArray[np.float32]) -> bytes:
    """A question's embedding as stored: float16, half the bytes, ample for clustering and topic assignment."""
    return vector.astype(np.float16).tobytes()


def unpacked_vector(stored: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(stored, dtype=np.float16).astype(np.float32)


class SuggestionSet(SQLModel, table=True):
    """One answered suggest call: what was asked (redacted) and what was shown."""

    __tablename__ = "suggestion_set"
    # Reports read every column they need of a period's sets from this index, never the (wide) rows.
    __table_args__ = (
        Index(
            "ix_suggestion_set_report",
            *("created_epoch", "composing", "superseded", "channel", "created_day", "result_count", "label"),
            *("ticketed", "explicit", "clicked", "helpful", "not_helpful", "recontacted", "click_position", "id"),
        ),
        # A client's recent sets (edit chains, tickets and re-contacts): a range, however long its history.
        Index("ix_suggestion_set_client_created", "client_id", "created_epoch"),
    )

    id: str = Field(primary_key=True, max_length=32, description="the query_id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    channel: str = Field(max_length=8)
    locale: str | None = Field(default=None, max_length=16)
    client_id: str | None = Field(default=None, max_length=128)
    text: str | None = Field(default=None, description="redacted question; purged after the retention period")
    label: str = Field(max_length=16)
    confidence: float
    result_count: int
    index_build: str = Field(max_length=64)
    composing: bool = Field(default=False, description="asked mid IME composition: answered, never counted")
    # Denormalised for portable, index-friendly report SQL (no dialect date functions).
    # Ranges of created_epoch are read from ix_suggestion_set_report, which leads with it.
    created_epoch: float = Field(default=0.0)
    created_day: str = Field(default="", max_length=10)
    intent_id: str = Field(default="", max_length=32, index=True, description="query_id of the intent's first set")
    superseded: bool = Field(default=False, description="a later keystroke of the same search intent replaced it")
    # The question's embedding (float16), kept so gap topics need no re-embedding; purged with the text.
    vector: bytes | None = Field(default=None, sa_type=LargeBinary)
    # Deflection rollup (app/rollup.py): what followed this set within the attribution window, kept up to date
    # as events arrive, so a report is one scan of this table instead of a join over every event.
    first_article: str | None = Field(default=None, max_length=200)
    clicked: bool = False
    click_position: int | None = Field(default=None, description="position of the first article clicked")
    explicit: bool = Field(default=False, description="solved, or helpful on a shown article")
    helpful: bool = False
    not_helpful: bool = False
    ticketed: bool = Field(default=False, description="the client submitted a ticket within the window")
    recontacted: bool = Field(default=False, description="a later ticket from the client on the same first article")
    # Write-time assignment (app/reports/gaps/live_topics.py): the live gap topic a failing set joined
    # when it was recorded.
    gap_topic_id: str | None = Field(default=None, max_length=32)


class SuggestedArticle(SQLModel, table=True):
    """One article shown in a suggestion set, at its position (1-based), and what the customer did with it."""

    __tablename__ = "suggested_article"
    # The report by article finds a set's articles, their positions and flags here, without reading the rows.
    __table_args__ = (
        Index(
            "ix_suggested_article_query_article",
            *("query_id", "article_id", "position", "clicked", "helpful", "not_helpful"),
        ),
    )

    query_id: str = Field(foreign_key="suggestion_set.id", primary_key=True, max_length=32)
    position: int = Field(primary_key=True)
    article_id: str = Field(max_length=200)
    score: float
    confidence: float
    fallback: bool = False
    # Per-article rollup (app/rollup.py), by the set's rules: this article clicked, or voted on, within W.
    clicked: bool = False
    helpful: bool = False
    not_helpful: bool = False


class Event(SQLModel, table=True):
    """What a customer did after a suggestion set (UBI-style)."""

    __tablename__ = "event"
    # Reports look up "did this client submit a ticket in this window?" once per suggestion set.
    __table_args__ = (Index("ix_event_client_action_ts", "client_id", "action", "ts_epoch"),)

    id: int | None = Field(default=None, primary_key=True)
    query_id: str = Field(foreign_key="suggestion_set.id", index=True, max_length=32)
    client_id: str = Field(max_length=128, index=True)
    # Not indexed on its own: seven values, and an index on it lures planners into scanning by action.
    action: str = Field(max_length=20)
    article_id: str | None = Field(default=None, max_length=200)
    position: int | None = None
    ts_epoch: float = Field(index=True, description="when it happened (client clock, clamped), epoch seconds")
    received_at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    idempotency_key: str = Field(max_length=200, unique=True)


class HelpdeskTicket(SQLModel, table=True):
    """A ticket imported from a helpdesk export (app/tickets.py): a gap signal of its own, stored redacted."""

    __tablename__ = "helpdesk_ticket"

    id: str = Field(primary_key=True, max_length=200, description="the helpdesk's ticket id, or a hash of the ticket")
    created_at: dt.datetime = Field(sa_type=DateTime(timezone=True), description="when the customer wrote in")
    created_epoch: float = Field(index=True)
    imported_epoch: float = Field(index=True)
    locale: str | None = Field(default=None, max_length=16)
    subject: str | None = Field(default=None, description="redacted; purged after the retention period")
    body: str | None = Field(default=None, description="redacted; purged after the retention period")
    # Embedded like a question (float16), so tickets cluster with inquiries; purged with the text.
    vector: bytes | None = Field(default=None, sa_type=LargeBinary)
    gap_topic_id: str | None = Field(default=None, max_length=32, index=True)


class GapTopicSet(SQLModel, table=True):
    """The topics of one computed gap report whose period reaches the present: the live ones are the newest set."""

    __tablename__ = "gap_topic_set"

    id: int | None = Field(default=None, primary_key=True)
    computed_epoch: float
    period_start_epoch: float
    period_end_epoch: float
    similarity: float = Field(description="a new inquiry joins a topic whose centroid is at least this close")
    # The topic space's mean (float32), subtracted from a new inquiry's vector before comparing; null: plain cosine.
    space_mean: bytes | None = Field(default=None, sa_type=LargeBinary)
    # The slice of each vector the topic space compares (a pair's multilingual half); null: all of it.
    space_start: int | None = None
    space_end: int | None = None


class GapTopic(SQLModel, table=True):
    """One topic of a topic set, with its centroid; `id` stays the same across recomputes of the same topic."""

    __tablename__ = "gap_topic"

    set_id: int = Field(foreign_key="gap_topic_set.id", primary_key=True)
    id: str = Field(primary_key=True, max_length=32)
    rank: int
    label: str
    verdict: str = Field(max_length=20)
    volume: int
    centroid: bytes = Field(sa_type=LargeBinary, description="unit vector, float32")


# Core handles on the tables, for the statements that the hot paths (suggest, events) build once at import.
SUGGESTION_SET_TABLE: Table = SuggestionSet.__table__  # type: ignore[attr-defined]
SUGGESTED_ARTICLE_TABLE: Table = SuggestedArticle.__table__  # type: ignore[attr-defined]
EVENT_TABLE: Table = Event.__table__  # type: ignore[attr-defined]
