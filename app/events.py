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
from functools import cache
from typing import Any

import sqlalchemy
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import Session, col, select

from app.db.models import EVENT_TABLE as _EVENTS
from app.db.models import SUGGESTED_ARTICLE_TABLE as _SHOWN
from app.db.models import SUGGESTION_SET_TABLE as _SETS
from app.db.models import Event, SuggestedArticle, SuggestionSet, unpacked_vector
from app.privacy import Redactor
from app.reports.deflection import DeflectionPolicy
from app.reports.gaps.live_topics import LiveTopics
from app.rollup import apply_event
from app.vocabulary import Action

ARTICLE_ACTIONS = frozenset({Action.CLICK, Action.HELPFUL, Action.NOT_HELPFUL})
# Actions that make an answered set a failing inquiry after it was recorded (gap signals, docs/deflection.md).
FAILURE_ACTIONS = frozenset({Action.TICKET_SUBMITTED, Action.NOT_HELPFUL})
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
    action: Action
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


@dataclass
class _Shown:
    """What validating an event and rolling it up need of its suggestion set."""

    intent_id: str
    created_epoch: float
    first_article: str | None
    positions: dict[str, int] = field(default_factory=dict)  # article_id -> position


# Core statements on the tables, built once: an ORM statement built per request costs more to compile-key
# than its SQL costs to run. The sets named by a batch, with the articles they showed: one round trip.
_SHOWN_SETS = (
    sqlalchemy.select(
        _SETS.c.id,
        _SETS.c.intent_id,
        _SETS.c.created_epoch,
        _SETS.c.first_article,
        _SHOWN.c.article_id,
        _SHOWN.c.position,
    )
    .outerjoin(_SHOWN, _SHOWN.c.query_id == _SETS.c.id)
    .where(_SETS.c.id.in_(sqlalchemy.bindparam("ids", expanding=True)))
)

# The final sets of an intent that joined no gap topic when recorded (they were answered then).
_UNASSIGNED_OF_INTENT = sqlalchemy.select(_SETS.c.id, _SETS.c.vector).where(
    _SETS.c.intent_id == sqlalchemy.bindparam("intent"),
    _SETS.c.superseded.is_(False),
    _SETS.c.gap_topic_id.is_(None),
    _SETS.c.vector.is_not(None),
)
_JOIN_TOPIC = (
    _SETS.update()
    .where(_SETS.c.id == sqlalchemy.bindparam("set_id"))
    .values(gap_topic_id=sqlalchemy.bindparam("topic"))
)


def record_events(
    session: Session,
    *,
    events: Sequence[EventIn],
    redactor: Redactor,
    title_of: Callable[[str], str | None] = lambda _article_id: None,
    policy: DeflectionPolicy | None = None,
    topics: LiveTopics | None = None,
) -> EventReceipt:
    """Validate the whole batch, then store the events not seen before; returns per-event statuses.

    With `topics`, an intent that a ticket or a "not helpful" vote turns into a failing inquiry joins
    the nearest live gap topic now, as a failing question does when it is asked.
    """
    if not events:
        return EventReceipt()
    policy = policy or DeflectionPolicy()
    sets: dict[str, _Shown] = {}
    for query_id, intent_id, created, first, article_id, position in session.connection().execute(
        _SHOWN_SETS, {"ids": sorted({e.query_id for e in events})}
    ):
        shown = sets.setdefault(query_id, _Shown(intent_id or query_id, created, first))
        if article_id is not None:
            shown.positions[article_id] = position
    unknown = {i: f"unknown query_id {e.query_id!r}" for i, e in enumerate(events) if e.query_id not in sets}
    if unknown:
        raise UnknownQueryError("events name a query_id that was never issued", unknown)
    invalid = {i: reason for i, e in enumerate(events) if (reason := _contradiction(e, sets[e.query_id].positions))}
    if invalid:
        raise InvalidEventError("events contradict their suggestion sets", invalid)

    now = time.time()
    received = dt.datetime.now(dt.UTC)
    keys = [idempotency_key_for(e) for e in events]
    rows: dict[str, dict[str, Any]] = {}
    for event, key in zip(events, keys, strict=True):
        if key not in rows:  # the same key twice in one batch: the second is a duplicate
            rows[key] = {
                "query_id": event.query_id,
                "client_id": redactor.client_id(event.client_id) or "",
                "action": event.action,
                "article_id": event.article_id,
                "position": event.position,
                "ts_epoch": _event_time(event.ts, created=sets[event.query_id].created_epoch, now=now),
                "received_at": received,
                "idempotency_key": key,
            }
    stored = _insert_new(session, list(rows.values()))
    receipt = EventReceipt()
    for event, key in zip(events, keys, strict=True):
        if key not in stored:
            receipt.statuses.append("duplicate")
            continue
        stored.discard(key)
        row = rows[key]
        shown = sets[event.query_id]
        apply_event(
            session,
            position=event.position,
            article_id=event.article_id,
            intent_id=shown.intent_id,
            first_article=shown.first_article,
            client_id=row["client_id"],
            action=event.action,
            ts=row["ts_epoch"],
            policy=policy,
        )
        receipt.statuses.append("accepted")
    if topics is not None:
        failed = {
            sets[event.query_id].intent_id
            for event, status in zip(events, receipt.statuses, strict=True)
            if status == "accepted" and event.action in FAILURE_ACTIONS
        }
        _join_live_topics(session, intents=failed, topics=topics)
    session.commit()
    ticket = next((e for e in events if e.action == Action.TICKET_SUBMITTED), None)
    if ticket is not None:
        receipt.handoff = handoff_summary(session, query_id=ticket.query_id, title_of=title_of)
    return receipt


def _join_live_topics(session: Session, *, intents: set[str], topics: LiveTopics) -> None:
    connection = session.connection()
    for intent in sorted(intents):
        for set_id, vector in connection.execute(_UNASSIGNED_OF_INTENT, {"intent": intent}).all():
            topic = topics.assign(unpacked_vector(vector))
            if topic is not None:
                connection.execute(_JOIN_TOPIC, {"set_id": set_id, "topic": topic})


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the events whose idempotency key is new; returns those keys.

    ON CONFLICT DO NOTHING makes the check and the insert one statement, so a concurrent retry of the
    same batch waits for the first and then finds its events stored, instead of failing.
    """
    connection = session.connection()
    return {key for (key,) in connection.execute(_insert_new_events(connection.dialect.name), rows)}


@cache
def _insert_new_events(dialect_name: str) -> ReturningInsert[str]:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: ReturningInsert[str] = (
        dialect.insert(_EVENTS)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(_EVENTS.c.idempotency_key)
    )
    return statement


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
    clicked = list(dict.fromkeys(a for action, a in acted if action == Action.CLICK and a))
    helpful = list(dict.fromkeys(a for action, a in acted if action in (Action.HELPFUL, Action.SOLVED) and a))

    def names(ids: list[str]) -> str:
        return "; ".join(title_of(i) or i for i in ids) or "none"

    text = (
        f"Searched help center for: {final.text or '(not kept)'}\n"
        f"Shown: {names(shown)}\nOpened: {names(clicked)}\nMarked helpful: {names(helpful)}"
    )
    return Handoff(query_id=final.id, question=final.text, shown=shown, clicked=clicked, helpful=helpful, text=text)
