"""BM25 over analysed terms (bm25s does the sparse scoring; the analyser decides what a term is)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt

# Lucene's defaults; FAQ passages are short, so length normalisation matters little either way.
K1 = 1.2
B = 0.75


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25, vocabulary: frozenset[str], size: int) -> None:
        self._retriever = retriever
        self._vocabulary = vocabulary
        self.size = size

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> LexicalIndex:
        retriever = bm25s.BM25(k1=K1, b=B)
        # bm25s wants at least one term per document, and one document; a term no query has fills in.
        corpus = [list(terms) or ["\x00"] for terms in documents]
        retriever.index(corpus or [["\x00"]], show_progress=False)
        return cls(retriever, frozenset(retriever.vocab_dict), len(corpus))

    def scores(self, terms: Sequence[str]) -> npt.NDArray[np.float32]:
        """BM25 score of every document for the query terms (zeros when none is known)."""
        known = [term for term in terms if term in self._vocabulary]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Lucene's BM25 idf of each term; a term no document has gets the largest possible idf."""
        result: dict[str, float] = {}
        for term in terms:
            if term not in result:
                df = self._document_frequency(term) if term in self._vocabulary else 0
                result[term] = float(np.log1p((self.size - df + 0.5) / (df + 0.5)))
        return result

    def _document_frequency(self, term: str) -> int:
        column = self._retriever.vocab_dict[term]
        indptr = self._retriever.scores["indptr"]
        return int(indptr[column + 1] - indptr[column])

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(directory), show_progress=False)
        return cls(retriever, frozenset(retriever.vocab_dict), size)
