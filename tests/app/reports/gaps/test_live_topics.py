import datetime as dt

import numpy as np
import pytest
from sqlmodel import Session, select

from app.db.models import GapTopic, GapTopicSet
from app.reports.gaps import live_topics as topics_module
from app.reports.gaps.live_topics import LiveTopics, TopicSet, load_topic_set, publish_topics, stable_topic_ids
from app.reports.period import Period
from retrieval.topic_space import TopicSpace
from tests.factories import gap_topic

PERIOD = Period(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 2, 1, tzinfo=dt.UTC))


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _topic_set(ids: tuple[str, ...], centroids: list[np.ndarray], similarity: float = 0.55) -> TopicSet:
    return TopicSet(1, 0.0, PERIOD, similarity, ids, np.vstack(centroids))


def test_a_vector_joins_the_nearest_topic_only_when_close_enough() -> None:
    topics = _topic_set(("a", "b"), [_unit(1, 0, 0), _unit(0, 1, 0)])
    assert topics.nearest(_unit(0.2, 1, 0)) == "b"
    assert topics.nearest(_unit(1, 0, 1.4)) == "a"  # cosine 0.58: close enough
    assert topics.nearest(_unit(1, 0, 1.6)) is None  # cosine 0.53: not
    assert topics.nearest(_unit(0, 0, 1)) is None  # orthogonal to both
    assert topics.nearest(_unit(1, 0)) is None  # a vector of another model joins nothing
    assert TopicSet.empty().nearest(_unit(1, 0, 0)) is None


def test_recomputed_topics_keep_the_ids_of_the_topics_they_continue() -> None:
    previous = _topic_set(("old-a", "old-b"), [_unit(1, 0, 0), _unit(0, 1, 0)])
    # a moved a little; b split in two halves that both resemble it; a new topic appeared.
    centroids = np.vstack([_unit(1, 0.1, 0), _unit(0.1, 1, 0.3), _unit(0, 1, 0.1), _unit(0, 0, 1)])
    ids = stable_topic_ids(centroids, previous, min_similarity=0.8)
    assert ids[0] == "old-a"
    assert ids[2] == "old-b"  # the closer half keeps the id, one to one
    assert ids[1] not in ("old-a", "old-b") and ids[3] not in ("old-a", "old-b")
    assert len(set(ids)) == 4


def _publish(
    session: Session,
    centroids: list[np.ndarray],
    labels: list[str],
    *,
    similarity: float = 0.55,
    space: TopicSpace | None = None,
) -> TopicSet:
    return publish_topics(
        session,
        topics=[gap_topic(label) for label in labels],
        centroids=np.vstack(centroids) if centroids else np.zeros((0, 3), dtype=np.float32),
        period=PERIOD,
        computed_epoch=PERIOD.end.timestamp(),
        similarity=similarity,
        keep_id_similarity=0.8,
        space=space,
    )


def test_published_topics_replace_the_live_set_with_stable_ids(session: Session) -> None:
    live = LiveTopics()
    assert live.refresh(session) is False and live.assign(_unit(1, 0, 0)) is None  # nothing published yet
    first = _publish(session, [_unit(1, 0, 0), _unit(0, 1, 0)], ["invoices", "year-end"])
    assert live.refresh(session) is True and live.refresh(session) is False
    assert live.assign(_unit(1, 0.1, 0)) == first.ids[0]

    second = _publish(session, [_unit(0, 1, 0.05), _unit(0, 0, 1)], ["year-end", "parking"])
    assert second.ids[0] == first.ids[1] and second.ids[1] not in first.ids
    assert live.refresh(session) is True
    assert live.assign(_unit(1, 0.1, 0)) is None  # the invoices topic is gone
    assert live.assign(_unit(0, 0.1, 1)) == second.ids[1]
    assert session.exec(select(GapTopicSet.id)).all() == [second.set_id]  # older sets are pruned
    assert [t.label for t in session.exec(select(GapTopic).order_by(GapTopic.rank))] == ["year-end", "parking"]
    loaded = load_topic_set(session)
    assert loaded.ids == second.ids and np.allclose(loaded.centroids, second.centroids)


def test_a_report_without_topics_empties_the_live_set(session: Session) -> None:
    live = LiveTopics()
    _publish(session, [_unit(1, 0, 0)], ["invoices"])
    live.refresh(session)
    _publish(session, [], [])
    assert live.refresh(session) is True
    assert live.assign(_unit(1, 0, 0)) is None


