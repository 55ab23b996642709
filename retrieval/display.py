"""What a channel shows of a ranked search: the search box is a search engine, the inquiry form a judgement.

The contract (docs/retrieval.md, what each channel shows): the search box shows up to `limit` ranked articles
whenever anything in the help center is related, and is empty only when nothing is; the form and the API show their
top suggestions unless the set's confidence is low, or only `answered` ones when the caller asks for nothing unless
confident.
A set's label and confidence agree with what it shows: never `no_answer` beside results, and no result's
confidence above the one ranked before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from retrieval.search import SearchHit
from retrieval.vocabulary import Channel, Label

# (answered, low_confidence) confidence thresholds where the settings name none for a locale.
DEFAULT_THRESHOLDS = (0.5, 0.2)


@dataclass(frozen=True)
class Relatedness:
    """When an article counts as related to a question, so that the search box may show it.

    Related: the article holds a share of the question's term weight (coverage), its confidence clears a
    low floor, or its meaning is close (cosine), which near-duplicate articles leave no confidence to show.
    The search box shows its whole ranking when any article is related: a cross-lingual or misspelt
    question's right article often ranks below a related one with more evidence.
    Why these floors: docs/decisions/0023-channel-display.md, docs/decisions/0033-colloquial-and-kana-questions.md.
    """

    min_coverage: float = 0.3
    min_confidence: float = 0.08
    min_dense: float = 0.35

    def related(self, hit: SearchHit) -> bool:
        features = hit.features
        return (
            features.get("coverage", 0.0) >= self.min_coverage
            or hit.confidence >= self.min_confidence
            or features.get("dense", 0.0) >= self.min_dense
        )


DEFAULT_RELATEDNESS = Relatedness()


@dataclass(frozen=True)
class ShownSet:
    label: Label
    confidence: float
    hits: list[tuple[SearchHit, Label]]  # each shown hit with its own label


def label_for(confidence: float, thresholds: tuple[float, float]) -> Label:
    """`answered`, `low_confidence` or `no_answer` for a confidence, by (answered, low_confidence) thresholds."""
    answered, low = thresholds
    if confidence >= answered:
        return Label.ANSWERED
    if confidence >= low:
        return Label.LOW_CONFIDENCE
    return Label.NO_ANSWER


def shown_set(
    hits: Sequence[SearchHit],
    *,
    channel: Channel,
    thresholds: tuple[float, float],
    confident_only: bool = False,
    relatedness: Relatedness = DEFAULT_RELATEDNESS,
) -> ShownSet:
    """The hits a channel shows, best first, each labelled, and the set's own label and confidence."""
    ranked = _monotone(hits)
    # Each article is judged related on its own evidence; capping is only how confidences are shown.
    if not any(relatedness.related(hit) for hit in hits):
        return ShownSet(Label.NO_ANSWER, ranked[0].confidence if ranked else 0.0, [])
    related, confidence = ranked, ranked[0].confidence
    if confident_only:
        related = [hit for hit in related if hit.confidence >= thresholds[0]]
    elif channel != Channel.SEARCH and confidence < thresholds[1]:  # the form and the API judge before they show
        related = []
    if not related:
        return ShownSet(Label.NO_ANSWER, confidence, [])
    # Shown results are at least worth a look: a label below that would contradict showing them.
    return ShownSet(
        _at_least_low(label_for(confidence, thresholds)),
        confidence,
        [(hit, _at_least_low(label_for(hit.confidence, thresholds))) for hit in related],
    )


def _monotone(hits: Sequence[SearchHit]) -> list[SearchHit]:
    """Hits whose confidence never exceeds that of a hit ranked above them.

    A hit's confidence is fitted on the first hit's signals (its margin is over the runner-up's): a lower
    hit's own figure can come out higher, and a list that ranks against its confidence reads as a bug.
    """
    capped: list[SearchHit] = []
    ceiling = 1.0
    for hit in hits:
        ceiling = min(ceiling, hit.confidence)
        capped.append(hit if hit.confidence == ceiling else replace(hit, confidence=ceiling))
    return capped


def _at_least_low(label: Label) -> Label:
    return Label.LOW_CONFIDENCE if label == Label.NO_ANSWER else label
