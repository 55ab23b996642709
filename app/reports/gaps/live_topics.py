"""Gap topics between report recomputes: stable ids, saved centroids, and write-time assignment.

When a gap report whose period reaches the present is computed, its topics become the live topic
set (tables `gap_topic_set`, `gap_topic`), each with its centroid. A recomputed topic keeps the id of
the previous live topic whose centroid is closest (at least `topic_id_similarity`, one to one), so a
topic id survives recomputes while its members change; only the newest set is kept.

Each process holds the live centroids in memory (`LiveTopics`: swapped whole when this process
computes a report, polled otherwise). A failing suggestion set (no result or low confidence) and an
imported helpdesk ticket join, at write time, the nearest live topic whose centroid is at least as
close as the clustering's topic threshold, projected into the topic space the report clustered in
(retrieval/topic_space.py; the set keeps it): one matrix-vector product against at most
`MAX_LIVE_TOPICS` unit centroids (the highest-ranked topics), no database read. The topic id is
stored on the row (`gap_topic_id`), so "new inquiries on known topics since the report was
computed" is a count, or a listing, of those rows.

Errors: `TopicError` is the base; `UnknownTopicError` is a topic id that is not in the live set.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, func, insert
from sqlmodel import Session, col, select

from app.db.models import GapTopic, GapTopicSet, HelpdeskTicket, SuggestionSet
from app.reports.period import Period
from app.reports.schemas import GapReport, GapReportTopic, GapTopicInquiries, LiveGapTopic, LiveGapTopics, TopicInquiry
from retrieval.topic_space import TopicSpace

Vectors = npt.NDArray[np.float32]
logger = logging.getLogger("deflect.topics")
# Keeps assignment within tens of microseconds on the suggest path; lower-ranked topics get no id.
MAX_LIVE_TOPICS = 500


class TopicError(Exception):
    """Base of gap topic errors."""


class UnknownTopicError(TopicError):
    """The topic id is not in the live topic set (never was, or a recompute dropped it)."""


@dataclass(frozen=True)
class TopicSet:
    """The live topics: ids in rank order and their unit centroids, one row each, in `space`."""

    set_id: int | None
    computed_epoch: float
    period: Period | None
    similarity: float
    ids: tuple[str, ...]
    centroids: Vectors
    space: TopicSpace | None = None  # the topic space the report clustered in (None: plain cosine)

    @classmethod
    def empty(cls) -> TopicSet:
        return cls(None, 0.0, None, 1.0, (), np.zeros((0, 0), dtype=np.float32))

    def nearest(self, vector: Vectors) -> str | None:
        """The topic a failing inquiry's (model) vector joins, if any: projected as the report's were."""
        # A vector of another model (another dimension) joins nothing rather than failing suggest.
        size = self.space.dim if self.space is not None else self.centroids.shape[1]
        if not self.ids or vector.ndim != 1 or vector.shape[0] != size:
            return None
        if self.space is not None:
            vector = self.space.project_one(vector)
        scores = self.centroids @ vector.astype(np.float32, copy=False)
        best = int(np.argmax(scores))
        return self.ids[best] if float(scores[best]) >= self.similarity else None


class LiveTopics:
    """This process's live topic set; the suggest path reads `current` once, a refresh swaps it whole."""

    def __init__(self) -> None:
        self.current = TopicSet.empty()

    def assign(self, vector: Vectors) -> str | None:
        return self.current.nearest(vector)

    def refresh(self, session: Session) -> bool:
        """Load the newest topic set if it is not the one held; True when it changed."""
        newest = session.execute(select(func.max(GapTopicSet.id))).scalar()
        if newest == self.current.set_id:
            return False
        self.current = load_topic_set(session)
        return True


def load_topic_set(session: Session) -> TopicSet:
    """The newest saved topic set (empty when no report reaching the present was computed yet)."""
    topic_set = _newest_set(session)
    if topic_set is None:
        return TopicSet.empty()
    topics = _topics_of(session, topic_set)
    centroids = (
        np.vstack([np.frombuffer(t.centroid, dtype=np.float32) for t in topics])
        if topics
        else np.zeros((0, 0), dtype=np.float32)
    )
    return TopicSet(
        set_id=topic_set.id,
        computed_epoch=topic_set.computed_epoch,
        period=Period(_moment(topic_set.period_start_epoch), _moment(topic_set.period_end_epoch)),
        similarity=topic_set.similarity,
        ids=tuple(t.id for t in topics),
        centroids=centroids,
        space=None
        if topic_set.space_mean is None
        else TopicSpace.from_bytes(
            topic_set.space_mean,
            topic_similarity=topic_set.similarity,
            dims=None
            if topic_set.space_start is None or topic_set.space_end is None
            else (topic_set.space_start, topic_set.space_end),
            dim=centroids.shape[1],
        ),
    )


