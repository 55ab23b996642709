"""Deflection, computed in SQL that runs unchanged on SQLite and PostgreSQL (definitions: PRODUCT.md).

Reports read the per-set rollup that app/rollup.py keeps as events arrive (a documented incremental
aggregate), so they scan suggestion sets only, however many events there are.

The unit is a search intent's final, non-composing suggestion set. Within the attribution window W
after it, from the same client:
- not deflected: a `ticket_submitted`;
- explicit: `solved`, or `helpful` on a shown article, and no ticket (decided once W has passed);
- implicit (form channel only): a click or helpful vote, no explicit signal, and no ticket by the end of W;
- pending: shown, no ticket yet, W still open.
Net deflection subtracts deflected sets whose client files a ticket within R days from a set that
showed the same first article (the same topic).

Errors: `ReportError` is the base; `InvalidPeriodError` is a period that cannot be reported.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

GROUPINGS = ("day", "channel", "article")
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)
_POSITION = ("click_position_sum", "click_positions")
COUNTS = (
    "suggestion_sets",
    "shown",
    "explicit_deflected",
    "implicit_deflected",
    "not_deflected",
    "pending",
    "net_deflected",
    "clicked",
    "no_result",
    "low_confidence",
    "helpful",
    "not_helpful",
)


class ReportError(Exception):
    """Base of report errors."""


class InvalidPeriodError(ReportError):
    """The period is empty or reversed, or the grouping is unknown."""


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, start: dt.date | dt.datetime | None, end: dt.date | dt.datetime | None, *, days: int = 30) -> Period:
        """[start, end) in UTC; a date means its midnight, an end date is included; default: the last 30 days."""

        def moment(value: dt.date | dt.datetime, *, inclusive_end: bool = False) -> dt.datetime:
            if isinstance(value, dt.datetime):
                return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return dt.datetime.combine(value + dt.timedelta(days=1 if inclusive_end else 0), dt.time(), dt.UTC)

        for value in (start, end):
            if (
                value is not None
                and not EARLIEST.date() <= (value.date() if isinstance(value, dt.datetime) else value) < LATEST.date()
            ):
                raise InvalidPeriodError("dates must lie between 1970-01-01 and 2999-12-31")
        end_at = moment(end, inclusive_end=True) if end else dt.datetime.now(dt.UTC)
        start_at = moment(start) if start else end_at - dt.timedelta(days=days)
        if start_at >= end_at:
            raise InvalidPeriodError("'from' must be before 'to'")
        # Times are stored as epoch seconds, and trends look back one more period of equal length.
        if start_at < EARLIEST or end_at > LATEST or start_at - (end_at - start_at) < EARLIEST:
            raise InvalidPeriodError("the period and the one before it must lie between 1970-01-01 and 2999-12-31")
        return cls(start_at, end_at)


CLASSIFIED_SETS_SQL = """
WITH judged AS MATERIALIZED (
  SELECT s.id, s.channel, s.created_day, s.result_count, s.label,
    CASE WHEN s.clicked THEN 1 ELSE 0 END AS clicked,
    CASE WHEN s.helpful THEN 1 ELSE 0 END AS helpful,
    CASE WHEN s.not_helpful THEN 1 ELSE 0 END AS not_helpful,
    CASE WHEN s.recontacted THEN 1 ELSE 0 END AS recontacted,
    s.click_position,
    CASE
      WHEN s.ticketed THEN 'not_deflected'
      WHEN s.result_count = 0 THEN 'not_shown'
      WHEN s.created_epoch + :window > :now THEN 'pending'
      WHEN s.explicit THEN 'explicit'
      WHEN s.channel = 'form' AND (s.clicked OR s.helpful) THEN 'implicit'
      ELSE 'none'
    END AS outcome
  FROM suggestion_set s
  WHERE s.created_epoch >= :start AND s.created_epoch < :end AND s.composing = :no AND s.superseded = :no
)
"""

_SUMS = """
  COUNT(*) AS suggestion_sets,
  SUM(CASE WHEN j.result_count > 0 THEN 1 ELSE 0 END) AS shown,
  SUM(CASE WHEN j.outcome = 'explicit' THEN 1 ELSE 0 END) AS explicit_deflected,
  SUM(CASE WHEN j.outcome = 'implicit' THEN 1 ELSE 0 END) AS implicit_deflected,
  SUM(CASE WHEN j.outcome = 'not_deflected' AND j.result_count > 0 THEN 1 ELSE 0 END) AS not_deflected,
  SUM(CASE WHEN j.outcome = 'pending' THEN 1 ELSE 0 END) AS pending,
  SUM(CASE WHEN j.outcome IN ('explicit', 'implicit') AND j.recontacted = 0 THEN 1 ELSE 0 END) AS net_deflected,
  SUM(CASE WHEN j.result_count > 0 AND j.clicked = 1 THEN 1 ELSE 0 END) AS clicked,
  SUM(CASE WHEN j.result_count = 0 THEN 1 ELSE 0 END) AS no_result,
  SUM(CASE WHEN j.label = 'low_confidence' THEN 1 ELSE 0 END) AS low_confidence,
  SUM(j.helpful) AS helpful,
  SUM(j.not_helpful) AS not_helpful,
  SUM({click_position}) AS click_position_sum,
  SUM(CASE WHEN {click_position} IS NOT NULL THEN 1 ELSE 0 END) AS click_positions
