"""Dense evidence: each passage's cosine with a question, pooled into each article's score.

A small index scores every passage with one matrix-vector product. Once the passage vectors outgrow
the CPU cache, reading them is most of what a search costs besides encoding the question, so a large
index scores in two stages: every passage on the vectors' leading principal directions (for the pair of
models, a fifth of the bytes), then the passages that came out best, exactly. The rest only shade the
pooled scores of articles that are not shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Question passages (title, alternative phrasings) pool by a soft maximum: close phrasings add up like kNN
# votes, one stray phrasing cannot carry an article. Its temperature is this share of the spread of the query's
# cosines, since models spread cosines differently. Why: docs/decisions/0006-question-soft-maximum.md
QUESTION_POOL_SPREAD = 0.5
# Two stages pay once the vectors outgrow the CPU cache. Why: docs/decisions/0007-two-stage-dense-scoring.md
TWO_STAGE_MIN_BYTES = 32 * 2**20
# Chosen on clinc150 val with `python -m bench.dense`. Why: docs/decisions/0007-two-stage-dense-scoring.md
COARSE_DIMS = 192
REFINED_PASSAGES = 512


@dataclass(frozen=True)
class DenseScores:
    passage: npt.NDArray[np.float32]  # every passage's cosine (coarse where not refined, in two stages)
    article: npt.NDArray[np.float64]  # each article's pooled score


class DenseScorer:
    """Scores a question's vector against one build's passage vectors (rows grouped by article)."""

    def __init__(
        self,
        vectors: npt.NDArray[np.float32],
        *,
        passage_article: npt.NDArray[np.int64],
        is_question: npt.NDArray[np.bool_],
        articles: int,
        two_stage_min_bytes: int = TWO_STAGE_MIN_BYTES,
        coarse_dims: int = COARSE_DIMS,
        refined_passages: int = REFINED_PASSAGES,
    ) -> None:
        self.vectors = vectors
        self.articles = articles
        self.passage_article = passage_article
        # Passages are stored article by article, so per-article maxima are one reduceat.
        self.article_starts = np.flatnonzero(np.r_[True, passage_article[1:] != passage_article[:-1]])
        # Question passages (the title first, then alternative phrasings) lead each article's passages.
        self.question_rows = np.flatnonzero(is_question)
        question_article = passage_article[self.question_rows]
        first = np.r_[True, question_article[1:] != question_article[:-1]][: len(question_article)]
        self.question_starts = np.flatnonzero(first)
        self.question_segment = np.cumsum(first) - 1  # each question row's article, as a segment number
        self.question_articles = question_article[self.question_starts]
        self.refined_passages = refined_passages
        self.coarse = (
            CoarseVectors.fit(vectors, dims=coarse_dims)
            if vectors.nbytes >= two_stage_min_bytes and len(vectors) > refined_passages
            else None
        )

    def scores(self, vector: npt.NDArray[np.float32]) -> DenseScores:
        """Every passage's and article's dense score for a unit query vector."""
        vector = vector.astype(np.float32, copy=False)
        if self.coarse is None:
            # Vectors are L2-normalised, so inner product is cosine similarity; BLAS beats einsum here, on one
            # thread. Why: docs/decisions/0021-one-blas-thread.md
            passage: npt.NDArray[np.float32] = self.vectors @ vector
            return DenseScores(passage, self._pool(passage, spread=_std(passage)))
        passage, spread = self.coarse.scores(vector)
        refined = np.argpartition(-passage, self.refined_passages)[: self.refined_passages]
        passage[refined] = self.vectors[refined] @ vector
        return DenseScores(passage, self._pool(passage, spread=spread))

    def _pool(self, passage: npt.NDArray[np.float32], *, spread: float) -> npt.NDArray[np.float64]:
        """Each article's dense score: its best body passage, or a soft maximum of its question passages."""
        best = self.max_per_article(passage, fill=-1.0)
        t = QUESTION_POOL_SPREAD * spread
        if not len(self.question_rows) or t <= 0.0:
            return best
        # In float32: a third of float64's time for exp over every phrasing, and 1e-7 from its result.
        scores = passage[self.question_rows]
        top = np.maximum.reduceat(scores, self.question_starts)
        shifted = scores - top[self.question_segment]
        shifted *= np.float32(1.0 / t)
        spread_sum = np.add.reduceat(np.exp(shifted, out=shifted), self.question_starts)
        articles = self.question_articles
        best[articles] = np.maximum(best[articles], top + t * np.log(spread_sum, dtype=np.float64))
        return best

    def max_per_article(self, passage_scores: npt.NDArray[np.float32], *, fill: float) -> npt.NDArray[np.float64]:
        """Each article's best passage score (`fill` for an article without passages)."""
        result = np.full(self.articles, fill, dtype=np.float64)
        if len(passage_scores):
            result[self.passage_article[self.article_starts]] = np.maximum.reduceat(passage_scores, self.article_starts)
        return result


@dataclass(frozen=True)
class CoarseVectors:
    """Passage vectors on their leading principal directions, with what gives the exact scores' spread."""

    basis: npt.NDArray[np.float32]  # (dim, dim): principal directions (uncentred), strongest first
    energy: npt.NDArray[np.float64]  # mean squared projection of the passages on each direction
    mean: npt.NDArray[np.float32]  # the passages' mean vector
    projected: npt.NDArray[np.float32]  # (passages, COARSE_DIMS)

    @classmethod
    def fit(cls, vectors: npt.NDArray[np.float32], dims: int = COARSE_DIMS) -> CoarseVectors:
        second_moment = (vectors.T @ vectors).astype(np.float64) / len(vectors)
        energy, basis = np.linalg.eigh(second_moment)
        basis32 = np.ascontiguousarray(basis[:, ::-1], dtype=np.float32)
        dims = min(dims, vectors.shape[1])
        return cls(
            basis=basis32,
            energy=np.maximum(energy[::-1], 0.0),
            mean=vectors.mean(axis=0, dtype=np.float64).astype(np.float32),
            projected=np.ascontiguousarray(vectors @ basis32[:, :dims]),
        )

    def scores(self, vector: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], float]:
        """Approximate cosines of every passage, and the exact std of the exact cosines."""
        coordinates = vector @ self.basis
        projected: npt.NDArray[np.float32] = self.projected @ coordinates[: self.projected.shape[1]]
        # The exact cosines' mean square is the query's quadratic form in the passages' second moment.
        mean_square = float(self.energy @ np.square(coordinates, dtype=np.float64))
        mean = float(self.mean @ vector)
        return projected, max(mean_square - mean * mean, 0.0) ** 0.5


def _std(values: npt.NDArray[np.float32]) -> float:
    # One dot product instead of ndarray.std's passes: at FAQ sizes numpy's per-call overhead is the cost.
    mean = float(values.mean())
    return float(max(float(values @ values) / len(values) - mean * mean, 0.0) ** 0.5)
