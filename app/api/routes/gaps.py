"""The gap report: which questions lack articles (secret key)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.api.deps import (
    DeflectionPolicyDep,
    EmbedderDep,
    FromDate,
    GapCacheDep,
    LiveIndexDep,
    LiveTopicsDep,
    SecretAccess,
    SessionDep,
    ToDate,
)
from app.reports.formats import CSV_RESPONSE, gaps_csv, rows_csv
from app.reports.gaps.live_topics import live_topics_report, topic_inquiries, with_new_inquiries
from app.reports.gaps.report import gap_report, unanswered_questions
from app.reports.period import Period
from app.reports.schemas import GapReport, GapTopicInquiries, LiveGapTopics, UnansweredQuestion, UnansweredQuestions
from retrieval.vocabulary import Label

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[SecretAccess])


@router.get("/gaps", response_model=GapReport, responses=CSV_RESPONSE)
def read_gap_report(
    session: SessionDep,
    policy: DeflectionPolicyDep,
    live_index: LiveIndexDep,
    live_topics: LiveTopicsDep,
    cache: GapCacheDep,
    embedder: EmbedderDep,
    from_: FromDate = None,
    to: ToDate = None,
    format: Literal["json", "csv"] = "json",
    refresh: Annotated[bool, Query(description="recompute now, even if the cached report is recent")] = False,
) -> GapReport | Response:
    """Topics of failing questions, ranked by impact, each with a verdict: missing article or article fails.

    Each topic lists its member `query_ids` (and `ticket_ids` of imported helpdesk tickets), its
    signal counts, up to five redacted examples, the closest article and its similarity, and the trend
    against the previous period of equal length. A report of a period that reaches today names live
    topics (`topic_id`) that new failing inquiries join as they arrive; `new_inquiries` counts those
    that joined since the report was computed (`computed_at`). The report is recomputed when asked
    again after the data changed, at most every `DEFLECT_GAP_REPORT_MAX_STALE_SECONDS`, or with `refresh`.
    """
    period = Period.of(from_, to)
    index = live_index.current
    # The dates as asked, not the period: "the last 30 days" asked twice is the same report.
    key = (from_, to, index.build_id if index else None)
    report = None if refresh else cache.get(session, key)
    if report is None:
        report = gap_report(
            session,
            period=period,
            index=index,
            analyzer=live_index.analyzer,
            policy=policy,
            embedder=embedder,
        )
        cache.put(session, key, report)
        live_topics.refresh(session)  # this process assigns to the topics just published at once
    report = with_new_inquiries(session, report)
    if format == "csv":
        return Response(
            gaps_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="gaps.csv"'},
        )
    return report


@router.get("/questions", response_model=UnansweredQuestions, responses=CSV_RESPONSE)
def read_unanswered_questions(
    session: SessionDep,
    from_: FromDate = None,
    to: ToDate = None,
    label: Literal[Label.NO_ANSWER, Label.LOW_CONFIDENCE] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Literal["json", "csv"] = "json",
) -> UnansweredQuestions | Response:
    """The questions that got no answer or only a low-confidence one, most asked first (redacted)."""
    listing = unanswered_questions(session, period=Period.of(from_, to), label=label, limit=limit)
    if format == "csv":
        return Response(
            rows_csv(listing.questions, list(UnansweredQuestion.model_fields)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="questions.csv"'},
        )
    return listing


@router.get("/gaps/topics", response_model=LiveGapTopics)
def read_live_gap_topics(session: SessionDep) -> LiveGapTopics:
    """The live gap topics, from the last computed gap report that reaches today, without recomputing it.

    Each topic has its `topic_id`, label, verdict and volume when computed, and `new_inquiries`: the
    failing questions and imported tickets that joined it since (assigned as they were recorded).
    """
    return live_topics_report(session)


@router.get("/gaps/topics/{topic_id}", response_model=GapTopicInquiries)
def read_gap_topic(
    session: SessionDep,
    topic_id: Annotated[str, Path(max_length=32)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> GapTopicInquiries:
    """One live gap topic and the new inquiries that joined it since the report was computed, newest first.

    Each inquiry is a suggestion set (`kind: suggestion_set`, `id` is its query_id) or an imported
    ticket (`kind: imported_ticket`, `id` is the helpdesk's ticket id), with its redacted text.
    A topic that is no longer live (the report was recomputed without it) is a 404.
    """
    return topic_inquiries(session, topic_id=topic_id, limit=limit)
