"""Test doubles: a deterministic embedder that needs no model, for fast unit tests."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

import numpy as np

from indexer.embedders import Vectors


class HashingEmbedder:
    """Character-trigram hashing into a small space: texts that share characters come out close.

    Deterministic and instant; it stands in for a model in unit tests, never in end-to-end ones.
    """

    name = "test-hashing-embedder"
    dim = 64

    def __init__(self) -> None:
        self.documents_embedded = 0
        self.fail_after: int | None = None

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.documents_embedded += len(texts)
        if self.fail_after is not None and self.documents_embedded > self.fail_after:
            raise RuntimeError("embedder failed mid-build (planted by the test)")
        return self.embed_queries(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return np.vstack([self._vector(text) for text in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def _vector(self, text: str) -> Vectors:
        folded = unicodedata.normalize("NFKC", text).lower()
        vector = np.zeros(self.dim, dtype=np.float32)
        for i in range(max(1, len(folded) - 2)):
            gram = folded[i : i + 3]
            vector[int(hashlib.md5(gram.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector
