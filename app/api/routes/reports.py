"""Reports for the content team (secret key)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.deps import DeflectionPolicyDep, FromDate, SecretAccess, SessionDep, ToDate
from app.reports.deflection import deflection_report
from app.reports.formats import CSV_RESPONSE, deflection_csv
from app.reports.period import Period
from app.reports.schemas import DeflectionReport, Grouping
from retrieval.vocabulary import Channel

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[SecretAccess])


@router.get("/deflection", response_model=DeflectionReport, responses=CSV_RESPONSE)
def read_deflection_report(
    session: SessionDep,
    policy: DeflectionPolicyDep,
    from_: FromDate = None,
    to: ToDate = None,
    channel: Channel | None = None,
    group_by: Grouping | None = None,
    format: Literal["json", "csv"] = "json",
) -> DeflectionReport | Response:
    """Explicit, implicit and net deflection, CTR, no-result and low-confidence rates, over a period.

    Each figure is reported apart, never blended (definitions: docs/deflection.md). `group_by` splits
    them by day, channel or shown article.
    """
    report = deflection_report(session, period=Period.of(from_, to), group_by=group_by, channel=channel, policy=policy)
    if format == "csv":
        return Response(
            deflection_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="deflection.csv"'},
        )
    return report
