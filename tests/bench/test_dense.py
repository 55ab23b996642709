from pathlib import Path

from bench.datasets import Query
from bench.dense import compare, exact_scorer, scorer_with
from indexer import store
from indexer.analysis import Analyzer
from retrieval.search import SearchIndex
from tests.fakes import HashingEmbedder


def test_the_comparison_counts_what_a_coarser_scorer_changes_against_exact_scoring(
    index_dir: Path, analyzer: Analyzer
) -> None:
    index = SearchIndex(store.load_current(index_dir), analyzer)
    embedder = HashingEmbedder()
    asked = {"パスワードを忘れた": "reset-password", "SSO でログインできない": "sso-login-error", "請求書が欲しい": ""}
    queries = [Query(f"q{i}", text, "ja", (a,) if a else (), "val") for i, (text, a) in enumerate(asked.items())]
    texts = list(asked)
    exact = exact_scorer(index.dense)
    # One coarse direction and one passage rescored: far too coarse to agree everywhere.
    coarse = scorer_with(index.dense, two_stage_min_bytes=0, coarse_dims=1, refined_passages=1)
    scorers = {"exact": exact, "again": exact_scorer(index.dense), "coarse": coarse}

    figures = compare(index, scorers, queries, embedder.embed_queries(texts), embedder=embedder)

    assert coarse.coarse is not None and exact.coarse is None
    assert figures["again"]["first_five_differ_in_order"] == figures["again"]["confidence_moved_max"] == 0.0
    assert figures["again"]["R@1"] == figures["exact"]["R@1"] > 0.0
    assert figures["coarse"]["first_five_differ_in_order"] > 0.0
    assert figures["coarse"]["confidence_moved_max"] > 0.0
