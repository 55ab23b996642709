"""What bench.calibrate reports of the form's display (bench/calibrate.py)."""

import numpy as np

from bench.calibrate import SetRows, form_display
from indexer.articles import Article
from retrieval.calibration import FEATURES
from retrieval.search import SearchHit


def _hit(article_id: str, dense: float) -> SearchHit:
    article = Article(id=article_id, title=article_id, locale="en", body="")
    features = dict.fromkeys(FEATURES, 0.0) | {"dense": dense, "coverage": dense}
    return SearchHit(article, dense, 0.0, False, "", [], features)


def _help_center(name: str, rng: np.random.Generator) -> SetRows:
    # Answerable questions find their article with a high dense score; unanswerable and off-topic ones do not.
    answerable = [[_hit(f"a{i}", rng.uniform(0.5, 0.9)), _hit("other", 0.2)] for i in range(30)]
    unanswerable = [[_hit("near", rng.uniform(0.1, 0.5))] for _ in range(30)]
    hits = answerable + unanswerable
    return SetRows(
        name=name,
        family=name,
        features=np.array([[h[0].features[f] for f in FEATURES] for h in hits]),
        right=np.array([1] * 30 + [0] * 30),
        answerable=np.array([True] * 30 + [False] * 30),
        hits=hits,
        right_groups=[{f"a{i}"} for i in range(30)] + [set() for _ in range(30)],
        off_topic_hits=[[_hit("near", 0.05)] for _ in range(10)],
    )


def test_form_display_trades_answers_shown_for_no_answer_as_the_line_rises() -> None:
    rng = np.random.default_rng(0)
    rows = [_help_center("one", rng), _help_center("two", rng)]

    display = form_display(rows, [0.05, 0.5, 0.99])

    low, middle, high = display["0.05"], display["0.5"], display["0.99"]
    assert low["form_top"] >= middle["form_top"] >= high["form_top"]
    assert low["unanswerable_no_answer"] <= middle["unanswerable_no_answer"] <= high["unanswerable_no_answer"]
    # Each help center scored by the model fitted on the other: a clear case is told apart at the middle line.
    assert middle["form_top"] > 0.9 and middle["unanswerable_no_answer"] > 0.6
    assert high["form_top"] < 0.5 and middle["off_topic_no_answer"] == 1.0
