"""Two models side by side: a multilingual one, and an English-only one that never sees Japanese text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from indexer.analysis import japanese_share
from indexer.embedders.base import Embedder, EmbedderError, EmbedderPart, Vectors, unit_rows
from indexer.embedders.packaged import ENGLISH_ONLY_MODELS

# Text is Japanese to a pair when this share of its characters is kana or kanji: an English passage that
# names a Japanese product is still English, and a Japanese question with an error code is still Japanese.
JAPANESE_TEXT_SHARE = 0.2
# Linear maps between two models' spaces, fitted by `python -m bench.bridge` (PairedEmbedder).
BRIDGES_DIR = Path(__file__).resolve().parent / "bridges"
# The bridge's share in an English passage's English-only half where a help center holds both languages
# (`bilingual_passages`), chosen on val. Why: docs/decisions/0003-bilingual-passage-blend.md
BRIDGE_SHARE_IN_ENGLISH_PASSAGES = 0.5


def is_japanese_text(text: str) -> bool:
    """Whether a model that reads no Japanese would be given this text (PairedEmbedder)."""
    return japanese_share(text) >= JAPANESE_TEXT_SHARE


def part_of(embedder: Embedder) -> EmbedderPart:
    """A single model as a share of vectors."""
    return EmbedderPart(embedder.name, embedder.dim, reads_japanese=embedder.name not in ENGLISH_ONLY_MODELS)


def multilingual_dims(layout: Sequence[EmbedderPart]) -> tuple[int, int] | None:
    """Where the multilingual half lies in a build's vectors, if it pairs a multilingual and an English-only model."""
    if len(layout) != 2 or layout[0].reads_japanese == layout[1].reads_japanese:
        return None
    first, second = layout
    return (0, first.dim) if first.reads_japanese else (first.dim, first.dim + second.dim)


class PairedEmbedder:
    """Two models' vectors side by side, so that cosine is the mean of the two models' cosines.

    Two models err on different questions, so together they rank the right article first more often; the
    price is both encodings a question (docs/decisions/0001-default-model-pair.md). Joining the vectors
    keeps one index and one matrix product: each half is scaled by sqrt(1/2), so a pair of unit vectors
    stays unit and their inner product is the two cosines' mean.

    A model that cannot read Japanese (ENGLISH_ONLY_MODELS) never sees Japanese text. Its half of a
    Japanese text's vector is the other model's vector carried into its space by a linear bridge fitted
    on English questions (`python -m bench.bridge`), so Japanese and English texts meet on both halves
    (docs/decisions/0002-japanese-bridge.md). Search blends the estimate into English passages too where a
    help center holds both languages (`bilingual_passages`).

    Without a bridge for the two models, that half of Japanese text is zero and the other half has the
    whole norm; Japanese then meets Japanese by the other model alone, and a question meets an article
    in the other language at only sqrt(1/2) of that model's cosine.
    """

    def __init__(self, first: Embedder, second: Embedder, *, bridge: Vectors | None = None) -> None:
        self.first, self.second = first, second
        self.name = f"{first.name}+{second.name}"
        self.dim = first.dim + second.dim
        reads = (part_of(first).reads_japanese, part_of(second).reads_japanese)
        # The half that reads Japanese when only one does: Japanese text is that model's alone.
        self._reader = reads.index(True) if reads[0] != reads[1] else None
        self._halves = ((0, first.dim), (first.dim, self.dim))
        if bridge is not None:
            if self._reader is None:
                raise EmbedderError(f"{self.name}: a bridge joins a model that reads Japanese to one that does not")
            (start, end), (to_start, to_end) = self._halves[self._reader], self._halves[1 - self._reader]
            if bridge.shape != (end - start, to_end - to_start):
                raise EmbedderError(f"{self.name}: the bridge's shape {bridge.shape} does not fit the two models")
        self.bridge = bridge

    @property
    def layout(self) -> tuple[EmbedderPart, EmbedderPart]:
        """Each model's share of the vectors, in order: what a build records (indexer/store.py, Manifest)."""
        return (part_of(self.first), part_of(self.second))

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._joined(texts, (self.first.embed_documents, self.second.embed_documents))

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._joined(texts, (self.first.embed_queries, self.second.embed_queries))

    def _joined(self, texts: Sequence[str], embed: tuple[Callable[[Sequence[str]], Vectors], ...]) -> Vectors:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        japanese = np.zeros(len(texts), dtype=bool)
        if self._reader is not None:
            japanese = np.array([is_japanese_text(text) for text in texts], dtype=bool)
        for half, (start, end) in enumerate(self._halves):
            rows = np.flatnonzero(~japanese if half != self._reader else np.ones(len(texts), dtype=bool)).tolist()
            if rows:
                vectors[rows, start:end] = embed[half]([texts[i] for i in rows])
        weights = np.full((len(texts), 2), np.sqrt(0.5), dtype=np.float32)
        if japanese.any():
            assert self._reader is not None
            (start, end), (to_start, to_end) = self._halves[self._reader], self._halves[1 - self._reader]
            if self.bridge is not None:
                vectors[japanese, to_start:to_end] = unit_rows(vectors[japanese, start:end] @ self.bridge)
            else:
                weights[japanese, self._reader], weights[japanese, 1 - self._reader] = 1.0, 0.0
        for half, (start, end) in enumerate(self._halves):
            vectors[:, start:end] *= weights[:, half, None]
        return vectors


def bilingual_passages(layout: Sequence[EmbedderPart], vectors: Vectors, japanese: npt.NDArray[np.bool_]) -> Vectors:
    """A pair's passage vectors as search compares them where a help center holds both languages.

    The English-only model's half of a Japanese question is the bridge's estimate, which lies further from
    the model's own vector of an English passage than from another estimate: a Japanese article would
    outrank the English one that answers (docs/decisions/0003-bilingual-passage-blend.md). So each
    English passage's half blends in the bridge's estimate of it (BRIDGE_SHARE_IN_ENGLISH_PASSAGES). The
    stored vectors, and English questions, keep the model's own. Other models' vectors come back as they are.
    """
    dims = multilingual_dims(layout)
    bridge = load_bridge(layout[0].model, layout[1].model) if dims else None
    english = np.flatnonzero(~japanese)
    if dims is None or bridge is None or not japanese.any() or not len(english):
        return vectors
    start, end = dims
    to_start, to_end = (end, vectors.shape[1]) if start == 0 else (0, start)
    blended = vectors.copy()
    # Each half of a joined vector has norm sqrt(1/2); the blend is of unit vectors, then scaled back.
    own = unit_rows(vectors[english, to_start:to_end])
    estimate = unit_rows(vectors[english, start:end] @ bridge)
    share = BRIDGE_SHARE_IN_ENGLISH_PASSAGES
    blended[english, to_start:to_end] = np.sqrt(0.5) * unit_rows((1 - share) * own + share * estimate)
    return blended


def bridge_path(first: str, second: str) -> Path:
    """Where the bridge between two models is kept, whichever of the two reads Japanese."""
    reader, english_only = (second, first) if first in ENGLISH_ONLY_MODELS else (first, second)
    return BRIDGES_DIR / f"{reader}--{english_only}.npy".replace("/", "_")


def load_bridge(first: str, second: str) -> Vectors | None:
    """The fitted bridge from the Japanese-reading model's space into the English-only one's, if there is one."""
    path = bridge_path(first, second)
    if (first in ENGLISH_ONLY_MODELS) == (second in ENGLISH_ONLY_MODELS) or not path.is_file():
        return None
    return np.ascontiguousarray(np.load(path), dtype=np.float32)