def publish_topics(
    session: Session,
    *,
    topics: Sequence[GapReportTopic],
    centroids: Vectors,
    period: Period,
    computed_epoch: float,
    similarity: float,
    keep_id_similarity: float,
    space: TopicSpace | None = None,
) -> TopicSet:
    """Save a report's top-ranked topics, and the space they were found in, as the live set; commits.

    Topics that persist keep their ids.
    """
    topics, centroids = topics[:MAX_LIVE_TOPICS], centroids[:MAX_LIVE_TOPICS]
    previous = load_topic_set(session)
    ids = stable_topic_ids(centroids, previous, min_similarity=keep_id_similarity)
    saved = GapTopicSet(
        computed_epoch=computed_epoch,
        period_start_epoch=period.start.timestamp(),
        period_end_epoch=period.end.timestamp(),
        similarity=similarity,
        # The mean, and with a bridge the bridge too (TopicSpace.to_bytes).
        space_mean=None if space is None else space.to_bytes(),
        space_start=None if space is None or space.dims is None else space.dims[0],
        space_end=None if space is None or space.dims is None else space.dims[1],
    )
    session.add(saved)
    session.flush()
    assert saved.id is not None
    if topics:
        session.execute(
            insert(GapTopic),
            [
                {
                    "set_id": saved.id,
                    "id": topic_id,
                    "rank": rank,
                    "label": topic.label,
                    "verdict": topic.verdict,
                    "volume": topic.volume,
                    "centroid": np.ascontiguousarray(centroid, dtype=np.float32).tobytes(),
                }
                for rank, (topic_id, topic, centroid) in enumerate(zip(ids, topics, centroids, strict=True), start=1)
            ],
        )
    # Only the newest set is live; older ones go (a concurrent publisher's older set goes next time).
    session.execute(delete(GapTopic).where(col(GapTopic.set_id) < saved.id))
    session.execute(delete(GapTopicSet).where(col(GapTopicSet.id) < saved.id))
    session.commit()
    held = np.ascontiguousarray(centroids, dtype=np.float32) if ids else np.zeros((0, 0), dtype=np.float32)
    return TopicSet(saved.id, computed_epoch, period, similarity, tuple(ids), held, space)


def stable_topic_ids(centroids: Vectors, previous: TopicSet, *, min_similarity: float) -> list[str]:
    """An id per centroid: the closest previous topic's (most similar pairs first, one to one), else a new one."""
    ids: list[str | None] = [None] * len(centroids)
    if previous.ids and len(centroids) and centroids.shape[1] == previous.centroids.shape[1]:
        similarity = centroids @ previous.centroids.T
        pairs = np.argwhere(similarity >= min_similarity)
        order = np.argsort(-similarity[pairs[:, 0], pairs[:, 1]], kind="stable")
        taken: set[int] = set()
        for new, old in pairs[order].tolist():
            if ids[new] is None and old not in taken:
                ids[new] = previous.ids[old]
                taken.add(old)
    return [topic_id or uuid.uuid4().hex[:12] for topic_id in ids]


def new_inquiry_counts(session: Session, *, since: float) -> Counter[str]:
    """Per topic id: final suggestion sets recorded and tickets imported since `since` that joined it."""
    counts: Counter[str] = Counter()
    sets = (
        select(SuggestionSet.gap_topic_id, func.count())
        .where(
            col(SuggestionSet.created_epoch) >= since,
            col(SuggestionSet.gap_topic_id).is_not(None),
            col(SuggestionSet.superseded).is_(False),
            col(SuggestionSet.composing).is_(False),
        )
        .group_by(SuggestionSet.gap_topic_id)
    )
    tickets = (
        select(HelpdeskTicket.gap_topic_id, func.count())
        .where(col(HelpdeskTicket.imported_epoch) >= since, col(HelpdeskTicket.gap_topic_id).is_not(None))
        .group_by(HelpdeskTicket.gap_topic_id)
    )
    for query in (sets, tickets):
        for topic_id, count in session.execute(query):
            counts[topic_id] += int(count)
    return counts


