"""Retention: raw question text and query vectors are purged after the retention period; aggregates stay."""

from __future__ import annotations

import time

from sqlalchemy import update
from sqlmodel import Session, col

from app.models import SuggestionSet


def purge_expired_questions(session: Session, *, retention_days: float, now: float | None = None) -> int:
    """Blank the text and vector of suggestion sets older than the retention period; returns how many."""
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    result = session.execute(
        update(SuggestionSet)
        .where(
            col(SuggestionSet.created_epoch) < cutoff,
            col(SuggestionSet.text).is_not(None) | col(SuggestionSet.vector).is_not(None),
        )
        .values(text=None, vector=None)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
