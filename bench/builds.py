"""Index every set of a benchmark run before any query is answered, one process per core.

From scratch, index builds are most of a run: each embedder runs on one thread, as it serves queries. They
measure indexing, not search, so they run first, side by side, and the queries after them run alone. Sets
that share passages (banking77 and its _gap and _oos variants, say) are built in turn by one process, so
that each shared passage is still embedded once.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.datasets import Dataset, load_dataset
from bench.run import BuildFigures, SharedPassageVectors, build_dataset
from indexer.analysis import Analyzer
from indexer.chunking import split_passages
from indexer.embedding import Embedder, load_embedder

# Embedding time per character against USE's (from the full run's passages/s), to start the longest work first.
MODEL_COST = {"multilingual-e5-small-q4": 12.0, "all-MiniLM-L6-v2": 4.0}
# Two sets are one family when this share of the smaller one's passages is in the other.
FAMILY_OVERLAP = 0.05


@dataclass(frozen=True)
class BuildTask:
    model: str
    datasets: tuple[str, ...]  # built in turn by one process, sharing its embedded passages
    passages: int
    cost: float  # characters to embed x the model's cost per character: only orders the tasks


def plan_builds(runs: Sequence[tuple[str, Sequence[str]]], datasets: dict[str, Dataset]) -> list[BuildTask]:
    """One task per model and family of sets that share passages, the costliest first."""
    passages = {name: _passage_texts(datasets[name]) for _, names in runs for name in names}
    texts = {name: set(listed) for name, listed in passages.items()}
    tasks = []
    for model, names in runs:
        for family in _families(list(names), texts):
            distinct = set().union(*(texts[name] for name in family))
            cost = sum(map(len, distinct)) * MODEL_COST.get(model, 1.0)
            tasks.append(BuildTask(model, tuple(family), sum(len(passages[name]) for name in family), cost))
    return sorted(tasks, key=lambda task: -task.cost)


def _families(names: list[str], texts: dict[str, set[str]]) -> list[list[str]]:
    family = {name: name for name in names}

    def root(name: str) -> str:
        while family[name] != name:
            name = family[name]
        return name

    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            smaller = min(len(texts[a]), len(texts[b])) or 1
            if len(texts[a] & texts[b]) >= FAMILY_OVERLAP * smaller:
                family[root(b)] = root(a)
    grouped: dict[str, list[str]] = {}
    for name in names:  # in the run's order within a family: a base set before its variants
        grouped.setdefault(root(name), []).append(name)
    return list(grouped.values())


def build_all(
    tasks: list[BuildTask], *, datasets_dir: Path, work_dir: Path, workers: int
) -> dict[tuple[str, str], BuildFigures]:
    """Every task's builds, `workers` at a time; figures by (model, data set). A failed build fails the run."""
    figures: dict[tuple[str, str], BuildFigures] = {}
    with tqdm(total=sum(t.passages for t in tasks), desc="indexing", unit="passage") as bar:
        if workers <= 1:
            for task in tasks:
                figures.update(_build_task(task, datasets_dir, work_dir, bar.update))
            return figures
        # spawn, not fork: the parent may hold a loaded model and BLAS threads, which a fork would copy half-made.
        context = multiprocessing.get_context("spawn")
        with (
            context.Manager() as manager,
            ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_one_thread) as pool,
        ):
            progress: Any = manager.Queue()
            pending: set[Future[dict[tuple[str, str], BuildFigures]]] = {
                pool.submit(_build_task, task, datasets_dir, work_dir, progress.put) for task in tasks
            }
            while pending:
                try:
                    bar.update(progress.get(timeout=0.2))
                except queue.Empty:
                    pass
                for future in [f for f in pending if f.done()]:
                    pending.remove(future)
                    figures.update(future.result())
            while not progress.empty():
                bar.update(progress.get())
    return figures


def _one_thread() -> None:
    # One core per process: a model's own threads would fight the other builder for the second core.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


_MODELS: dict[str, Embedder] = {}  # per builder process: each model is loaded once, for all its tasks


def _build_task(
    task: BuildTask, datasets_dir: Path, work_dir: Path, advance: Callable[[int], object]
) -> dict[tuple[str, str], BuildFigures]:
    if task.model not in _MODELS:
        _MODELS[task.model] = load_embedder(task.model)
        _MODELS[task.model].embed_queries(["warm-up"])  # loads lazy weights, which no build should be timed with
    embedder = SharedPassageVectors(_MODELS[task.model])  # shared within the family, then freed
    analyzer = Analyzer()
    figures = {}
    for name in task.datasets:
        dataset = load_dataset(datasets_dir, name)
        reported = 0

        def progress(done: int, _total: int) -> None:
            nonlocal reported
            advance(done - reported)
            reported = done

        figures[(task.model, name)] = build_dataset(
            dataset, embedder=embedder, analyzer=analyzer, work_dir=work_dir, on_progress=progress
        )
        # The bar counts every passage of the set, embedded or not (shared, or unchanged since the last run).
        advance(len(_passage_texts(dataset)) - reported)
    return figures


def _passage_texts(dataset: Dataset) -> list[str]:
    return [passage.embedding_text for article in dataset.articles for passage in split_passages(article)]
