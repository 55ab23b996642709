"""The space gap topics are found in: sentence embeddings centred on the help center's own questions.

Raw sentence embeddings of support questions share a large common direction: to the model, every
question looks somewhat like every other, so cosine bunches up and neighbouring topics merge.
Subtracting the mean of the articles' questions (titles and alternative phrasings) removes what they
all share ("all-but-the-top", Mu & Viswanath 2018); what is left is what tells topics apart. The mean
comes from the content, never from inquiries, so a topic no article covers is not centred away.

The mean is taken only where articles list alternative phrasings, which are worded as inquiries are;
help centers of titles alone keep plain cosine. Cosines spread wider once centred, so each space has its
own topic threshold. Why: docs/decisions/0016-centred-topic-space.md

In plain cosine, a period whose failing inquiries include Japanese is held together at a lower cosine
(app/reports/gaps/report.py, topic_space): kana typed without conversion and the other language sit
further from a need's other askings. Topics published before 2026-12-06 may keep a slice of each vector
(`dims`), a pair's multilingual half, and are compared on it.
Why: docs/decisions/0027-gap-topics-at-help-center-volume.md
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from indexer.embedders import unit_rows

Vectors = npt.NDArray[np.float32]
# The mean of a handful of articles' questions is mostly those questions, not what questions share.
MIN_ARTICLES = 20
# Questions per article, on average, that show the articles list phrasings besides their titles.
MIN_QUESTIONS_PER_ARTICLE = 3
# Average-linkage cosine inside a topic, chosen on val (`python -m bench.gaps --tune`).
# Why: docs/decisions/0016-centred-topic-space.md
CENTRED_TOPIC_SIMILARITY = 0.35
PLAIN_TOPIC_SIMILARITY = 0.55
JAPANESE_TOPIC_SIMILARITY = 0.4


@dataclass(frozen=True)
class TopicSpace:
    mean: Vectors  # (dim,): zero for plain cosine; only its `dims` slice is used
    topic_similarity: float  # the cosine that holds a topic together in this space
    dims: tuple[int, int] | None = None  # the slice of each vector compared (start, end); None: all of it

    @classmethod
    def plain(cls, dim: int, *, dims: tuple[int, int] | None = None) -> TopicSpace:
        return cls(np.zeros(dim, dtype=np.float32), PLAIN_TOPIC_SIMILARITY, dims)

    @classmethod
    def of_questions(
        cls, question_vectors: Vectors, *, articles: int, dims: tuple[int, int] | None = None
    ) -> TopicSpace:
        """Centred on the question vectors of this many articles; plain cosine for a small or titles-only one."""
        dim = question_vectors.shape[1]
        if articles < MIN_ARTICLES or len(question_vectors) < MIN_QUESTIONS_PER_ARTICLE * articles:
            return cls.plain(dim, dims=dims)
        start, end = dims or (0, dim)
        mean = np.zeros(dim, dtype=np.float32)
        mean[start:end] = unit_rows(question_vectors[:, start:end]).astype(np.float64).mean(axis=0)
        return cls(mean, CENTRED_TOPIC_SIMILARITY, dims)

    @property
    def dim(self) -> int:
        """The size of the vectors this space takes (the model's, whatever slice it compares)."""
        return int(self.mean.shape[0])

    def project(self, vectors: Vectors) -> Vectors:
        """Unit rows in topic space: cosine there is topic similarity."""
        start, end = self.dims or (0, self.dim)
        # A slice of a unit vector is not unit; it is compared as the model it came from would be.
        points = unit_rows(np.atleast_2d(vectors)[:, start:end]) - self.mean[start:end]
        return unit_rows(points)

    def project_one(self, vector: Vectors) -> Vectors:
        point: Vectors = self.project(vector.reshape(1, -1))[0]
        return point
