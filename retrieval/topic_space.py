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

Such a period is also compared through the pair's bridge (`bridge`): a Japanese vector's English-only half is
the bridge's estimate from its multilingual half, an English one's is the model's own, which sits apart from
any estimate; estimating it for every vector takes that language offset away, and leaves Japanese vectors as
they are. Keywords, sentences and long mails differ the same way: each vector is then centred on the nearest of the
period's form means (`offsets`). Why: docs/decisions/0028-gap-topics-of-kana-and-languages.md and
docs/decisions/0036-long-mails-a-form-of-their-own.md
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from indexer.embedders import EmbedderPart, unit_rows
from indexer.embedders.paired import load_bridge, multilingual_dims

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
# A period with Japanese and enough of both forms (keywords, sentences) is also centred on each form's mean,
# by this share of it, and held together at this cosine. Why: docs/decisions/0028-gap-topics-of-kana-and-languages.md
FORM_OFFSET_SHARE = 0.75
FORM_CENTRED_TOPIC_SIMILARITY = 0.2
# Fewer questions of a form than this: its mean is mostly one need's, which centring would take away.
MIN_FORM_QUESTIONS = 20


@dataclass(frozen=True)
class TopicSpace:
    mean: Vectors  # (dim,): zero for plain cosine; only its `dims` slice is used
    topic_similarity: float  # the cosine that holds a topic together in this space
    dims: tuple[int, int] | None = None  # the slice of each vector compared (start, end); None: all of it
    # (multilingual half's rows, English-only half's columns): that half estimated from the other; None: as stored.
    bridge: Vectors | None = None
    reader: tuple[int, int] | None = None  # where the multilingual half lies (start, end), with a bridge
    # (forms, compared dims): a share of each form's mean, taken off the vectors nearest it; None: no forms.
    offsets: Vectors | None = None

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

    def bridged(self, layout: Sequence[EmbedderPart]) -> TopicSpace:
        """This space compared through the bridge of a build's pair of models, if it has one (else this space)."""
        reader = multilingual_dims(layout)
        bridge = load_bridge(layout[0].model, layout[1].model) if reader is not None else None
        if reader is None or bridge is None:
            return self
        size = reader[1] - reader[0]
        if bridge.shape != (size, self.dim - size):
            return self
        return replace(self, bridge=bridge, reader=reader)

    def centred_by_form(self, forms: list[Vectors]) -> TopicSpace:
        """This space with each vector also centred on the nearest of these forms' means (their vectors given, from
        the shortest form to the longest).

        Short keyword questions, sentences and long mails each share a direction of their own, as languages do; a
        form's mean is estimated from the period's questions of that form, and the vector decides which form it is
        nearest, so write-time assignment needs no text. A form of too few questions is counted with its neighbour.
        """
        forms = _enough_of_each(forms)
        if len(forms) < 2:
            return self
        means = np.vstack([self.project(vectors).astype(np.float64).mean(axis=0) for vectors in forms])
        offsets = (FORM_OFFSET_SHARE * means).astype(np.float32)
        return replace(self, offsets=offsets, topic_similarity=FORM_CENTRED_TOPIC_SIMILARITY)

    def to_bytes(self) -> bytes:
        """The mean; then, beyond a bare mean, the number of form offsets and the offsets, and with a bridge where
        the multilingual half lies and the bridge; as float32."""
        parts = [self.mean.astype(np.float32)]
        if self.offsets is not None or self.bridge is not None:
            offsets = np.zeros((0, self.dim), dtype=np.float32) if self.offsets is None else self.offsets
            parts += [np.array([len(offsets)], dtype=np.float32), offsets.astype(np.float32).ravel()]
        if self.bridge is not None and self.reader is not None:
            parts += [np.array(self.reader, dtype=np.float32), self.bridge.astype(np.float32).ravel()]
        return np.ascontiguousarray(np.concatenate(parts)).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, *, topic_similarity: float, dims: tuple[int, int] | None, dim: int) -> TopicSpace:
        """A space saved by `to_bytes`; `dim` is the vectors' size (a bare mean is read whole whatever it is)."""
        values = np.frombuffer(data, dtype=np.float32).copy()
        if dims is not None or not 0 < dim < len(values):
            return cls(values, topic_similarity, dims)
        forms = int(values[dim])
        offsets = values[dim + 1 : dim + 1 + forms * dim].reshape(forms, dim) if forms else None
        rest = values[dim + 1 + forms * dim :]
        if len(rest) < 2:
            return cls(values[:dim], topic_similarity, dims, offsets=offsets)
        start, end = int(rest[0]), int(rest[1])
        bridge = rest[2:].reshape(end - start, dim - (end - start))
        return cls(values[:dim], topic_similarity, dims, bridge, (start, end), offsets)

    @property
    def dim(self) -> int:
        """The size of the vectors this space takes (the model's, whatever slice it compares)."""
        return int(self.mean.shape[0])

    def project(self, vectors: Vectors) -> Vectors:
        """Unit rows in topic space: cosine there is topic similarity."""
        start, end = self.dims or (0, self.dim)
        points = np.atleast_2d(vectors)
        if self.bridge is not None and self.reader is not None:
            points = self._through_bridge(points)
        # A slice of a unit vector is not unit; it is compared as the model it came from would be.
        points = unit_rows(unit_rows(points[:, start:end]) - self.mean[start:end])
        if self.offsets is not None:
            nearest = (points @ unit_rows(self.offsets).T).argmax(axis=1)
            points = unit_rows(points - self.offsets[nearest])
        return points

    def project_one(self, vector: Vectors) -> Vectors:
        point: Vectors = self.project(vector.reshape(1, -1))[0]
        return point

    def _through_bridge(self, vectors: Vectors) -> Vectors:
        """The English-only half estimated from the multilingual half, at that half's norm (a pair's halves weigh
        the same)."""
        assert self.bridge is not None and self.reader is not None
        start, end = self.reader
        other = slice(end, self.dim) if start == 0 else slice(0, start)
        reader = vectors[:, start:end].astype(np.float32)
        bridged = np.array(vectors, dtype=np.float32, copy=True)
        bridged[:, other] = np.linalg.norm(reader, axis=1, keepdims=True) * unit_rows(reader @ self.bridge)
        return bridged


def _enough_of_each(forms: list[Vectors]) -> list[Vectors]:
    """The forms, each of fewer than MIN_FORM_QUESTIONS joined to the next shorter form (the shortest to the next
    longer): a mean of a few questions is mostly their needs'."""
    kept = [form for form in forms if len(form)]
    while len(kept) > 1:
        small = next((i for i, form in enumerate(kept) if len(form) < MIN_FORM_QUESTIONS), None)
        if small is None:
            break
        neighbour = small - 1 if small else 1
        kept[min(small, neighbour)] = np.vstack([kept[min(small, neighbour)], kept[max(small, neighbour)]])
        del kept[max(small, neighbour)]
    return kept
