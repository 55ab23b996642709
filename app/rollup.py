"""The deflection rollup: per suggestion set, what followed it within the attribution window W.

Kept up to date as events are stored (`apply_event`), so reports scan suggestion sets only. The
rules mirror docs/deflection.md, for each set s of client c and its search intent:
- an action on any set of the intent within W after s counts for s (clicked, explicit, helpful, ...);
- a ticket from c within W after s marks s ticketed (not deflected);
- a ticket from c later than W but within R after s, on a set showing the same first article, marks s recontacted.
Each article s showed keeps its own flags by the same rule: clicked, or voted on, by an event naming it.
W and R apply as events arrive; after changing them, `rebuild` recomputes every flag from the stored events.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import BindParameter, Connection, Integer, Update, bindparam, case, select, text
from sqlmodel import Session

from app.db.models import EVENT_TABLE as _EVENTS
from app.db.models import SUGGESTED_ARTICLE_TABLE as _SHOWN
from app.db.models import SUGGESTION_SET_TABLE as _SETS
from app.reports.deflection import DeflectionPolicy
from app.vocabulary import Action

ACTION_FLAGS = {
    Action.CLICK: {"clicked": True},
    Action.HELPFUL: {"helpful": True, "explicit": True},
    Action.SOLVED: {"explicit": True},
    Action.NOT_HELPFUL: {"not_helpful": True},
    Action.TICKET_SUBMITTED: {"ticketed": True},
}
# What an event naming an article sets on that article's rows (app.events requires the article for these).
ARTICLE_FLAGS = {Action.CLICK: "clicked", Action.HELPFUL: "helpful", Action.NOT_HELPFUL: "not_helpful"}
NO_ARTICLE_FLAGS: Mapping[str, bool] = MappingProxyType(dict.fromkeys(ARTICLE_FLAGS.values(), False))


# Core statements on the table, built once: events arrive one request at a time, and a statement built per
# call costs more to compile-key than its SQL costs to run.
_SINCE: BindParameter[float] = bindparam("since")
_UNTIL: BindParameter[float] = bindparam("until")
_TICKETED = (
    _SETS.update()
    .where(_SETS.c.client_id == bindparam("client"), _SETS.c.created_epoch >= _SINCE, _SETS.c.created_epoch <= _UNTIL)
    .values(ticketed=True)
)
_RECONTACTED = (
    _SETS.update()
    .where(
        _SETS.c.client_id == bindparam("client"),
        _SETS.c.first_article == bindparam("first"),
        _SETS.c.created_epoch >= bindparam("recontact_since"),
        _SETS.c.created_epoch < _SINCE,
    )
    .values(recontacted=True)
)


@cache
def _intent_update(action: Action, with_position: bool) -> Update | None:
    """UPDATE of the flags `action` sets on the sets of an intent within the window (None: it sets none)."""
    flags: dict[str, Any] = dict(ACTION_FLAGS.get(action, {}))
    if not flags:
        return None
    if action == Action.CLICK and with_position:
        # The first article clicked is the one at the lowest position.
        current, position = _SETS.c.click_position, bindparam("position", type_=Integer)
        flags["click_position"] = case((current.is_(None) | (current > position), position), else_=current)
    return _SETS.update().where(_SETS.c.intent_id == bindparam("intent"), _SETS.c.created_epoch >= _SINCE).values(flags)


@cache
def _article_update(action: Action) -> Update:
    """UPDATE of an article's flag on the sets of an intent within the window that showed it."""
    sets = select(_SETS.c.id).where(_SETS.c.intent_id == bindparam("intent"), _SETS.c.created_epoch >= _SINCE)
    return (
        _SHOWN.update()
        .where(_SHOWN.c.article_id == bindparam("article"), _SHOWN.c.query_id.in_(sets.scalar_subquery()))
        .values({ARTICLE_FLAGS[action]: True})
    )


def apply_event(
    session: Session,
    *,
    intent_id: str,
    first_article: str | None,
    client_id: str,
    action: Action,
    ts: float,
    policy: DeflectionPolicy,
    position: int | None = None,
    article_id: str | None = None,
) -> None:
    """Update the flags of every set, and shown article, this event speaks for (in the caller's transaction).

    `intent_id` and `first_article` are those of the event's suggestion set (its own id when it began an intent).
    """
    statement = _intent_update(action, position is not None)
    if statement is None:
        return
    connection = session.connection()
    window, recontact = policy.attribution_window.total_seconds(), policy.recontact_horizon.total_seconds()
    parameters: dict[str, Any] = {"intent": intent_id, "since": ts - window}
    if action == Action.CLICK and position is not None:
        parameters["position"] = position
    connection.execute(statement, parameters)
    if action in ARTICLE_FLAGS and article_id is not None:
        connection.execute(_article_update(action), {"intent": intent_id, "since": ts - window, "article": article_id})
    if action != Action.TICKET_SUBMITTED or not client_id:
        return
    connection.execute(_TICKETED, {"client": client_id, "since": ts - window, "until": ts})
    if first_article is not None:
        connection.execute(
            _RECONTACTED,
            {"client": client_id, "first": first_article, "recontact_since": ts - recontact, "since": ts - window},
        )


