"""BatchingEmbedder: queries asked while the model is busy are encoded together, each caller gets its own."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from indexer.embedders import BatchingEmbedder, Vectors
from tests.fakes import HashingEmbedder


class GatedEmbedder(HashingEmbedder):
    """Records each batch; the first one blocks until the test opens the gate, so others queue behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.started, self.gate = threading.Event(), threading.Event()
        self.fail_on: str | None = None
        self.stop_on: str | None = None

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.batches.append(list(texts))
        if len(self.batches) == 1:
            self.started.set()
            self.gate.wait(5)
        if self.fail_on in texts:
            raise RuntimeError("model failed (planted by the test)")
        if self.stop_on in texts:
            raise Stopped
        return super().embed_queries(texts)


class Stopped(BaseException):
    """An interrupt, as KeyboardInterrupt or SystemExit reach a thread."""


def _batcher(inner: HashingEmbedder, **options: int) -> tuple[BatchingEmbedder, Counter[int]]:
    """A batcher and the count of its batches by size."""
    sizes: Counter[int] = Counter()
    return BatchingEmbedder(inner, on_batch=lambda size: sizes.update([size]), **options), sizes


def _ask_concurrently(batcher: BatchingEmbedder, inner: GatedEmbedder, texts: list[str]) -> dict[str, object]:
    """The first text is asked alone; the others while it is being encoded. Returns text -> vector or error."""
    answers: dict[str, object] = {}

    def ask(text: str) -> None:
        try:
            answers[text] = batcher.embed_queries([text])[0]
        except (RuntimeError, Stopped) as exc:
            answers[text] = exc

    first = threading.Thread(target=ask, args=(texts[0],))
    first.start()
    assert inner.started.wait(5)
    others = [threading.Thread(target=ask, args=(text,)) for text in texts[1:]]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 5
    while len(batcher._queue) < len(others) and time.monotonic() < deadline:  # all queued behind the first
        time.sleep(0.005)
    inner.gate.set()
    for thread in [first, *others]:
        thread.join(5)
    return answers


def test_queries_asked_while_the_model_is_busy_go_in_one_batch_and_each_caller_gets_its_own_vector() -> None:
    inner = GatedEmbedder()
    batcher, batch_sizes = _batcher(inner)
    texts = ["パスワードを忘れた", "invoice download", "打刻を修正したい", "webhook", "有給休暇"]

    answers = _ask_concurrently(batcher, inner, texts)

    assert inner.batches[0] == texts[:1]
    assert sorted(inner.batches[1]) == sorted(texts[1:])
    assert len(inner.batches) == 2
    reference = HashingEmbedder()
    for text in texts:
        np.testing.assert_allclose(answers[text], reference.embed_queries([text])[0])
    assert batch_sizes == {1: 1, 4: 1}


def test_a_query_asked_while_the_model_is_idle_is_encoded_at_once() -> None:
    inner = HashingEmbedder()
    batcher, batch_sizes = _batcher(inner)
    for text in ["one", "two"]:
        np.testing.assert_allclose(batcher.embed_queries([text]), inner.embed_queries([text]))
    assert batch_sizes == {1: 2}


def test_a_batch_holds_at_most_max_batch_queries() -> None:
    inner = GatedEmbedder()
    batcher, batch_sizes = _batcher(inner, max_batch=2)
    texts = ["a question", "b question", "c question", "d question", "e question"]

    answers = _ask_concurrently(batcher, inner, texts)

    assert [len(batch) for batch in inner.batches] == [1, 2, 2]
    assert all(isinstance(answers[text], np.ndarray) for text in texts)


def test_a_model_error_reaches_every_caller_in_its_batch_and_the_next_query_still_works() -> None:
    inner = GatedEmbedder()
    inner.fail_on = "poison"
    batcher, batch_sizes = _batcher(inner)

    answers = _ask_concurrently(batcher, inner, ["first", "poison", "bystander"])

    assert isinstance(answers["first"], np.ndarray)
    assert isinstance(answers["poison"], RuntimeError)
    assert isinstance(answers["bystander"], RuntimeError)  # it shared the failed batch
    assert batcher.embed_queries(["afterwards"]).shape == (1, inner.dim)


def test_documents_pass_straight_through() -> None:
    inner = HashingEmbedder()
    batcher, batch_sizes = _batcher(inner)
    assert batcher.embed_documents(["a", "b"]).shape == (2, inner.dim)
    assert inner.documents_embedded == 2
    assert not batch_sizes


def test_the_wrapped_name_and_dimension_are_the_models() -> None:
    inner = HashingEmbedder()
    batcher, batch_sizes = _batcher(inner)
    assert (batcher.name, batcher.dim) == (inner.name, inner.dim)


def test_many_threads_hammering_the_batcher_all_get_answers() -> None:
    callers = 8
    inner = HashingEmbedder()
    batcher, batch_sizes = _batcher(inner, max_batch=4)
    results: dict[int, Vectors] = {}

    def ask(n: int) -> None:
        for round_ in range(50):
            results[n * 100 + round_] = batcher.embed_queries([f"question {n} {round_}"])

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == callers * 50
    for key, vectors in results.items():
        np.testing.assert_allclose(vectors, inner.embed_queries([f"question {key // 100} {key % 100}"]))
    assert sum(size * count for size, count in batch_sizes.items()) == callers * 50


def test_an_interrupt_in_the_model_reaches_its_thread_and_errors_the_rest_of_the_batch() -> None:
    inner = GatedEmbedder()
    inner.stop_on = "interrupted"
    batcher, _ = _batcher(inner)

    answers = _ask_concurrently(batcher, inner, ["first", "interrupted", "bystander"])

    assert isinstance(answers["first"], np.ndarray)
    # Whichever of the two encoded their batch gets the interrupt itself, the other an EmbedderError.
    assert sorted(type(answers[text]).__name__ for text in ("interrupted", "bystander")) == ["EmbedderError", "Stopped"]
    assert batcher.embed_queries(["afterwards"]).shape == (1, inner.dim)
