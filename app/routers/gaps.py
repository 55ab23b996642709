"""The gap report: which questions lack articles (secret key)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response

from app.deflection import Period
from app.deps import FromDate, GapCacheDep, LiveIndexDep, SecretAccess, SessionDep, SettingsDep, ToDate
from app.gaps import GapSettings, gap_report
from app.report_formats import gaps_csv

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