def with_new_inquiries(session: Session, report: GapReport) -> GapReport:
    """The report (a copy) with each live topic's `new_inquiries`: those that joined it since it was computed."""
    if not any(topic.topic_id for topic in report.topics):
        return report
    counts = new_inquiry_counts(session, since=report.computed_at.timestamp())
    topics = [
        topic.model_copy(update={"new_inquiries": counts[topic.topic_id] if topic.topic_id else None})
        for topic in report.topics
    ]
    return report.model_copy(update={"new_inquiries": sum(t.new_inquiries or 0 for t in topics), "topics": topics})


def live_topics_report(session: Session) -> LiveGapTopics:
    """The live topics, ranked, each with the count of new inquiries that joined it since it was computed."""
    saved = _newest_set(session)
    if saved is None:
        return LiveGapTopics(computed_at=None, from_=None, to=None, topics=[])
    counts = new_inquiry_counts(session, since=saved.computed_epoch)
    return LiveGapTopics(
        computed_at=_moment(saved.computed_epoch),
        from_=_whole_second(saved.period_start_epoch),
        to=_whole_second(saved.period_end_epoch),
        topics=[
            LiveGapTopic(
                topic_id=t.id,
                rank=t.rank,
                label=t.label,
                verdict=t.verdict,
                volume=t.volume,
                new_inquiries=counts[t.id],
            )
            for t in _topics_of(session, saved)
        ],
    )


def topic_inquiries(session: Session, *, topic_id: str, limit: int = 100) -> GapTopicInquiries:
    """One live topic and the inquiries that joined it since it was computed, newest first (redacted)."""
    topic_set = _newest_set(session)
    topic = session.get(GapTopic, (topic_set.id, topic_id)) if topic_set is not None else None
    if topic_set is None or topic is None:
        raise UnknownTopicError(f"no live gap topic {topic_id!r}; the topics change when the gap report is recomputed")
    since = topic_set.computed_epoch
    sets = session.exec(
        select(SuggestionSet)
        .where(
            col(SuggestionSet.created_epoch) >= since,
            col(SuggestionSet.gap_topic_id) == topic_id,
            col(SuggestionSet.superseded).is_(False),
            col(SuggestionSet.composing).is_(False),
        )
        .order_by(col(SuggestionSet.created_epoch).desc())
        .limit(limit)
    ).all()
    tickets = session.exec(
        select(HelpdeskTicket)
        .where(col(HelpdeskTicket.imported_epoch) >= since, col(HelpdeskTicket.gap_topic_id) == topic_id)
        .order_by(col(HelpdeskTicket.imported_epoch).desc())
        .limit(limit)
    ).all()
    joined: list[tuple[float, TopicInquiry]] = [
        (
            row.created_epoch,
            TopicInquiry(
                kind="suggestion_set",
                id=row.id,
                text=row.text,
                locale=row.locale,
                label=row.label,
                created_at=_whole_second(row.created_epoch),
            ),
        )
        for row in sets
    ] + [
        (
            row.imported_epoch,
            TopicInquiry(
                kind="imported_ticket",
                id=row.id,
                text=ticket_summary(row.subject, row.body),
                locale=row.locale,
                label=None,
                created_at=_whole_second(row.created_epoch),
            ),
        )
        for row in tickets
    ]
    joined.sort(key=lambda pair: -pair[0])
    counts = new_inquiry_counts(session, since=since)
    return GapTopicInquiries(
        topic_id=topic.id,
        rank=topic.rank,
        label=topic.label,
        verdict=topic.verdict,
        volume=topic.volume,
        computed_at=_moment(since),
        new_inquiries=counts[topic.id],
        inquiries=[inquiry for _, inquiry in joined[:limit]],
    )


def ticket_summary(subject: str | None, body: str | None, *, limit: int = 200) -> str:
    """What a report shows of a ticket: subject, then the start of the body, in one short line."""
    parts = [" ".join(part.split()) for part in (subject, body) if part and part.strip()]
    text = " — ".join(parts)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _newest_set(session: Session) -> GapTopicSet | None:
    return session.exec(select(GapTopicSet).order_by(col(GapTopicSet.id).desc()).limit(1)).first()


def _topics_of(session: Session, topic_set: GapTopicSet) -> list[GapTopic]:
    return list(session.exec(select(GapTopic).where(GapTopic.set_id == topic_set.id).order_by(col(GapTopic.rank))))


def _moment(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _whole_second(epoch: float) -> dt.datetime:
    """As the listings have always written these times: to the second."""
    return _moment(epoch).replace(microsecond=0)