_NAMED_IN_INTENT = (
    select(_EVENTS.c.action, _EVENTS.c.article_id)
    .distinct()
    .join(_SETS, _SETS.c.id == _EVENTS.c.query_id)
    .where(_SETS.c.intent_id == bindparam("intent"), _EVENTS.c.action.in_(list(ARTICLE_FLAGS)))
)


def article_flags_of_intent(connection: Connection, intent_id: str) -> dict[str, dict[str, bool]]:
    """The flags a new set of an intent starts with on each article, from the events its earlier sets had."""
    flags: dict[str, dict[str, bool]] = {}
    for action, article_id in connection.execute(_NAMED_IN_INTENT, {"intent": intent_id}):
        flags.setdefault(article_id, dict(NO_ARTICLE_FLAGS))[ARTICLE_FLAGS[action]] = True
    return flags


def _intent_had(*actions: Action) -> str:
    listed = ", ".join(f"'{action}'" for action in actions)
    # Nested EXISTS so that planners go set -> its intent's sets -> their events, never event-by-action first.
    return f"""EXISTS (SELECT 1 FROM suggestion_set m WHERE m.intent_id = suggestion_set.intent_id AND EXISTS (
                 SELECT 1 FROM event e WHERE e.query_id = m.id AND e.action IN ({listed})
                   AND e.ts_epoch <= suggestion_set.created_epoch + :window))"""


def _intent_named(action: Action) -> str:
    # An event naming this row's article, on any set of its set's intent, within W.
    return f"""EXISTS (SELECT 1 FROM suggestion_set s JOIN suggestion_set m ON m.intent_id = s.intent_id
                 JOIN event e ON e.query_id = m.id
               WHERE s.id = suggested_article.query_id AND e.action = '{action}'
                 AND e.article_id = suggested_article.article_id AND e.ts_epoch <= s.created_epoch + :window)"""


_REBUILD = [
    f"""UPDATE suggestion_set SET
         clicked = {_intent_had(Action.CLICK)},
         click_position = (SELECT MIN(e.position) FROM suggestion_set m JOIN event e ON e.query_id = m.id
                           WHERE m.intent_id = suggestion_set.intent_id AND e.action = '{Action.CLICK}'
                             AND e.ts_epoch <= suggestion_set.created_epoch + :window),
         explicit = {_intent_had(Action.SOLVED, Action.HELPFUL)},
         helpful = {_intent_had(Action.HELPFUL)},
         not_helpful = {_intent_had(Action.NOT_HELPFUL)},
         ticketed = {_intent_had(Action.TICKET_SUBMITTED)}
                 OR EXISTS (SELECT 1 FROM event t WHERE t.client_id = suggestion_set.client_id
                              AND t.action = '{Action.TICKET_SUBMITTED}' AND t.ts_epoch >= suggestion_set.created_epoch
                              AND t.ts_epoch <= suggestion_set.created_epoch + :window),
         recontacted = EXISTS (SELECT 1 FROM event t JOIN suggestion_set later ON later.id = t.query_id
                               WHERE t.client_id = suggestion_set.client_id AND t.action = '{Action.TICKET_SUBMITTED}'
                                 AND later.first_article = suggestion_set.first_article
                                 AND t.ts_epoch > suggestion_set.created_epoch + :window
                                 AND t.ts_epoch <= suggestion_set.created_epoch + :recontact)
       WHERE created_epoch >= :since""",
    "UPDATE suggested_article SET "
    + ", ".join(f"{flag} = {_intent_named(action)}" for action, flag in ARTICLE_FLAGS.items())
    + " WHERE query_id IN (SELECT id FROM suggestion_set WHERE created_epoch >= :since)",
]


def rebuild(session: Session, *, policy: DeflectionPolicy, since: float = 0.0) -> None:
    """Recompute every flag from the stored events (after a change of W or R, or a bulk import)."""
    parameters = {
        "window": policy.attribution_window.total_seconds(),
        "recontact": policy.recontact_horizon.total_seconds(),
        "since": since,
    }
    for statement in _REBUILD:
        session.execute(text(statement), parameters)
    session.commit()
