"""Deflection, computed in SQL that runs unchanged on SQLite and PostgreSQL (definitions: docs/deflection.md).

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

Errors: app/reports/period.py's `ReportError` and `InvalidPeriodError`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

from sqlalchemy import RowMapping, text
from sqlmodel import Session

from app.reports.period import InvalidPeriodError, Period
from app.reports.schemas import DeflectionCounts, DeflectionFigures, DeflectionGroup, DeflectionReport, Grouping
from retrieval.vocabulary import Channel, Label

if TYPE_CHECKING:
    from app.settings import Settings

GROUPINGS: tuple[Grouping, ...] = get_args(Grouping)
COUNTS = tuple(DeflectionCounts.model_fields)


@dataclass(frozen=True)
class DeflectionPolicy:
    """W, how long after a suggestion set what the customer does counts for it, and R, the re-contact horizon."""

    attribution_window: dt.timedelta = dt.timedelta(hours=24)
    recontact_horizon: dt.timedelta = dt.timedelta(days=7)

    @classmethod
    def of(cls, settings: Settings) -> DeflectionPolicy:
        """The configured W and R (`attribution_window_hours`, `recontact_days`)."""
        return cls(dt.timedelta(hours=settings.attribution_window_hours), dt.timedelta(days=settings.recontact_days))


OUTCOMES = ("none", "not_deflected", "not_shown", "pending", "explicit", "implicit")


def _outcome(names: dict[str, str]) -> str:
    """A set's outcome, per the definitions above (the first that applies), spelt as `names` says."""
    return f"""CASE
      WHEN s.ticketed THEN {names["not_deflected"]}
      WHEN s.result_count = 0 THEN {names["not_shown"]}
      WHEN s.created_epoch + :window > :now THEN {names["pending"]}
      WHEN s.explicit THEN {names["explicit"]}
      WHEN s.channel = '{Channel.FORM}' AND (s.clicked OR s.helpful) THEN {names["implicit"]}
      ELSE {names["none"]}
    END"""


_COUNTED_SETS = "s.created_epoch >= :start AND s.created_epoch < :end AND s.composing = :no AND s.superseded = :no"

CLASSIFIED_SETS_SQL = f"""
WITH judged AS MATERIALIZED (
  SELECT s.id, s.channel, s.created_day, s.result_count, s.label,
    CASE WHEN s.clicked THEN 1 ELSE 0 END AS clicked,
    CASE WHEN s.helpful THEN 1 ELSE 0 END AS helpful,
    CASE WHEN s.not_helpful THEN 1 ELSE 0 END AS not_helpful,
    CASE WHEN s.recontacted THEN 1 ELSE 0 END AS recontacted,
    s.click_position,
    {_outcome({name: f"'{name}'" for name in OUTCOMES})} AS outcome
  FROM suggestion_set s
  WHERE {_COUNTED_SETS}
)
"""

# Reports count sets in two steps. First, per group, how many sets had each `facts`: one small integer,
# the outcome's index in OUTCOMES in the low three bits plus one bit per flag below. Then those few
# thousand counts are folded into the figures. Per set (or per shown article) that is one CASE and one
# COUNT instead of fourteen sums: a third less time by article on SQLite (docs/decisions/0014-per-article-rollup.md).
_FLAGS = {
    "shown": (8, "s.result_count > 0"),
    "low_confidence": (16, f"s.label = '{Label.LOW_CONFIDENCE}'"),
    "clicked": (32, "s.clicked"),
    "helpful": (64, "s.helpful"),
    "not_helpful": (128, "s.not_helpful"),
    "recontacted": (256, "s.recontacted"),
}
_FACTS = " + ".join(
    [
        _outcome({name: str(code) for code, name in enumerate(OUTCOMES)}),
        *(f"CASE WHEN {condition} THEN {bit} ELSE 0 END" for bit, condition in _FLAGS.values()),
    ]
)


def _is(*outcomes: str) -> str:
    return f"facts % 8 IN ({', '.join(str(OUTCOMES.index(outcome)) for outcome in outcomes)})"


def _has(flag: str, value: int = 1) -> str:
    return f"facts / {_FLAGS[flag][0]} % 2 = {value}"


