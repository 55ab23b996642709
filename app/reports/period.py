"""A report's period, [start, end) in UTC, and the errors of reports.

Errors: `ReportError` is the base of every report's errors; `InvalidPeriodError` is a period that cannot be reported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)


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
