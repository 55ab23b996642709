"""API request and response shapes (the v1 contract: docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.suggestions import DEFAULT_LIMIT, MAX_LIMIT
from app.vocabulary import Action
from retrieval.vocabulary import Channel, Label


class SuggestFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20)


class SuggestRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="the customer's question as typed", max_length=100_000)
    locale: str | None = Field(default=None, max_length=16, description="the caller's locale; results prefer it")
    channel: Channel = Channel.API
    client_id: str | None = Field(default=None, max_length=128, description="pseudonymous id chosen by the client")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    filters: SuggestFilters | None = None
    composing: bool = Field(default=False, description="IME composition in progress: answered, not counted")
    confident_only: bool = Field(default=False, description="return nothing unless confident (for inquiry forms)")


class SuggestedArticlePublic(BaseModel):
    article_id: str
    title: str
    url: str
    locale: str
    category: str
    snippet: str
    snippet_html: str = Field(description="the snippet HTML-escaped, matched terms in <mark>")
    highlights: list[tuple[int, int]] = Field(description="matched term spans in snippet, [start, end) offsets")
    score: float
    confidence: float
    label: Label
    fallback: bool = Field(description="in another locale than the caller's, shown because none exists in theirs")


class SuggestResponse(BaseModel):
    query_id: str
    label: Label
    confidence: float
    results: list[SuggestedArticlePublic]
    recorded: bool = Field(default=True, description="false while the database is down: events for it are refused")


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable error code")
    message: str
    detail: list[dict[str, object]] | None = None


class ReadinessReport(BaseModel):
    ready: bool
    index_build: str | None
    index_problem: str | None
    database: bool
    model: str
    instance: str = Field(description="host:pid of the worker that answered, to tell workers and instances apart")


class EventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query_id: str = Field(min_length=1, max_length=32, description="from the suggest response")
    client_id: str = Field(min_length=1, max_length=128, description="pseudonymous id chosen by the client")
    action: Action
    article_id: str | None = Field(default=None, max_length=200)
    position: int | None = Field(default=None, ge=1, le=20)
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=200, description="retries with the same key count once"
    )
    ts: datetime | None = Field(default=None, description="when it happened; default: when received")


# A batch holds at least one event; the body size limit bounds it too.
EventBatch = Annotated[list[EventBody], Field(min_length=1, max_length=500)]


class HandoffPublic(BaseModel):
    query_id: str
    question: str | None
    shown: list[str]
    clicked: list[str]
    helpful: list[str]
    text: str = Field(description="a short summary for a hidden field of the ticket form")


class EventResult(BaseModel):
    index: int
    status: Literal["accepted", "duplicate"]


class EventsResponse(BaseModel):
    accepted: int
    duplicates: int
    results: list[EventResult]
    handoff: HandoffPublic | None = None


class TicketImportResponse(BaseModel):
    read: int = Field(description="tickets in the export")
    imported: int = Field(description="stored now (redacted and embedded)")
    duplicates: int = Field(description="already stored, or repeated in the export: skipped")
    expired: int = Field(description="written before the retention period: not stored")
    assigned: int = Field(description="of those imported, how many joined a live gap topic")
