"""Relevance guard: hybrid retrieval with the default model keeps R@5 above a floor on fixed slices, as ranked
and as the search box shows it.

Each slice is 40 fixed test queries of a shared data set (ja: localgovfaq, en: stackfaq_pairs),
indexed with their relevant articles plus fixed distractors. Floors are today's figure minus a margin
(measured when set: see the comment by each), so a change that breaks relevance fails CI.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.datasets import default_datasets_dir, load_dataset
from bench.metrics import retrieval_metrics
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_from_articles
from indexer.embedders import DEFAULT_MODEL, load_embedder
from retrieval.calibration import calibration_for, load_calibrations
from retrieval.display import DEFAULT_THRESHOLDS, shown_set
from retrieval.search import SearchIndex, search_articles

pytestmark = pytest.mark.e2e
DATASETS = default_datasets_dir()

# (data set, queries, distractor articles, R@5 floor). Measured 2026-11-23 with convex fusion (alpha 0.65):
# localgovfaq 0.875, stackfaq_pairs 0.900; the floors leave about one slice-query in thirteen of margin.
SLICES = [("localgovfaq", 40, 400, 0.80), ("stackfaq_pairs", 40, 300, 0.82)]


@pytest.mark.skipif(not DATASETS.is_dir(), reason="../shared/datasets is not beside the repository")
@pytest.mark.parametrize(("name", "n_queries", "n_distractors", "floor"), SLICES)
def test_hybrid_recall_at_5_stays_above_the_floor(
    tmp_path: Path, name: str, n_queries: int, n_distractors: int, floor: float
) -> None:
    dataset = load_dataset(DATASETS, name)
    rng = random.Random(20261123)
    queries = rng.sample([q for q in dataset.split("test") if q.relevant], n_queries)
    needed = {article_id for q in queries for article_id in q.relevant}
    others = [a for a in dataset.articles if a.id not in needed]
    articles = [a for a in dataset.articles if a.id in needed] + rng.sample(others, n_distractors)
    embedder, analyzer = load_embedder(DEFAULT_MODEL), Analyzer()
    build_from_articles(articles, index_dir=tmp_path, embedder=embedder, analyzer=analyzer)
    index = SearchIndex(store.load_current(tmp_path), analyzer)

    calibration = calibration_for(embedder.name, load_calibrations())
    outcomes = [
        search_articles(index, embedder=embedder, calibration=calibration, text=q.text, limit=10) for q in queries
    ]
    ranked = [[hit.article.id for hit in outcome.hits] for outcome in outcomes]
    # What the search box shows, through the default display policy and thresholds.
    shown = [
        [hit.article.id for hit, _ in shown_set(outcome.hits, channel="search", thresholds=DEFAULT_THRESHOLDS).hits]
        for outcome in outcomes
    ]
    figures = retrieval_metrics(ranked, [q.relevant for q in queries], [q.grades for q in queries])
    shown_figures = retrieval_metrics(shown, [q.relevant for q in queries], [q.grades for q in queries])

    assert figures["R@5"] >= floor, figures
    assert shown_figures["R@5"] >= floor, shown_figures
