"""The gap report: which questions lack articles (secret key)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.deflection import Period
from app.deps import FromDate, GapCacheDep, LiveIndexDep, SecretAccess, SessionDep, SettingsDep, ToDate
from app.gaps import GapSettings, gap_report, unanswered_questions
from app.report_formats import gaps_csv, rows_csv

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[SecretAccess])


@router.get("/gaps", response_model=None)
def read_gap_report(
    session: SessionDep,
    settings: SettingsDep,
    live_index: LiveIndexDep,
    cache: GapCacheDep,
    from_: FromDate = None,
    to: ToDate = None,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """Topics of failing questions, ranked by impact, each with a verdict: missing article or article fails.

    Each topic lists its member `query_ids`, up to five redacted example questions, the closest
    article and its similarity, and the trend against the previous period of equal length.
    """
    period = Period.of(from_, to)
    index = live_index.current
    key = (period.start, period.end, index.build_id if index else None)
    report = cache.get(session, key)
    if report is None:
        report = gap_report(
            session,
            period=period,
            index=index,
            analyzer=live_index.analyzer,
            settings=GapSettings(window_seconds=settings.attribution_window_hours * 3600),
        )
        cache.put(session, key, report)
    if format == "csv":
        return Response(
            gaps_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="gaps.csv"'},
        )
    return report


@router.get("/questions", response_model=None)
def read_unanswered_questions(
    session: SessionDep,
    from_: FromDate = None,
    to: ToDate = None,
    label: Literal["no_answer", "low_confidence"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """The questions that got no answer or only a low-confidence one, most asked first (redacted)."""
    period = Period.of(from_, to)
    questions = unanswered_questions(session, period=period, label=label, limit=limit)
    if format == "csv":
        return Response(
            rows_csv(questions, ["text", "label", "asked", "last_seen"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="questions.csv"'},
        )
    return {"from": period.start.isoformat(), "to": period.end.isoformat(), "questions": questions}
