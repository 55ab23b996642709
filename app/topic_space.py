"""The space gap topics are found in: sentence embeddings centred on the help center's own questions.

Raw sentence embeddings of support questions share a large common direction: to the model, every
question looks somewhat like every other, so cosine bunches up and neighbouring topics merge.
Subtracting the mean of the articles' questions (titles and alternative phrasings) removes what they
all share ("all-but-the-top", Mu & Viswanath 2018); what is left is what tells topics apart. The mean
comes from the content, never from inquiries, so a topic no article covers is not centred away.

The mean is taken only where articles list alternative phrasings, which are worded as inquiries are:
the mean of titles alone (headlines, a different style) moved the cosine scale in ways no threshold chosen
on val carried over to: it helped localgovfaq_gap, hurt stackfaq_gap, and merged unrelated topics on
content/. Those help centers keep plain cosine.

Chosen on val (python -m bench.gaps --tune): banking77_oos gap-topic ARI went from 0.51 to 0.55; the
README has the test figures. Shrinking the directions along which an article's phrasings differ as well
(within-class covariance normalisation) helped banking77_oos as much as it hurt clinc150_gap: left out.
Cosines spread wider once centred, so each space has its own topic threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
# The mean of a handful of articles' questions is mostly those questions, not what questions share.
MIN_ARTICLES = 20
# Questions per article, on average, that show the articles list phrasings besides their titles.
MIN_QUESTIONS_PER_ARTICLE = 3
# Average-linkage cosine inside a topic, chosen on val: centred, the best mean ARI of banking77_oos and
# clinc150_gap; plain, banking77_oos's best before centring.
CENTRED_TOPIC_SIMILARITY = 0.35
PLAIN_TOPIC_SIMILARITY = 0.55


@dataclass(frozen=True)
class TopicSpace:
    mean: Vectors  # (dim,): zero for plain cosine
    topic_similarity: float  # the cosine that holds a topic together in this space

    @classmethod
    def plain(cls, dim: int) -> TopicSpace:
        return cls(np.zeros(dim, dtype=np.float32), PLAIN_TOPIC_SIMILARITY)

    @classmethod
    def of_questions(cls, question_vectors: Vectors, *, articles: int) -> TopicSpace:
        """Centred on the question vectors of this many articles; plain cosine for a small or titles-only one."""
        if articles < MIN_ARTICLES or len(question_vectors) < MIN_QUESTIONS_PER_ARTICLE * articles:
            return cls.plain(question_vectors.shape[1])
        mean = question_vectors.astype(np.float64).mean(axis=0).astype(np.float32)
        return cls(mean, CENTRED_TOPIC_SIMILARITY)

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    def project(self, vectors: Vectors) -> Vectors:
        """Unit rows in topic space: cosine there is topic similarity."""
        points = np.atleast_2d(vectors).astype(np.float32) - self.mean
        unit: Vectors = (points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-9)).astype(np.float32)
        return unit

    def project_one(self, vector: Vectors) -> Vectors:
        point: Vectors = self.project(vector.reshape(1, -1))[0]
        return point
