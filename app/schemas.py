"""API request and response shapes (v1 contract in PRODUCT.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["search", "form", "api"]
Label = Literal["answered", "low_confidence", "no_answer"]


class SuggestFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20)


class SuggestRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="the customer's question as typed", max_length=100_000)
    locale: str | None = Field(default=None, max_length=16, description="the caller's locale; results prefer it")
    channel: Channel = "api"
    client_id: str | None = Field(default=None, max_length=128, description="pseudonymous id chosen by the client")
    limit: int = Field(default=5, ge=1, le=20)
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
