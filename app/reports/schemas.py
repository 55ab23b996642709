"""Report shapes: what GET /v1/reports/* and `deflect report` return (v1 contract in docs/api.md; fields may be added).

The report modules (app/reports/deflection.py, app/reports/gaps/) build these, so they live apart from
app/api/schemas.py, which imports the suggest code that imports those modules. Fields are in the JSON's order.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, PlainSerializer, WithJsonSchema

from retrieval.vocabulary import Label

# Written as datetime.isoformat() writes it ("+00:00"), as the reports always were, not as pydantic would ("Z").
Moment = Annotated[
    dt.datetime,
    PlainSerializer(dt.datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Grouping = Literal["day", "channel", "article"]
Verdict = Literal["missing_article", "article_fails"]


class ReportPeriod(BaseModel):
    # Read back by the name it is written with, as a client of the JSON would.
    from_: Moment = Field(
        serialization_alias="from",
        validation_alias=AliasChoices("from_", "from"),
        description="start of the period, included",
    )
    to: Moment = Field(description="end of the period, excluded")


class DeflectionCounts(BaseModel):
    """Final suggestion sets of search intents, counted by outcome and by what followed (docs/deflection.md)."""

    suggestion_sets: int
    shown: int = Field(description="sets that showed at least one article")
    explicit_deflected: int = Field(description="solved, or helpful on a shown article, and no ticket within W")
    implicit_deflected: int = Field(description="form channel: a click or helpful vote, no explicit signal, no ticket")
    not_deflected: int = Field(description="shown, then a ticket from the same client within W")
    pending: int = Field(description="shown, no ticket yet, W still open")
    net_deflected: int = Field(description="deflected, and no ticket on the same topic within R")
    clicked: int
    no_result: int
    low_confidence: int
    helpful: int
    not_helpful: int


class DeflectionFigures(DeflectionCounts):
    """The counts and the rates made of them; a rate is null when nothing was there to divide by."""

    deflection_rate: float | None = Field(description="explicit and implicit deflections per shown set")
    explicit_deflection_rate: float | None
    implicit_deflection_rate: float | None
    net_deflection_rate: float | None
    ctr: float | None = Field(description="clicked per shown set")
    no_result_rate: float | None = Field(description="per suggestion set")
    low_confidence_rate: float | None = Field(description="per suggestion set")
    helpful_rate: float | None = Field(description="helpful votes per vote")
    average_click_position: float | None = Field(description="of the first article clicked, 1 being the top")


class DeflectionGroupKey(BaseModel):
    key: str = Field(description="the day (YYYY-MM-DD), channel or article id")


# The key comes first, as it always has: pydantic takes the fields of the last base class first.
class DeflectionGroup(DeflectionFigures, DeflectionGroupKey):
    """One day's, channel's or article's figures."""


class DeflectionReport(ReportPeriod):
    group_by: Grouping | None
    window_hours: float = Field(description="W: what follows a suggestion set this long counts for it")
    recontact_days: float = Field(description="R: a ticket on the same topic this long after undoes a deflection")
    totals: DeflectionFigures
    groups: list[DeflectionGroup]


class ClosestArticle(BaseModel):
    article_id: str | None
    similarity: float = Field(description="cosine of the topic's centre and the article's nearest passage")


class TopicTrend(BaseModel):
    previous_volume: int = Field(description="failing inquiries near the topic in the period of equal length before")
    change: float | None = Field(description="(volume - previous_volume) / previous_volume; null when that was 0")


class GapReportTopic(BaseModel):
    """Failing questions and imported tickets of one meaning, across languages."""

    label: str = Field(description="key terms, with the other language's in parentheses when the topic is mixed")
    representative_question: str = Field(
        default="",
        description="the member nearest the topic's centre, in the team's language where one is, redacted, "
        "without a mail's greeting and signature",
    )
    volume: int = Field(description="failing inquiries in the topic")
    share: float = Field(description="of all failing inquiries")
    failure_rate: float = Field(description="failing among the failing and answered questions near the topic")
    impact: float = Field(description="volume x failure_rate: what ranks the topics")
    locales: dict[str, int]
    signals: dict[str, int] = Field(description="inquiries per failure signal; one inquiry may have several")
    examples: list[str] = Field(description="up to five members nearest the centre, redacted")
    query_ids: list[str]
    ticket_ids: list[str] = Field(description="imported helpdesk tickets in the topic")
    closest_article: ClosestArticle
    verdict: Verdict
    trend: TopicTrend
    topic_id: str | None = Field(default=None, description="the live topic's id; null in a report of a past period")
    new_inquiries: int | None = Field(default=None, description="failing inquiries that joined since computed_at")


class LongTailQuestion(BaseModel):
    """A failing inquiry that joined no topic: listed, never dropped."""

    query_id: str | None = Field(description="the suggestion set; null for an imported ticket")
    ticket_id: str | None = Field(description="the imported helpdesk ticket; null for a suggestion set")
    text: str = Field(description="as stored (redacted), without a mail's greeting and signature")
    signals: list[str] = Field(description="how it failed")
    closest_article: ClosestArticle
    verdict: Verdict


class ArticleShownButFailing(BaseModel):
    article_id: str
    title: str | None
    shown: int
    ctr: float | None
    deflection_rate: float | None
    not_helpful: int


class NeverShownArticle(BaseModel):
    article_id: str
    title: str
    locale: str
    category: str
    url: str


class GapReport(ReportPeriod):
    computed_at: Moment
    failing_inquiries: int
    failing_inquiries_of_another_model: int = Field(description="embedded by an earlier model: set aside, counted")
    imported_tickets: int
    signals: dict[str, int]
    clustered: int
    new_inquiries: int | None = Field(description="failing inquiries that joined live topics since computed_at")
    unclustered_query_ids: list[str]
    unclustered_ticket_ids: list[str]
    topics: list[GapReportTopic]
    long_tail: list[LongTailQuestion] = Field(
        default_factory=list, description="failing inquiries in no topic, with their closest article and verdict"
    )
    articles_shown_but_failing: list[ArticleShownButFailing]
    articles_never_shown: list[str]
    articles_never_shown_detail: list[NeverShownArticle]


class UnansweredQuestion(BaseModel):
    text: str = Field(description="as stored: redacted")
    label: Label
    asked: int
    last_seen: Moment


class UnansweredQuestions(ReportPeriod):
    questions: list[UnansweredQuestion]


class LiveGapTopicBase(BaseModel):
    topic_id: str
    rank: int
    label: str
    verdict: Verdict
    volume: int = Field(description="failing inquiries in the topic when the report was computed")


class LiveGapTopic(LiveGapTopicBase):
    new_inquiries: int = Field(description="failing inquiries that joined since the report was computed")


class LiveGapTopics(BaseModel):
    computed_at: Moment | None = Field(description="when the report that published these topics was computed")
    from_: Moment | None = Field(serialization_alias="from", validation_alias=AliasChoices("from_", "from"))
    to: Moment | None
    topics: list[LiveGapTopic]


class TopicInquiry(BaseModel):
    kind: Literal["suggestion_set", "imported_ticket"]
    id: str = Field(description="the suggestion set's query_id, or the helpdesk's ticket id")
    text: str | None = Field(description="redacted; null once the retention period has passed")
    locale: str | None
    label: Label | None
    created_at: Moment


class GapTopicInquiries(LiveGapTopicBase):
    computed_at: Moment
    new_inquiries: int = Field(description="failing inquiries that joined since the report was computed")
    inquiries: list[TopicInquiry] = Field(description="newest first")
