"""Events: what customers did after a suggestion set. Idempotent, validated as a whole batch.

Errors: `EventError` is the base; `UnknownQueryError` (a query_id never issued) and
`InvalidEventError` (an event that contradicts its suggestion set) carry per-event reasons.
A batch with any bad event is refused whole, so a batch is never half-applied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.models import Event, SuggestedArticle, SuggestionSet
from app.privacy import pseudonymous_client_id
from app.rollup import apply_event

ACTIONS = ("impression", "click", "helpful", "not_helpful", "solved", "ticket_submitted", "form_abandoned")
ARTICLE_ACTIONS = ("click", "helpful", "not_helpful")
# Client clocks drift: a timestamp ahead of the server by more than this is taken as "now".
MAX_CLOCK_SKEW_SECONDS = 300


class EventError(Exception):
    """Base of event errors; `problems` maps batch positions to reasons."""

    def __init__(self, message: str, problems: dict[int, str]) -> None:
        super().__init__(message)
        self.problems = problems


class UnknownQueryError(EventError):
    """An event names a query_id that was never issued."""


class InvalidEventError(EventError):
    """An event contradicts its suggestion set (an article that was not shown, a position off the list)."""


@dataclass(frozen=True)
class EventIn:
    query_id: str
    client_id: str
    action: str
    article_id: str | None = None
    position: int | None = None
    idempotency_key: str | None = None
    ts: dt.datetime | None = None


@dataclass(frozen=True)
class Handoff:
    """What the customer already tried, for the agent who gets their ticket."""

    query_id: str
    question: str | None
    shown: list[str]
    clicked: list[str]
    helpful: list[str]
    text: str


@dataclass
class EventReceipt:
    statuses: list[str] = field(default_factory=list)  # "accepted" or "duplicate", per batch position
    handoff: Handoff | None = None

    @property
    def accepted(self) -> int:
        return self.statuses.count("accepted")


def idempotency_key_for(event: EventIn) -> str:
    """The client's key, or one derived from what the event says (the same report twice counts once)."""
    if event.idempotency_key:
        return event.idempotency_key
    raw = "|".join([event.query_id, event.client_id, event.action, event.article_id or "", str(event.position or "")])
    return "derived:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def record_events(
    session: Session,
    *,
    events: Sequence[EventIn],
    title_of: Callable[[str], str | None] = lambda _article_id: None,
    window_seconds: float = 24 * 3600,
    recontact_seconds: float = 7 * 86400,
) -> EventReceipt:
    """Validate the whole batch, then store the events not seen before; returns per-event statuses."""
    query_ids = {event.query_id for event in events}
    sets = {s.id: s for s in session.exec(select(SuggestionSet).where(col(SuggestionSet.id).in_(query_ids)))}
    shown: dict[str, dict[str, int]] = {}
    for row in session.exec(select(SuggestedArticle).where(col(SuggestedArticle.query_id).in_(query_ids))):
        shown.setdefault(row.query_id, {})[row.article_id] = row.position
    unknown = {i: f"unknown query_id {e.query_id!r}" for i, e in enumerate(events) if e.query_id not in sets}
    if unknown:
        raise UnknownQueryError("events name a query_id that was never issued", unknown)
    invalid = {i: reason for i, e in enumerate(events) if (reason := _contradiction(e, shown.get(e.query_id, {})))}
    if invalid:
        raise InvalidEventError("events contradict their suggestion sets", invalid)

    keys = [idempotency_key_for(e) for e in events]
    seen = set(session.exec(select(Event.idempotency_key).where(col(Event.idempotency_key).in_(keys))))
    receipt = EventReceipt()
    now = time.time()
    for event, key in zip(events, keys, strict=True):
        if key in seen:
            receipt.statuses.append("duplicate")
            continue
        seen.add(key)
        suggestion_set = sets[event.query_id]
        client_id = pseudonymous_client_id(event.client_id) or ""
        ts = _event_time(event.ts, created=suggestion_set.created_epoch, now=now)
        session.add(
            Event(
                query_id=event.query_id,
                client_id=client_id,
                action=event.action,
                article_id=event.article_id,
                position=event.position,
                ts_epoch=ts,
                idempotency_key=key,
            )
        )
        apply_event(
            session,
            position=event.position,
            suggestion_set=suggestion_set,
            client_id=client_id,
            action=event.action,
            ts=ts,
            window=window_seconds,
            recontact=recontact_seconds,
        )
        receipt.statuses.append("accepted")
    try:
        session.commit()
    except IntegrityError:
        # A concurrent retry of the same batch won the race: everything it stored is a duplicate here.
        session.rollback()
        return record_events(
            session,
            events=events,
            title_of=title_of,
            window_seconds=window_seconds,
            recontact_seconds=recontact_seconds,
        )
    ticket = next((e for e in events if e.action == "ticket_submitted"), None)
    if ticket is not None:
        receipt.handoff = handoff_summary(session, query_id=ticket.query_id, title_of=title_of)
    return receipt


def _contradiction(event: EventIn, shown: dict[str, int]) -> str | None:
    if event.action in ARTICLE_ACTIONS and event.article_id is None:
        return f"{event.action} needs an article_id"
    if event.article_id is not None and event.article_id not in shown:
        return f"article {event.article_id!r} was not shown in suggestion set {event.query_id}"
    if event.article_id is not None and event.position is not None and shown[event.article_id] != event.position:
        return f"article {event.article_id!r} was shown at position {shown[event.article_id]}, not {event.position}"
    return None


def _event_time(ts: dt.datetime | None, *, created: float, now: float) -> float:
    if ts is None:
        return now
    moment = (ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)).timestamp()
    # Nothing happens before the suggestion it reacts to, or in the future.
    return min(max(moment, created), now + MAX_CLOCK_SKEW_SECONDS)


def handoff_summary(session: Session, *, query_id: str, title_of: Callable[[str], str | None]) -> Handoff:
    """Question, what was shown and what was clicked, over the whole search intent of query_id."""
    suggestion_set = session.get(SuggestionSet, query_id)
    assert suggestion_set is not None
    intent = suggestion_set.intent_id or suggestion_set.id
    final = (
        session.exec(
            select(SuggestionSet)
            .where(SuggestionSet.intent_id == intent)
            .order_by(col(SuggestionSet.created_epoch).desc())
            .limit(1)
        ).first()
        or suggestion_set
    )
    shown = list(
        session.exec(
            select(SuggestedArticle.article_id)
            .where(SuggestedArticle.query_id == final.id)
            .order_by(col(SuggestedArticle.position))
        )
    )
    intent_sets = select(SuggestionSet.id).where(SuggestionSet.intent_id == intent)
    acted = session.exec(
        select(Event.action, Event.article_id).where(
            col(Event.query_id).in_(intent_sets.union(select(SuggestionSet.id).where(SuggestionSet.id == query_id)))
        )
    ).all()
    clicked = list(dict.fromkeys(a for action, a in acted if action == "click" and a))
    helpful = list(dict.fromkeys(a for action, a in acted if action in ("helpful", "solved") and a))

    def names(ids: list[str]) -> str:
        return "; ".join(title_of(i) or i for i in ids) or "none"

    text = (
        f"Searched help center for: {final.text or '(not kept)'}\n"
        f"Shown: {names(shown)}\nOpened: {names(clicked)}\nMarked helpful: {names(helpful)}"
    )
    return Handoff(query_id=final.id, question=final.text, shown=shown, clicked=clicked, helpful=helpful, text=text)
