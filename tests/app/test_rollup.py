"""The deflection rollup (app/rollup.py): the sets and shown articles an event speaks for, as it arrives or rebuilt."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.db.models import Event, SuggestedArticle, SuggestionSet
from app.reports.deflection import DeflectionPolicy
from app.rollup import apply_event, article_flags_of_intent, rebuild
from app.vocabulary import Action

HOUR = 3600.0
T0 = 1_800_000_000.0  # when the first set of each test was shown
POLICY = DeflectionPolicy(attribution_window=dt.timedelta(hours=24), recontact_horizon=dt.timedelta(days=7))
FLAGS = ("clicked", "explicit", "helpful", "not_helpful", "ticketed", "recontacted")


def _shown(
    session: Session,
    set_id: str,
    *,
    at: float = T0,
    intent: str | None = None,
    client: str = "c1",
    articles: tuple[str, ...] = ("a", "b"),
) -> None:
    """A suggestion set that showed `articles`, in that order (the first is the set's topic)."""
    session.add(
        SuggestionSet(
            id=set_id,
            channel="form",
            client_id=client,
            label="answered",
            confidence=0.9,
            result_count=len(articles),
            index_build="b",
            created_epoch=at,
            created_day=dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d"),
            intent_id=intent or set_id,
            first_article=articles[0] if articles else None,
        )
    )
    session.flush()
    for position, article in enumerate(articles, start=1):
        session.add(SuggestedArticle(query_id=set_id, position=position, article_id=article, score=0.5, confidence=0.5))
    session.commit()


def _event(
    session: Session,
    set_id: str,
    action: Action,
    *,
    at: float,
    client: str = "c1",
    article: str | None = None,
    position: int | None = None,
) -> None:
    """Store the event, as app.events does, and roll it up."""
    shown = session.get(SuggestionSet, set_id)
    assert shown is not None
    session.add(
        Event(
            query_id=set_id,
            client_id=client,
            action=action,
            article_id=article,
            position=position,
            ts_epoch=at,
            idempotency_key=f"{set_id}:{action}:{at}:{article}",
        )
    )
    apply_event(
        session,
        intent_id=shown.intent_id,
        first_article=shown.first_article,
        client_id=client,
        action=action,
        ts=at,
        policy=POLICY,
        position=position,
        article_id=article,
    )
    session.commit()


def _flags(session: Session, set_id: str) -> set[str]:
    session.expire_all()
    shown = session.get(SuggestionSet, set_id)
    assert shown is not None
    return {flag for flag in FLAGS if getattr(shown, flag)}


def _article_flags(session: Session, set_id: str) -> dict[str, set[str]]:
    session.expire_all()
    rows = session.exec(select(SuggestedArticle).where(SuggestedArticle.query_id == set_id))
    return {row.article_id: {f for f in ("clicked", "helpful", "not_helpful") if getattr(row, f)} for row in rows}


def test_a_click_within_the_window_counts_for_every_set_of_the_intent_and_the_lowest_position_wins(
    session: Session,
) -> None:
    _shown(session, "s1")
    _shown(session, "s2", at=T0 + 5, intent="s1")  # a later keystroke of the same search
    _shown(session, "other", at=T0 + 6, client="c2")
    _event(session, "s1", Action.CLICK, at=T0 + 60, article="b", position=2)
    _event(session, "s2", Action.CLICK, at=T0 + 90, article="a", position=1)

    assert _flags(session, "s1") == _flags(session, "s2") == {"clicked"}
    assert _flags(session, "other") == set()
    positions = session.exec(select(SuggestionSet.click_position).order_by(col(SuggestionSet.id))).all()
    assert positions == [None, 1, 1]  # other, s1, s2


def test_an_event_after_the_attribution_window_counts_for_nothing(session: Session) -> None:
    _shown(session, "s1")
    _event(session, "s1", Action.HELPFUL, at=T0 + 25 * HOUR, article="a")
    assert _flags(session, "s1") == set()
    assert _article_flags(session, "s1") == {"a": set(), "b": set()}


def test_helpful_is_explicit_and_marks_only_the_article_it_names(session: Session) -> None:
    _shown(session, "s1")
    _event(session, "s1", Action.HELPFUL, at=T0 + HOUR, article="b")
    _event(session, "s1", Action.NOT_HELPFUL, at=T0 + HOUR, article="a")
    assert _flags(session, "s1") == {"explicit", "helpful", "not_helpful"}
    assert _article_flags(session, "s1") == {"a": {"not_helpful"}, "b": {"helpful"}}


def test_an_impression_or_an_abandoned_form_changes_nothing(session: Session) -> None:
    _shown(session, "s1")
    _event(session, "s1", Action.IMPRESSION, at=T0 + 1)
    _event(session, "s1", Action.FORM_ABANDONED, at=T0 + 2)
    assert _flags(session, "s1") == set()


def test_a_ticket_marks_every_set_of_the_client_within_the_window_before_it(session: Session) -> None:
    _shown(session, "earlier", at=T0)
    _shown(session, "asked", at=T0 + HOUR, articles=("c",))  # another intent of the same client
    _shown(session, "long-ago", at=T0 - 30 * HOUR, articles=("x",))
    _shown(session, "someone-else", at=T0, client="c2")
    _event(session, "asked", Action.TICKET_SUBMITTED, at=T0 + 2 * HOUR)

    assert _flags(session, "earlier") == _flags(session, "asked") == {"ticketed"}
    assert _flags(session, "long-ago") == set()
    assert _flags(session, "someone-else") == set()


def test_a_ticket_after_the_window_but_within_the_horizon_undoes_the_sets_on_the_same_topic(session: Session) -> None:
    _shown(session, "solved", at=T0, articles=("a", "b"))
    _shown(session, "other-topic", at=T0, articles=("x",))
    _event(session, "solved", Action.SOLVED, at=T0 + 60)
    _shown(session, "back", at=T0 + 3 * 24 * HOUR, articles=("a",))  # three days later, the same first article
    _event(session, "back", Action.TICKET_SUBMITTED, at=T0 + 3 * 24 * HOUR + 60)

    assert _flags(session, "solved") == {"explicit", "recontacted"}
    assert _flags(session, "other-topic") == set()
    assert _flags(session, "back") == {"ticketed"}


def test_a_ticket_beyond_the_recontact_horizon_leaves_a_deflection_alone(session: Session) -> None:
    _shown(session, "solved", at=T0)
    _event(session, "solved", Action.SOLVED, at=T0 + 60)
    _shown(session, "back", at=T0 + 8 * 24 * HOUR)
    _event(session, "back", Action.TICKET_SUBMITTED, at=T0 + 8 * 24 * HOUR + 60)
    assert _flags(session, "solved") == {"explicit"}
    rebuild(session, policy=POLICY)
    assert _flags(session, "solved") == {"explicit"}


def test_a_new_keystroke_starts_with_what_its_intent_already_did_with_each_article(session: Session) -> None:
    _shown(session, "s1")
    _event(session, "s1", Action.CLICK, at=T0 + 10, article="b", position=2)
    _event(session, "s1", Action.NOT_HELPFUL, at=T0 + 20, article="a")
    flags = article_flags_of_intent(session.connection(), "s1")
    assert flags == {
        "a": {"clicked": False, "helpful": False, "not_helpful": True},
        "b": {"clicked": True, "helpful": False, "not_helpful": False},
    }
    assert article_flags_of_intent(session.connection(), "no-such-intent") == {}


def test_rebuilding_from_the_stored_events_gives_the_flags_the_events_set_as_they_arrived(session: Session) -> None:
    _shown(session, "s1")
    _shown(session, "s2", at=T0 + 5, intent="s1")
    _shown(session, "solved", at=T0 + HOUR, articles=("c",))
    _event(session, "s1", Action.CLICK, at=T0 + 60, article="b", position=2)
    _event(session, "s2", Action.NOT_HELPFUL, at=T0 + 70, article="a")
    _event(session, "solved", Action.SOLVED, at=T0 + 2 * HOUR)
    _shown(session, "back", at=T0 + 2 * 24 * HOUR, articles=("c",))
    _event(session, "back", Action.TICKET_SUBMITTED, at=T0 + 2 * 24 * HOUR + 60)
    ids = ["s1", "s2", "solved", "back"]
    as_arrived = {i: (_flags(session, i), _article_flags(session, i)) for i in ids}

    session.execute(update(SuggestionSet).values(dict.fromkeys(FLAGS, False) | {"click_position": None}))
    session.execute(update(SuggestedArticle).values(clicked=False, helpful=False, not_helpful=False))
    session.commit()
    assert all(_flags(session, i) == set() for i in ids)
    rebuild(session, policy=POLICY)

    assert {i: (_flags(session, i), _article_flags(session, i)) for i in ids} == as_arrived
    assert as_arrived["solved"][0] == {"explicit", "recontacted"}  # the case worth rebuilding is there


def test_rebuilding_with_a_shorter_window_drops_what_fell_outside_it(session: Session) -> None:
    _shown(session, "s1")
    _event(session, "s1", Action.CLICK, at=T0 + 2 * HOUR, article="a", position=1)
    assert _flags(session, "s1") == {"clicked"}
    rebuild(session, policy=DeflectionPolicy(attribution_window=dt.timedelta(hours=1)))
    assert _flags(session, "s1") == set()
    assert _article_flags(session, "s1") == {"a": set(), "b": set()}