_FIGURES = {
    "shown": _has("shown"),
    "explicit_deflected": _is("explicit"),
    "implicit_deflected": _is("implicit"),
    "not_deflected": f"{_is('not_deflected')} AND {_has('shown')}",
    "pending": _is("pending"),
    "net_deflected": f"{_is('explicit', 'implicit')} AND {_has('recontacted', 0)}",
    "clicked": f"{_has('shown')} AND {_has('clicked')}",
    "no_result": _has("shown", 0),
    "low_confidence": _has("low_confidence"),
    "helpful": _has("helpful"),
    "not_helpful": _has("not_helpful"),
}
_FOLD = ",\n  ".join(
    [
        "SUM(n) AS suggestion_sets",
        *(f"SUM(CASE WHEN {condition} THEN n ELSE 0 END) AS {name}" for name, condition in _FIGURES.items()),
        "SUM(click_position * n) AS click_position_sum",
        "SUM(CASE WHEN click_position IS NOT NULL THEN n ELSE 0 END) AS click_positions",
    ]
)
_GROUP_KEYS = {"day": "j.created_day", "channel": "j.channel"}
# By article a set counts once for every article it showed, with the set's outcome and shown, confidence and
# re-contact flags, but the article's own click and votes. A deflection goes to the articles the customer
# clicked or found helpful; a set deflected without a click or helpful vote (`solved` alone) goes to every
# article shown but one voted not helpful. The set's own bits say whether there was a click or vote: checking
# its shown articles instead, for the rare click on an article only an earlier keystroke showed, cost the
# report by article 1.8x or more on SQLite or PostgreSQL, whichever way it was written
# (docs/decisions/0014-per-article-rollup.md).
_SET_ENGAGED = f"({_has('clicked')} OR {_has('helpful')})"
_ARTICLE_OUTCOME = f"""CASE WHEN {_is("explicit", "implicit")} AND NOT (a.clicked OR a.helpful)
      AND ({_SET_ENGAGED} OR a.not_helpful) THEN {OUTCOMES.index("none")} ELSE facts % 8 END"""
_ARTICLE_FACTS = " + ".join(
    [
        f"facts / {_FLAGS['recontacted'][0]} * {_FLAGS['recontacted'][0]}",  # the re-contact bit, kept
        f"facts % {_FLAGS['clicked'][0]} / {_FLAGS['shown'][0]} * {_FLAGS['shown'][0]}",  # shown, low confidence
        *(f"CASE WHEN a.{flag} THEN {_FLAGS[flag][0]} ELSE 0 END" for flag in ("clicked", "helpful", "not_helpful")),
        _ARTICLE_OUTCOME,
    ]
)
_BY_ARTICLE = f"""SELECT key, facts, click_position, COUNT(*) AS n FROM (
    SELECT a.article_id AS key, {_ARTICLE_FACTS} AS facts, CASE WHEN a.clicked THEN a.position END AS click_position
    FROM judged j JOIN suggested_article a ON a.query_id = j.id
  ) shown_article
  GROUP BY key, facts, click_position"""
_PER_SET = "SELECT {key} AS key, j.facts, j.click_position, COUNT(*) AS n FROM judged j GROUP BY {group}"


def _report_sql(group_by: str | None, *, channel: bool) -> str:
    """One statement: the groups' figures ordered by key, then the totals as the row whose key is NULL."""
    judged = f"""WITH judged AS MATERIALIZED (
  SELECT s.id, s.channel, s.created_day, s.click_position, {_FACTS} AS facts
  FROM suggestion_set s
  WHERE {_COUNTED_SETS}{" AND s.channel = :channel" if channel else ""}
)"""
    per_set = _PER_SET.format(key="NULL", group="j.facts, j.click_position")
    if group_by is None:
        return f"{judged}, counted AS ({per_set})\nSELECT NULL AS key, {_FOLD} FROM counted"
    if group_by == "article":
        counted, totals_from = f"counted AS ({_BY_ARTICLE}), per_set AS ({per_set})", "per_set"
    else:
        # Days and channels partition the sets, so the totals are folded from the groups' counts.
        key = _GROUP_KEYS[group_by]
        counted = f"counted AS ({_PER_SET.format(key=key, group=f'{key}, j.facts, j.click_position')})"
        totals_from = "counted"
    return f"""{judged}, {counted}
SELECT key, {_FOLD} FROM counted GROUP BY key
UNION ALL
SELECT NULL, {_FOLD} FROM {totals_from}
ORDER BY key"""


def deflection_report(
    session: Session,
    *,
    period: Period,
    group_by: str | None = None,
    channel: Channel | None = None,
    policy: DeflectionPolicy | None = None,
    now: float | None = None,
) -> DeflectionReport:
    """Totals and groups (by day, channel or article) of the deflection figures over a period."""
    if group_by is not None and group_by not in GROUPINGS:
        raise InvalidPeriodError(f"group_by must be one of {', '.join(GROUPINGS)}")
    policy = policy or DeflectionPolicy()
    params: dict[str, Any] = {
        "start": period.start.timestamp(),
        "end": period.end.timestamp(),
        "window": policy.attribution_window.total_seconds(),
        "now": time.time() if now is None else now,
        "no": False,
    }
    if channel:
        params["channel"] = channel
    totals: DeflectionFigures | None = None
    groups: list[DeflectionGroup] = []
    for row in session.execute(text(_report_sql(group_by, channel=bool(channel))), params):
        figures = _figures(row._mapping)
        if row.key is None:
            totals = DeflectionFigures(**figures)
        else:
            groups.append(DeflectionGroup(key=row.key, **figures))
    assert totals is not None, "the statement's last row holds the totals"
    return DeflectionReport(
        from_=period.start,
        to=period.end,
        group_by=group_by,
        window_hours=policy.attribution_window / dt.timedelta(hours=1),
        recontact_days=policy.recontact_horizon / dt.timedelta(days=1),
        totals=totals,
        groups=groups,
    )


def _figures(row: RowMapping) -> dict[str, Any]:
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
