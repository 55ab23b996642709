"""What each channel shows of a ranked search (retrieval/display.py)."""

from __future__ import annotations

import pytest

from indexer.articles import Article
from retrieval.display import Relatedness, label_for, shown_set
from retrieval.search import SearchHit
from retrieval.vocabulary import Label

THRESHOLDS = (0.5, 0.2)


def hit(article_id: str, confidence: float, coverage: float = 0.0, dense: float = 0.0) -> SearchHit:
    article = Article(id=article_id, title=article_id, locale="en", body="")
    return SearchHit(article, 1.0, confidence, False, "", [], {"coverage": coverage, "dense": dense})


def ids(shown: list[tuple[SearchHit, str]]) -> list[str]:
    return [h.article.id for h, _ in shown]


@pytest.mark.parametrize(
    ("confidence", "label"),
    [(0.9, Label.ANSWERED), (0.5, Label.ANSWERED), (0.4999, Label.LOW_CONFIDENCE), (0.2, Label.LOW_CONFIDENCE)]
    + [(0.1999, Label.NO_ANSWER), (0.0, Label.NO_ANSWER)],
)
def test_label_for_puts_each_threshold_on_the_higher_side(confidence: float, label: Label) -> None:
    assert label_for(confidence, (0.5, 0.2)) == label


def test_search_box_shows_every_ranked_article_when_any_is_related() -> None:
    hits = [hit("a", 0.12), hit("b", 0.08), hit("c", 0.01)]

    shown = shown_set(hits, channel="search", thresholds=THRESHOLDS)

    assert ids(shown.hits) == ["a", "b", "c"]  # c alone would not count as related; it is part of the ranking
    assert shown.label == Label.LOW_CONFIDENCE  # results are shown, so never no_answer
    assert [label for _, label in shown.hits] == [Label.LOW_CONFIDENCE] * 3


def test_search_box_counts_an_article_holding_the_question_terms_as_related() -> None:
    shown = shown_set([hit("a", 0.01, coverage=0.8)], channel="search", thresholds=THRESHOLDS)

    assert ids(shown.hits) == ["a"]


def test_search_box_is_empty_when_nothing_is_related() -> None:
    shown = shown_set([hit("a", 0.02, coverage=0.1)], channel="search", thresholds=THRESHOLDS)

    assert shown.hits == [] and shown.label == Label.NO_ANSWER and shown.confidence == 0.02


def test_form_shows_nothing_when_confidence_is_low() -> None:
    shown = shown_set([hit("a", 0.15), hit("b", 0.1)], channel="form", thresholds=THRESHOLDS)

    assert shown.hits == [] and shown.label == Label.NO_ANSWER


def test_form_shows_its_top_suggestions_when_the_set_is_confident_enough() -> None:
    shown = shown_set([hit("a", 0.35), hit("b", 0.1), hit("c", 0.06)], channel="form", thresholds=THRESHOLDS)

    assert ids(shown.hits) == ["a", "b", "c"]
    assert shown.label == Label.LOW_CONFIDENCE and shown.confidence == 0.35


def test_confident_only_shows_only_answered_results() -> None:
    hits = [hit("a", 0.8), hit("b", 0.6), hit("c", 0.4)]

    shown = shown_set(hits, channel="form", thresholds=THRESHOLDS, confident_only=True)

    assert ids(shown.hits) == ["a", "b"] and shown.label == Label.ANSWERED


def test_no_result_is_more_confident_than_one_ranked_above_it() -> None:
    shown = shown_set([hit("a", 0.16), hit("b", 0.54), hit("c", 0.49)], channel="search", thresholds=THRESHOLDS)

    confidences = [h.confidence for h, _ in shown.hits]
    assert confidences == sorted(confidences, reverse=True)
    assert shown.confidence == confidences[0] == 0.16
    assert shown.label == Label.LOW_CONFIDENCE


def test_an_article_close_in_meaning_is_related_without_shared_words_or_confidence() -> None:
    # Near-duplicate articles leave each other no confidence; a colloquial question shares no word with them.
    near_duplicates = [hit("a", 0.04, dense=0.37), hit("b", 0.04, dense=0.36)]
    far = [hit("a", 0.04, dense=0.3)]

    assert ids(shown_set(near_duplicates, channel="search", thresholds=THRESHOLDS).hits) == ["a", "b"]
    assert shown_set(far, channel="search", thresholds=THRESHOLDS).hits == []


def test_relatedness_floors_are_settable() -> None:
    strict = Relatedness(min_coverage=1.1, min_confidence=0.5, min_dense=1.1)

    assert (
        shown_set([hit("a", 0.3, coverage=1.0)], channel="search", thresholds=THRESHOLDS, relatedness=strict).hits == []
    )


def test_an_article_is_related_on_its_own_confidence_not_the_capped_one() -> None:
    # The second article's own confidence clears the floor; shown under the first, it is capped below it.
    shown = shown_set([hit("a", 0.03), hit("b", 0.3)], channel="search", thresholds=THRESHOLDS)

    assert ids(shown.hits) == ["a", "b"]
    assert [h.confidence for h, _ in shown.hits] == [0.03, 0.03]
