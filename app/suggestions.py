"""Suggest: search, label, and record the suggestion set. Plain Python; the router is a thin edge.

Errors: `SuggestError` is the base; `InvalidQueryError` (the question cannot be searched) and
`IndexUnavailableError` (no index is loaded) are the ones callers see.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy
from sqlalchemy import Row, bindparam
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.db.engine import retrying_lock_conflicts
from app.db.models import SUGGESTED_ARTICLE_TABLE as _SHOWN
from app.db.models import SUGGESTION_SET_TABLE as _SETS
from app.db.models import packed_vector
from app.privacy import Redactor
from app.reports.gaps.live_topics import LiveTopics
from app.rollup import NO_ARTICLE_FLAGS, article_flags_of_intent
from indexer.analysis import normalize
from indexer.embedders import Embedder
from retrieval.calibration import Calibration
from retrieval.display import shown_set
from retrieval.search import SearchFilters, SearchHit, SearchIndex, search_articles
from retrieval.vocabulary import Channel, Label

logger = logging.getLogger("deflect.suggest")
# Results in a suggestion set unless the caller asks for another number, and the most it may ask for.
DEFAULT_LIMIT, MAX_LIMIT = 5, 20
# What later keystrokes of a search intent inherit from its earlier sets (a click, say).
INHERITED_FLAGS = ("clicked", "explicit", "helpful", "not_helpful", "ticketed", "recontacted")


class SuggestError(Exception):
    """Base of suggest errors."""


class InvalidQueryError(SuggestError):
    """The question cannot be searched (empty, too long, unknown locale)."""


class IndexUnavailableError(SuggestError):
    """No index is loaded, so nothing can be suggested."""


@dataclass(frozen=True)
class SuggestRequest:
    text: str
    channel: Channel = Channel.API
    locale: str | None = None
    client_id: str | None = None
    limit: int = DEFAULT_LIMIT
    filters: SearchFilters = SearchFilters()
    composing: bool = False
    confident_only: bool = False


@dataclass(frozen=True)
class SuggestionResult:
    query_id: str
    label: Label
    confidence: float
    hits: list[tuple[SearchHit, Label]]  # each hit with its own label
    recorded: bool = True  # False when the database was down: answered, but events against it will 404


@dataclass(frozen=True)
class SuggestPolicy:
    locales: tuple[str, ...]
    min_query_chars: int
    max_query_chars: int
    thresholds: dict[str, tuple[float, float]]  # locale -> (answered, low_confidence); "default" too
    intent_window_seconds: float = 10.0

    def thresholds_for(self, locale: str | None) -> tuple[float, float]:
        return self.thresholds.get(locale or "default") or self.thresholds["default"]


def check_query(text: str, *, policy: SuggestPolicy) -> str:
    """The normalised question, or InvalidQueryError saying what is wrong with it."""
    if len(text) > policy.max_query_chars:
        raise InvalidQueryError(f"text is longer than {policy.max_query_chars} characters")
    normalised = normalize(text)
    if not normalised:
        raise InvalidQueryError("text is empty")
    if "\x00" in normalised:
        raise InvalidQueryError("text contains a NUL character")
    if "\ufffd" in normalised:
        # What a decoder leaves of bytes that were not UTF-8 (a GET query string is decoded leniently).
        raise InvalidQueryError("text is not valid UTF-8 (it holds U+FFFD replacement characters)")
    return normalised


def resolve_locale(locale: str | None, locales: tuple[str, ...]) -> str | None:
    """The help center's locale that `locale` names: itself in any case, or its language (ja-JP is ja).

    Pages and browsers write language tags with regions and capitals (BCP 47 tags are case-insensitive).
    """
    if locale is None:
        return None
    tag = locale.strip().lower().replace("_", "-")
    for candidate in (tag, tag.split("-")[0]):
        if candidate in locales:
            return candidate
    raise InvalidQueryError(f"locale {locale!r} is not one of {', '.join(locales)}")


@dataclass(frozen=True)
class Suggester:
    """What answering a question needs besides the question: made once at start-up."""

    embedder: Embedder
    calibration: Calibration
    redactor: Redactor
    policy: SuggestPolicy
    topics: LiveTopics | None = None  # the live gap topics that a failing set joins as it is recorded


def suggest(
    session: Session, *, index: SearchIndex | None, suggester: Suggester, request: SuggestRequest
) -> SuggestionResult:
    """Search for the question, label the outcome, and store the suggestion set (redacted)."""
    policy = suggester.policy
    text = check_query(request.text, policy=policy)
    request = replace(request, locale=resolve_locale(request.locale, policy.locales))
    if index is None:
        raise IndexUnavailableError("no search index is loaded")
    thresholds = policy.thresholds_for(request.locale)
    hits: list[tuple[SearchHit, Label]] = []
    label, confidence = Label.NO_ANSWER, 0.0
    vector: bytes | None = None
    query_vector = None
    if len(text) >= policy.min_query_chars:
        outcome = search_articles(
            index,
            embedder=suggester.embedder,
            calibration=suggester.calibration,
            text=text,
            locale=request.locale,
            filters=request.filters,
            limit=request.limit,
        )
        if outcome.query_vector is not None and not request.composing:
            query_vector = outcome.query_vector
            vector = packed_vector(query_vector)
        shown = shown_set(
            outcome.hits, channel=request.channel, thresholds=thresholds, confident_only=request.confident_only
        )
        label, confidence, hits = shown.label, shown.confidence, shown.hits
    # In memory, no database read: a few hundred centroids at most (app/reports/gaps/live_topics.py).
    gap_topic_id = (
        suggester.topics.assign(query_vector)
        if suggester.topics is not None and query_vector is not None and label != Label.ANSWERED
        else None
    )
    query_id = uuid.uuid4().hex
    try:
        retrying_lock_conflicts(
            session,
            lambda: _record(
                session,
                query_id=query_id,
                request=request,
                redactor=suggester.redactor,
                policy=policy,
                label=label,
                confidence=confidence,
                hits=hits,
                build_id=index.build_id,
                vector=vector,
                gap_topic_id=gap_topic_id,
            ),
        )
    except SQLAlchemyError:
        # Customers still get answers while the database is down; the set is simply not recorded.
        session.rollback()
        logger.exception("suggestion set %s not recorded: database error", query_id)
        return SuggestionResult(query_id=query_id, label=label, confidence=confidence, hits=hits, recorded=False)
    return SuggestionResult(query_id=query_id, label=label, confidence=confidence, hits=hits)


def is_edit_chain(previous: str, current: str) -> bool:
    """Whether current is the previous text typed on (or corrected by a few backspaces)."""
    shared = 0
    for a, b in zip(previous, current, strict=False):
        if a != b:
            break
        shared += 1
    return shared >= max(1, min(len(previous), len(current)) - 3)


# Core statements on the tables, built once: this runs on every keystroke, and an ORM statement built per
# call costs more to compile-key and to pass through the unit of work than its SQL costs to run.
_INSERT_SET = _SETS.insert()
_INSERT_SHOWN = _SHOWN.insert()
# The client's latest set on the channel: the columns an intent carries over, not the row (it holds a vector).
_LATEST_OF_CLIENT = (
    sqlalchemy.select(
        _SETS.c.id,
        _SETS.c.intent_id,
        _SETS.c.text,
        _SETS.c.click_position,
        *(_SETS.c[flag] for flag in INHERITED_FLAGS),
    )
    .where(
        _SETS.c.client_id == bindparam("client_id"),
        _SETS.c.channel == bindparam("channel"),
        _SETS.c.composing.is_(False),
        _SETS.c.superseded.is_(False),
        _SETS.c.created_epoch >= bindparam("since"),
    )
    .order_by(_SETS.c.created_epoch.desc())
    .limit(1)
)
_SUPERSEDE = _SETS.update().where(_SETS.c.id == bindparam("set_id")).values(superseded=True)


def _continue_search_intent(
    connection: sqlalchemy.Connection, *, client_id: str, channel: str, text: str, now: float, window: float
) -> Row[Any] | None:
    """The set this keystroke continues (now marked superseded), or None when it starts a new intent.

    As-you-type calls from one client on one edit chain are one search intent: only its last query counts.
    """
    previous = connection.execute(
        _LATEST_OF_CLIENT, {"client_id": client_id, "channel": channel, "since": now - window}
    ).first()
    if previous is None or previous.text is None or not is_edit_chain(previous.text, text):
        return None
    connection.execute(_SUPERSEDE, {"set_id": previous.id})
    return previous


def _record(
    session: Session,
    *,
    query_id: str,
    request: SuggestRequest,
    redactor: Redactor,
    policy: SuggestPolicy,
    label: str,
    confidence: float,
    hits: list[tuple[SearchHit, Label]],
    build_id: str,
    vector: bytes | None,
    gap_topic_id: str | None = None,
) -> None:
    now = time.time()
    client_id = redactor.client_id(request.client_id)
    # Stored as typed (whitespace collapsed), not case-folded: report examples should read naturally.
    stored_text = redactor.redact(" ".join(request.text.split()))
    intent_id = query_id
    connection = session.connection()
    # What already followed earlier keystrokes of this intent (a click, say) carries over to this set.
    inherited = dict.fromkeys(INHERITED_FLAGS, False)
    click_position: int | None = None
    article_flags: dict[str, dict[str, bool]] = {}
    if client_id is not None and not request.composing:
        previous = _continue_search_intent(
            connection,
            client_id=client_id,
            channel=request.channel,
            text=stored_text,
            now=now,
            window=policy.intent_window_seconds,
        )
        if previous is not None:
            intent_id = previous.intent_id or previous.id
            inherited = {flag: bool(getattr(previous, flag)) for flag in inherited}
            click_position = previous.click_position  # the intent's first click so far, as a rebuild finds it
            if inherited["clicked"] or inherited["helpful"] or inherited["not_helpful"]:
                article_flags = article_flags_of_intent(connection, intent_id)
    created = dt.datetime.fromtimestamp(now, dt.UTC)
    connection.execute(
        _INSERT_SET,
        {
            "id": query_id,
            "created_at": created,
            "created_epoch": now,
            "created_day": created.strftime("%Y-%m-%d"),
            "channel": request.channel,
            "locale": request.locale,
            "client_id": client_id,
            "text": stored_text,
            "label": label,
            "confidence": confidence,
            "result_count": len(hits),
            "index_build": build_id,
            "composing": request.composing,
            "intent_id": intent_id,
            "superseded": False,
            "vector": vector,
            "gap_topic_id": gap_topic_id,
            "first_article": hits[0][0].article.id if hits else None,
            "click_position": click_position,
            **inherited,
        },
    )
    if hits:
        connection.execute(
            _INSERT_SHOWN,
            [
                {
                    "query_id": query_id,
                    "position": position,
                    "article_id": hit.article.id,
                    "score": hit.score,
                    "confidence": hit.confidence,
                    "fallback": hit.fallback,
                    **article_flags.get(hit.article.id, NO_ARTICLE_FLAGS),
                }
                for position, (hit, _) in enumerate(hits, start=1)
            ],
        )
    session.commit()
