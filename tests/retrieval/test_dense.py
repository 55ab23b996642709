import numpy as np
import numpy.typing as npt
import pytest

from retrieval.dense import REFINED_PASSAGES, CoarseVectors, DenseScorer


def _help_center(articles: int = 60, phrasings: int = 20, dim: int = 256) -> tuple[npt.NDArray[np.float32], ...]:
    """Unit vectors of each article's phrasings around its own centre, then one body passage each."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((articles, dim))
    rows, owner, question = [], [], []
    for article, centre in enumerate(centres):
        for is_question in [True] * phrasings + [False]:
            rows.append(centre + 0.8 * rng.standard_normal(dim))
            owner.append(article)
            question.append(is_question)
    vectors = np.array(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = centres[:10] + 0.8 * rng.standard_normal((10, dim))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return vectors, np.array(owner, dtype=np.int64), np.array(question), queries.astype(np.float32)


@pytest.fixture(scope="module")
def scorers() -> tuple[DenseScorer, DenseScorer, npt.NDArray[np.float32]]:
    vectors, owner, question, queries = _help_center()
    exact = DenseScorer(vectors, passage_article=owner, is_question=question, articles=60)
    two_stage = DenseScorer(vectors, passage_article=owner, is_question=question, articles=60, two_stage_min_bytes=0)
    return exact, two_stage, queries


def test_a_small_index_scores_every_passage_exactly(
    scorers: tuple[DenseScorer, DenseScorer, npt.NDArray[np.float32]],
) -> None:
    exact, _, queries = scorers
    assert exact.coarse is None
    np.testing.assert_allclose(exact.scores(queries[0]).passage, exact.vectors @ queries[0], atol=1e-6)


def test_two_stages_rescore_the_best_passages_exactly_and_agree_on_the_leading_articles(
    scorers: tuple[DenseScorer, DenseScorer, npt.NDArray[np.float32]],
) -> None:
    exact, two_stage, queries = scorers
    assert two_stage.coarse is not None and two_stage.coarse.projected.shape == (len(exact.vectors), 192)
    for query in queries:
        want, got = exact.scores(query), two_stage.scores(query)
        best = np.argsort(-want.passage)[: REFINED_PASSAGES // 2]
        np.testing.assert_allclose(got.passage[best], want.passage[best], atol=1e-5)
        # Elsewhere the coarse scores are approximate: not equal, or there would be nothing to save.
        assert not np.allclose(got.passage, want.passage, atol=1e-3)
        leading = np.argsort(-want.article)[:5]
        assert list(np.argsort(-got.article)[:5]) == list(leading)
        # The first article's phrasings are all among the rescored passages, so it pools exactly; the
        # runners-up pool some coarse phrasings far below their best.
        assert got.article[leading[0]] == pytest.approx(want.article[leading[0]], abs=1e-5)
        np.testing.assert_allclose(got.article[leading], want.article[leading], atol=1e-3)


def test_coarse_vectors_give_the_exact_spread_of_the_exact_cosines(
    scorers: tuple[DenseScorer, DenseScorer, npt.NDArray[np.float32]],
) -> None:
    exact, _, queries = scorers
    coarse = CoarseVectors.fit(exact.vectors, dims=32)
    for query in queries[:3]:
        _, spread = coarse.scores(query)
        assert spread == pytest.approx(float(np.std(exact.vectors @ query)), rel=1e-4)