"""


def deflection_report(
    session: Session,
    *,
    period: Period,
    group_by: str | None = None,
    channel: str | None = None,
    window_hours: float = 24.0,
    recontact_days: float = 7.0,
    now: float | None = None,
) -> dict[str, Any]:
    """Totals and groups (by day, channel or article) of the deflection figures over a period."""
    if group_by is not None and group_by not in GROUPINGS:
        raise InvalidPeriodError(f"group_by must be one of {', '.join(GROUPINGS)}")
    params: dict[str, Any] = {
        "start": period.start.timestamp(),
        "end": period.end.timestamp(),
        "window": window_hours * 3600,
        "recontact": recontact_days * 86400,
        "now": time.time() if now is None else now,
        "no": False,
    }
    channel_filter = "WHERE j.channel = :channel" if channel else ""
    if channel:
        params["channel"] = channel
    groups: list[dict[str, Any]] = []
    raw_groups: list[dict[str, Any]] = []
    if group_by is not None:
        key, join = _grouping(group_by)
        # By article: the position of that article, in the sets where it was the one clicked first.
        position = "CASE WHEN j.click_position = a.position THEN a.position END" if group_by == "article" else None
        sums = _SUMS.format(click_position=position or "j.click_position")
        sql = (
            CLASSIFIED_SETS_SQL
            + f"SELECT {key} AS key, {sums} FROM judged j {join} {channel_filter} GROUP BY {key} ORDER BY {key}"
        )
        for row in session.execute(text(sql), params):
            raw = {k: v for k, v in row._mapping.items() if k != "key"}
            raw_groups.append(raw)
            groups.append({"key": row.key, **_figures(raw)})
    if group_by in ("day", "channel"):
        # Days and channels partition the sets, so the totals are the groups' sums: one scan, not two.
        totals = _figures({name: sum(int(g.get(name) or 0) for g in raw_groups) for name in (*COUNTS, *_POSITION)})
    else:
        sums = _SUMS.format(click_position="j.click_position")
        result = session.execute(text(CLASSIFIED_SETS_SQL + f"SELECT {sums} FROM judged j {channel_filter}"), params)
        totals = _figures(dict(result.one()._mapping))
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "group_by": group_by,
        "window_hours": window_hours,
        "recontact_days": recontact_days,
        "totals": totals,
        "groups": groups,
    }


def _grouping(group_by: str) -> tuple[str, str]:
    if group_by == "article":
        # A set counts once for every article it showed.
        return "a.article_id", "JOIN suggested_article a ON a.query_id = j.id"
    return ("j.created_day" if group_by == "day" else "j.channel"), ""


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    counts = {name: int(row.get(name) or 0) for name in COUNTS}
    shown, sets = counts["shown"], counts["suggestion_sets"]
    deflected = counts["explicit_deflected"] + counts["implicit_deflected"]
    votes = counts["helpful"] + counts["not_helpful"]
    return counts | {
        "deflection_rate": _ratio(deflected, shown),
        "explicit_deflection_rate": _ratio(counts["explicit_deflected"], shown),
        "implicit_deflection_rate": _ratio(counts["implicit_deflected"], shown),
        "net_deflection_rate": _ratio(counts["net_deflected"], shown),
        "ctr": _ratio(counts["clicked"], shown),
        "no_result_rate": _ratio(counts["no_result"], sets),
        "low_confidence_rate": _ratio(counts["low_confidence"], sets),
        "helpful_rate": _ratio(counts["helpful"], votes),
        "average_click_position": round(int(row["click_position_sum"]) / int(row["click_positions"]), 3)
        if row.get("click_positions")
        else None,
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None
