"""Events: what customers did after seeing suggestions."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import DeflectionPolicyDep, LiveIndexDep, LiveTopicsDep, PublicAccess, SessionDep, SuggesterDep
from app.api.metrics import EVENTS
from app.api.schemas import EventBatch, EventBody, EventResult, EventsResponse, HandoffPublic
from app.db.engine import retrying_lock_conflicts
from app.events import EventIn, record_events

router = APIRouter(prefix="/v1", tags=["events"], dependencies=[PublicAccess])


@router.post("/events", response_model=EventsResponse)
def create_events(
    body: EventBody | EventBatch,
    session: SessionDep,
    live_index: LiveIndexDep,
    live_topics: LiveTopicsDep,
    policy: DeflectionPolicyDep,
    suggester: SuggesterDep,
) -> EventsResponse:
    """Report one event or a batch against suggestion sets' `query_id`s.

    A batch is all or nothing: an unknown `query_id` is a 404 and an event that contradicts its
    suggestion set (an article it did not show) a 422, each listing the offending positions, and
    nothing of that batch is stored. Events are idempotent on `idempotency_key`. A `ticket_submitted`
    event returns a hand-off summary for the ticket: the question, what was shown and clicked.
    A ticket or a `not_helpful` vote on an answered question files it under the nearest live gap topic.
    """
    events = body if isinstance(body, list) else [body]
    current = live_index.current

    def title_of(article_id: str) -> str | None:
        article = current.build.articles.get(article_id) if current else None
        return article.title if article else None

    receipt = retrying_lock_conflicts(
        session,
        lambda: record_events(
            session,
            events=[EventIn(**event.model_dump()) for event in events],
            redactor=suggester.redactor,  # client ids are stored as the suggestion sets store them
            title_of=title_of,
            policy=policy,
            topics=live_topics,
        ),
    )
    for event, status in zip(events, receipt.statuses, strict=True):
        if status == "accepted":
            EVENTS.labels(event.action).inc()
    handoff = receipt.handoff
    return EventsResponse(
        accepted=receipt.accepted,
        duplicates=len(receipt.statuses) - receipt.accepted,
        results=[EventResult(index=i, status=status) for i, status in enumerate(receipt.statuses)],
        handoff=HandoffPublic(**handoff.__dict__) if handoff else None,
    )
