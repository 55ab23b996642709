"""The embedder protocol every model meets, and what a build records of the model that made it.

Every embedder returns L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class EmbedderError(RuntimeError):
    """The configured model cannot be loaded."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors: ...

    # Queries apart from documents: some models mark them differently (e5's "query: " prefix).
    def embed_queries(self, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True)
class EmbedderPart:
    """One model's share of an embedder's vectors: a pair has two, side by side, in this order."""

    model: str
    dim: int
    reads_japanese: bool


def unit_rows(vectors: Any) -> Vectors:
    """Each row scaled to unit length (a 1-D vector becomes one row); zero rows stay zero."""
    array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)
