"""Retention: raw question and ticket text and their vectors are purged after the retention period; aggregates stay."""

from __future__ import annotations

import time

from sqlalchemy import or_, update
from sqlmodel import Session, col

from app.db.models import HelpdeskTicket, SuggestionSet


def purge_expired_questions(session: Session, *, retention_days: float, now: float | None = None) -> int:
    """Blank the text and vector of suggestion sets older than the retention period; returns how many."""
    return _blank_expired(session, SuggestionSet, ["text", "vector"], retention_days=retention_days, now=now)


def purge_expired_tickets(session: Session, *, retention_days: float, now: float | None = None) -> int:
    """Blank the subject, body and vector of imported tickets written before the retention period; returns how many."""
    return _blank_expired(
        session, HelpdeskTicket, ["subject", "body", "vector"], retention_days=retention_days, now=now
    )


def _blank_expired(
    session: Session,
    model: type[SuggestionSet] | type[HelpdeskTicket],
    columns: list[str],
    *,
    retention_days: float,
    now: float | None,
) -> int:
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    still_held = or_(*(getattr(model, name).is_not(None) for name in columns))
    result = session.execute(
        update(model).where(col(model.created_epoch) < cutoff, still_held).values(dict.fromkeys(columns))
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