def test_only_the_top_ranked_topics_go_live(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topics_module, "MAX_LIVE_TOPICS", 2)
    published = _publish(session, [_unit(1, 0, 0), _unit(0, 1, 0), _unit(0, 0, 1)], ["first", "second", "third"])
    assert len(published.ids) == 2 and published.nearest(_unit(0, 0, 1)) is None
    assert [t.label for t in session.exec(select(GapTopic).order_by(GapTopic.rank))] == ["first", "second"]


def test_a_topic_set_keeps_the_topic_space_its_topics_were_found_in(session: Session) -> None:
    # Centroids in a space centred on (0, 0, 1): an inquiry leaning on that shared direction still finds "a".
    space = TopicSpace(np.array([0, 0, 1], dtype=np.float32), 0.5)
    _publish(session, [_unit(1, 0, 0), _unit(0, 1, 0)], ["a", "b"], similarity=0.5, space=space)
    other_process = LiveTopics()
    other_process.refresh(session)
    assert other_process.current.space is not None
    np.testing.assert_array_equal(other_process.current.space.mean, space.mean)
    leaning = _unit(0.4, 0, 0.9)  # mostly the shared direction: cosine 0.4 with "a" before projection
    assert other_process.assign(leaning) == other_process.current.ids[0]
    plain = TopicSet(1, 0.0, PERIOD, 0.5, other_process.current.ids, other_process.current.centroids)
    assert plain.nearest(leaning) is None


def test_a_topic_set_keeps_the_slice_of_each_vector_its_space_compares(session: Session) -> None:
    # A pair's vectors (2 + 2 dims): topics were found in the first half; the second half must not count.
    space = TopicSpace(np.zeros(4, dtype=np.float32), 0.5, dims=(0, 2))
    _publish(session, [_unit(1, 0), _unit(0, 1)], ["a", "b"], similarity=0.5, space=space)
    other_process = LiveTopics()
    other_process.refresh(session)
    assert other_process.current.space is not None and other_process.current.space.dims == (0, 2)
    # Nearest "a" on the first half, though the whole vector mostly lies in the second.
    assert other_process.assign(_unit(0.3, 0.1, 0, 1)) == other_process.current.ids[0]
    assert other_process.assign(_unit(1, 0, 0)) is None  # a vector of another size joins nothing


def test_a_topic_set_keeps_the_bridge_its_space_compares_through(session: Session) -> None:
    bridge = np.array([[0, 1], [1, 0]], dtype=np.float32)
    space = TopicSpace(np.zeros(4, dtype=np.float32), 0.5, None, bridge, (0, 2))
    _publish(session, [_unit(1, 0, 0, 1), _unit(0, 1, 1, 0)], ["a", "b"], similarity=0.5, space=space)
    other_process = LiveTopics()
    other_process.refresh(session)
    held = other_process.current.space
    assert held is not None and held.reader == (0, 2) and held.bridge is not None
    # An English vector whose own half leans to "b" joins "a", as its multilingual half says.
    english = _unit(1, 0.3, 1, 0)
    assert other_process.assign(english) == other_process.current.ids[0]
    unbridged = TopicSet(1, 0.0, PERIOD, 0.5, other_process.current.ids, other_process.current.centroids)
    assert unbridged.nearest(english) == other_process.current.ids[1]


def test_a_topic_set_keeps_the_form_offsets_its_space_centres_on(session: Session) -> None:
    offsets = np.array([[0, 0, 0.9], [0, 0, -0.9]], dtype=np.float32)
    space = TopicSpace(np.zeros(3, dtype=np.float32), 0.2, offsets=offsets)
    _publish(session, [_unit(1, 0, 0), _unit(0, 1, 0)], ["a", "b"], similarity=0.2, space=space)
    other_process = LiveTopics()
    other_process.refresh(session)
    held = other_process.current.space
    assert held is not None and held.offsets is not None and held.bridge is None
    np.testing.assert_array_equal(held.offsets, offsets)
    # Mostly its form's direction, which the space takes off: it is "a", which as stored it is too far from.
    leaning = _unit(0.15, 0, 1)
    assert other_process.assign(leaning) == other_process.current.ids[0]
    assert (
        TopicSet(1, 0.0, PERIOD, 0.2, other_process.current.ids, other_process.current.centroids).nearest(leaning)
        is None
    )
