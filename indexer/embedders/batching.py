"""One encoder call for the queries that arrive together: a wrapper around any embedder."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from indexer.embedders.base import Embedder, EmbedderError, Vectors


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
