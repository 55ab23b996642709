"""Index every set of a benchmark run and rank its queries, one process per core, before anything is timed.

Indexing and ranking are most of a run, and each model computes on one thread, as it serves queries. None of
that work is timed, so it runs side by side on every core; the latency sample is timed afterwards, alone on a
quiet machine (bench/__main__.py). Sets that share passages (banking77 and its _gap and _oos variants, say)
go to one process in turn, so that each shared passage is still embedded once.
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
from bench.run import RankedSet, SharedPassageVectors, index_and_rank, select_queries
from indexer.analysis import Analyzer
from indexer.chunking import split_passages
from indexer.embedders import Embedder, load_embedder
from retrieval.calibration import calibration_for, load_calibrations

# Embedding time per character against USE's (passages/s on the hint3 sets), to start the longest work first.
MODEL_COST = {"multilingual-e5-small-q4": 18.0, "all-MiniLM-L6-v2": 6.0, "all-MiniLM-L6-v2-int8": 8.0}
# Two sets are one family when this share of the smaller one's passages is in the other.
FAMILY_OVERLAP = 0.05


@dataclass(frozen=True)
class SetTask:
    model: str
    datasets: tuple[str, ...]  # indexed in turn by one process, sharing its embedded passages
    steps: int  # passages to index and queries to rank: the progress bar's share of this task
    cost: float  # characters to embed x the model's cost per character: only orders the tasks


def plan_tasks(
    runs: Sequence[tuple[str, Sequence[str]]], datasets: dict[str, Dataset], *, quick: int | None
) -> list[SetTask]:
    """One task per model and family of sets that share passages, the costliest first."""
    passages = {name: _passage_texts(datasets[name]) for _, names in runs for name in names}
    texts = {name: set(listed) for name, listed in passages.items()}
    tasks = []
    for model, names in runs:
        for family in _families(list(names), texts):
            distinct = set().union(*(texts[name] for name in family))
            # A pair of models ("a+b") embeds every passage with both.
            cost = sum(map(len, distinct)) * sum(MODEL_COST.get(part, 1.0) for part in model.split("+"))
            steps = sum(len(passages[name]) + len(select_queries(datasets[name], quick)) for name in family)
            tasks.append(SetTask(model, tuple(family), steps, cost))
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


def run_tasks(
    tasks: list[SetTask], *, datasets_dir: Path, work_dir: Path, quick: int | None, workers: int
) -> dict[tuple[str, str], RankedSet]:
    """Every task, `workers` at a time; each set's result by (model, data set). A failure fails the run."""
    ranked: dict[tuple[str, str], RankedSet] = {}
    with tqdm(total=sum(t.steps for t in tasks), desc="indexing and ranking", unit="step") as bar:
        if workers <= 1:
            for task in tasks:
                ranked.update(_run_task(task, datasets_dir, work_dir, quick, bar.update))
            return ranked
        # spawn, not fork: the parent may hold a loaded model and BLAS threads, which a fork would copy half-made.
        context = multiprocessing.get_context("spawn")
        with (
            context.Manager() as manager,
            ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_one_thread) as pool,
        ):
            progress: Any = manager.Queue()
            pending: set[Future[dict[tuple[str, str], RankedSet]]] = {
                pool.submit(_run_task, task, datasets_dir, work_dir, quick, progress.put) for task in tasks
            }
            try:
                while pending:
                    try:
                        bar.update(progress.get(timeout=0.2))
                    except queue.Empty:
                        pass
                    for future in [f for f in pending if f.done()]:
                        pending.remove(future)
                        ranked.update(future.result())
            except BaseException:
                pool.shutdown(cancel_futures=True)  # a failed (or interrupted) run indexes nothing more
                raise
            while not progress.empty():
                bar.update(progress.get())
    return ranked


def _one_thread() -> None:
    # One core per process: a model's own threads would fight the other process for the second core.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


_MODELS: dict[str, Embedder] = {}  # per process: each model is loaded once, for all its tasks


def loaded_model(name: str) -> Embedder:
    """The model, loaded once per process and warmed: lazy weights load before anything is measured."""
    if name not in _MODELS:
        _MODELS[name] = load_embedder(name)
        _MODELS[name].embed_queries(["warm-up"])
    return _MODELS[name]


def _run_task(
    task: SetTask, datasets_dir: Path, work_dir: Path, quick: int | None, advance: Callable[[int], object]
) -> dict[tuple[str, str], RankedSet]:
    embedder = SharedPassageVectors(loaded_model(task.model))  # shared within the family, then freed
    calibration = calibration_for(embedder.name, load_calibrations())
    analyzer = Analyzer()
    ranked = {}
    for name in task.datasets:
        ranked[(task.model, name)] = index_and_rank(
            load_dataset(datasets_dir, name),
            embedder=embedder,
            analyzer=analyzer,
            work_dir=work_dir,
            calibration=calibration,
            quick=quick,
            advance=advance,
        )
    return ranked


def _passage_texts(dataset: Dataset) -> list[str]:
    return [passage.embedding_text for article in dataset.articles for passage in split_passages(article)]
