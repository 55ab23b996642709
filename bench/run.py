"""One benchmark run: index each data set through the real indexer, answer its queries through the
search code the API uses, and report quality, gap detection and speed per model and retrieval mode."""

from __future__ import annotations

import json
import platform
import random
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from app.suggestions import DEFAULT_LIMIT
from bench.datasets import Dataset, Query
from bench.metrics import auroc, best_threshold, gap_decisions, percentile, retrieval_metrics
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import ProgressCallback, build_from_articles
from indexer.embedders import Embedder, Vectors
from retrieval.calibration import Calibration
from retrieval.display import DEFAULT_THRESHOLDS, shown_set
from retrieval.search import (
    DEFAULT_FUSION,
    DENSE_ONLY,
    LEXICAL_ONLY,
    Fusion,
    SearchIndex,
    gather_evidence,
    question_vectors,
    rank_articles,
    search_articles,
)
from retrieval.vocabulary import Label

# What building one set's index took: seconds, passages embedded, and passages/s where the model did most.
BuildFigures = dict[str, Any]
MODES: dict[str, Fusion] = {
    "hybrid": DEFAULT_FUSION,
    "hybrid-rrf": Fusion("rrf"),
    "dense": DENSE_ONLY,
    "lexical": LEXICAL_ONLY,
}
PRODUCT_LOW_CONFIDENCE = DEFAULT_THRESHOLDS[1]
# Test queries per set timed one by one, as the API answers them, once every set is ranked. Ranking encodes
# all queries in batches, which ranks them the same in a fraction of the time. With 300, the p95 rests on
# the slowest 15.
LATENCY_SAMPLE = 300
QUERY_BATCH = 64
SEED = 13  # of the quick run's query sample and of the latency sample


@dataclass
class QueryOutcome:
    query: Query
    ranked: dict[str, list[str]] = field(default_factory=dict)  # mode -> top 10 article ids
    confidence: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    # As served with the default display policy and thresholds: channel -> the article ids shown.
    shown: dict[str, list[str]] = field(default_factory=dict)
    form_label: str = Label.NO_ANSWER
    form_confidence: float = 0.0


class SharedPassageVectors:
    """An embedder that embeds each distinct passage text once, for a family of sets built in turn.

    Most sets have variants built from the same articles (localgovfaq_gap, banking77_oos, clinc150_gap,
    stackfaq_gap), each in its own index. Embedding their shared passages again took about 45 s of a
    quick run from scratch, and measured nothing new. Queries are never cached.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.embedded = 0  # passages the model itself has embedded so far
        self._vectors: dict[str, Vectors] = {}

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        new = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if new:
            self._vectors.update(zip(new, self.inner.embed_documents(new), strict=True))
            self.embedded += len(new)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vectors[text] for text in texts])

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_queries(texts)


def build_dataset(
    dataset: Dataset,
    *,
    embedder: SharedPassageVectors,
    analyzer: Analyzer,
    work_dir: Path,
    on_progress: ProgressCallback,
) -> BuildFigures:
    """Index one data set with one model through the real indexer (incrementally: a current build is kept)."""
    started, embedded_before = time.perf_counter(), embedder.embedded
    report = build_from_articles(
        dataset.articles,
        index_dir=index_dir_for(work_dir, dataset.name, embedder.name),
        embedder=embedder,
        analyzer=analyzer,
        on_progress=on_progress,
    )
    build_seconds = time.perf_counter() - started
    embedded = embedder.embedded - embedded_before
    return {
        "seconds": round(build_seconds, 2),
        "embedded_passages": report.embedded_passages,
        "embedded_by_model": embedded,  # the rest were already embedded for another set this run
        # Only a build that mostly went through the model says how fast the model indexes.
        "passages_per_second": round(embedded / build_seconds, 1)
        if embedded >= 0.9 * report.embedded_passages > 0
        else None,
    }


def index_dir_for(work_dir: Path, dataset: str, model: str) -> Path:
    return work_dir / dataset / model.replace("/", "_")


@dataclass
class RankedSet:
    """One set indexed with one model and its queries ranked: everything but the latency sample."""

    build: BuildFigures
    passages: int
    outcomes: list[QueryOutcome]


def index_and_rank(
    dataset: Dataset,
    *,
    embedder: SharedPassageVectors,
    analyzer: Analyzer,
    work_dir: Path,
    calibration: Calibration,
    quick: int | None,
    advance: Callable[[int], object],
) -> RankedSet:
    """Index one set with one model and rank its val and test queries in every mode (nothing timed here).

    `advance` is told of each step done: a passage indexed (embedded or not), then a query ranked.
    """
    reported = 0

    def progress(done: int, _total: int) -> None:
        nonlocal reported
        advance(done - reported)
        reported = done

    build = build_dataset(dataset, embedder=embedder, analyzer=analyzer, work_dir=work_dir, on_progress=progress)
    index = load_index(work_dir, dataset.name, embedder.name, analyzer)
    advance(len(index.build.passages) - reported)  # shared or unchanged passages count as indexed too
    outcomes: list[QueryOutcome] = []
    queries = select_queries(dataset, quick)
    for start in range(0, len(queries), QUERY_BATCH):
        batch = queries[start : start + QUERY_BATCH]
        vectors = question_vectors(embedder, [q.text for q in batch], index)
        outcomes += [
            _rank(index, embedder, calibration, query, vector) for query, vector in zip(batch, vectors, strict=True)
        ]
        advance(len(batch))
    return RankedSet(build, len(index.build.passages), outcomes)


def build_and_load(
    dataset: Dataset, *, embedder: SharedPassageVectors, analyzer: Analyzer, work_dir: Path
) -> SearchIndex:
    """Index one set with a progress bar (a current build is kept) and load it for search."""
    with tqdm(desc=f"{dataset.name}: indexing with {embedder.name}", unit="passage", leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        build_dataset(dataset, embedder=embedder, analyzer=analyzer, work_dir=work_dir, on_progress=progress)
    return load_index(work_dir, dataset.name, embedder.name, analyzer)


def load_index(work_dir: Path, dataset: str, model: str, analyzer: Analyzer) -> SearchIndex:
    return SearchIndex(store.load_current(index_dir_for(work_dir, dataset, model), expected_model=model), analyzer)


def select_queries(dataset: Dataset, quick: int | None, seed: int = SEED) -> list[Query]:
    """The val and test queries a run answers: all of them, or `quick` sampled from each split."""
    queries = [q for q in dataset.queries if q.split in ("test", "val")]
    if not quick:
        return queries
    rng = random.Random(seed)
    return [q for split in ("test", "val") for q in _sample([q for q in queries if q.split == split], quick, rng)]


def latency_sample(queries: list[Query], seed: int = SEED) -> list[Query]:
    """The test queries whose search is timed, one by one."""
    return _sample([q for q in queries if q.split == "test"], LATENCY_SAMPLE, random.Random(seed))


def time_searches(
    index: SearchIndex, embedder: Embedder, calibration: Calibration, queries: list[Query], *, desc: str = "timing"
) -> dict[str, float | str]:
    """Each question answered as the API answers it by default; p50 and p95, and the encoding's share of it.

    The bare encoding is timed inside the same search call, so both figures come from one answer.
    """
    timing = TimedQueryEncoder(embedder)
    encode, search = [], []
    for query in tqdm(queries, desc=desc, unit="query", leave=False):
        timing.seconds = 0.0
        started = time.perf_counter()
        search_articles(index, embedder=timing, calibration=calibration, text=query.text, limit=DEFAULT_LIMIT)
        search.append((time.perf_counter() - started) * 1000)
        encode.append(timing.seconds * 1000)
    return {**_speed(search, encode), "dense_scoring": "two-stage" if index.dense.coarse else "exact"}


class TimedQueryEncoder:
    """An embedder that adds up the time its query encodings take."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.seconds = 0.0

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_documents(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        started = time.perf_counter()
        try:
            return self.inner.embed_queries(texts)
        finally:
            self.seconds += time.perf_counter() - started


def set_figures(dataset: Dataset, model: str, ranked: RankedSet, speed: dict[str, float | str]) -> dict[str, Any]:
    test = [o for o in ranked.outcomes if o.query.split == "test"]
    return {
        "dataset": dataset.name,
        "model": model,
        "articles": len(dataset.articles),
        "passages": ranked.passages,
        "build": ranked.build,
        "modes": {mode: _quality(test, mode) for mode in MODES},
        "gap": _gap_figures(ranked.outcomes),
        "speed": speed,
    }


def _rank(
    index: SearchIndex, embedder: Embedder, calibration: Calibration, query: Query, vector: Vectors
) -> QueryOutcome:
    """Every mode's ranking from one set of evidence."""
    outcome = QueryOutcome(query)
    evidence = gather_evidence(index, embedder=embedder, text=query.text, query_vector=vector)
    for mode, fusion in MODES.items():
        result = rank_articles(index, evidence, calibration=calibration, limit=10, fusion=fusion)
        outcome.ranked[mode] = [hit.article.id for hit in result.hits]
        if mode == "hybrid":
            outcome.confidence = result.confidence
            outcome.features = dict(result.hits[0].features) if result.hits else {}
            search = shown_set(result.hits, channel="search", thresholds=DEFAULT_THRESHOLDS)
            form = shown_set(result.hits[:DEFAULT_LIMIT], channel="form", thresholds=DEFAULT_THRESHOLDS)
            outcome.shown = {
                channel: [hit.article.id for hit, _ in shown.hits]
                for channel, shown in (("search", search), ("form", form))
            }
            outcome.form_label, outcome.form_confidence = form.label, form.confidence
    return outcome


def _quality(outcomes: list[QueryOutcome], mode: str) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.query.relevant]
    figures: dict[str, Any] = _metrics(answerable, mode)
    for key, label in (("locale", lambda o: o.query.locale), ("kind", lambda o: o.query.kind)):
        groups: dict[str, list[QueryOutcome]] = {}
        for o in answerable:
            value = label(o)
            if value:
                groups.setdefault(value, []).append(o)
        if len(groups) > 1:
            figures[f"by_{key}"] = {value: _metrics(group, mode) for value, group in sorted(groups.items())}
    return figures


def _metrics(outcomes: list[QueryOutcome], mode: str) -> dict[str, Any]:
    figures: dict[str, Any] = retrieval_metrics(
        [o.ranked[mode] for o in outcomes], [o.query.relevant for o in outcomes], [o.query.grades for o in outcomes]
    )
    if mode == "hybrid":
        figures["as_served"] = served_metrics(outcomes)
    return figures


def served_metrics(outcomes: list[QueryOutcome]) -> dict[str, float]:
    """What answerable questions are shown: the search box's nDCG@10 and top 5, the form's top 3 and refusals."""
    search = retrieval_metrics(
        [o.shown["search"] for o in outcomes], [o.query.relevant for o in outcomes], [o.query.grades for o in outcomes]
    )
    n = max(1, len(outcomes))
    return {
        "search_nDCG@10": search["nDCG@10"],
        "search_shown_top5": search["R@5"],
        "form_shown_top3": round(sum(bool(set(o.shown["form"][:3]) & set(o.query.relevant)) for o in outcomes) / n, 4),
        "form_no_answer": round(sum(o.form_label == Label.NO_ANSWER for o in outcomes) / n, 4),
    }


def _gap_figures(outcomes: list[QueryOutcome]) -> dict[str, Any] | None:
    test = [o for o in outcomes if o.query.split == "test"]
    if not any(not o.query.relevant for o in test):
        return None
    figures: dict[str, Any] = {
        "answerable": sum(bool(o.query.relevant) for o in test),
        "unanswerable": sum(not o.query.relevant for o in test),
        "auroc": round(
            auroc(
                [o.confidence for o in test if o.query.relevant], [o.confidence for o in test if not o.query.relevant]
            ),
            4,
        ),
    }
    kinds = sorted({o.query.kind for o in test if not o.query.relevant and o.query.kind})
    for kind in kinds:
        figures[f"auroc_{kind}"] = round(
            auroc(
                [o.confidence for o in test if o.query.relevant], [o.confidence for o in test if o.query.kind == kind]
            ),
            4,
        )
    figures["at_product_threshold"] = _decisions(test, PRODUCT_LOW_CONFIDENCE)
    unanswerable = [o for o in test if not o.query.relevant]
    figures["as_served"] = {
        "form_auroc": round(
            auroc([o.form_confidence for o in test if o.query.relevant], [o.form_confidence for o in unanswerable]),
            4,
        ),
        "form_no_answer_unanswerable": round(
            sum(o.form_label == Label.NO_ANSWER for o in unanswerable) / len(unanswerable), 4
        ),
        "search_empty_unanswerable": round(sum(not o.shown["search"] for o in unanswerable) / len(unanswerable), 4),
    }
    val = [o for o in outcomes if o.query.split == "val"]
    if any(not o.query.relevant for o in val):
        threshold = best_threshold(
            [o.confidence for o in val], [_top1(o) for o in val], [bool(o.query.relevant) for o in val]
        )
        figures["at_val_threshold"] = _decisions(test, threshold)
    return figures


def _decisions(outcomes: list[QueryOutcome], threshold: float) -> dict[str, float]:
    return gap_decisions(
        [o.confidence for o in outcomes],
        [_top1(o) for o in outcomes],
        [bool(o.query.relevant) for o in outcomes],
        threshold,
    )


def _top1(outcome: QueryOutcome) -> bool:
    ranked = outcome.ranked["hybrid"]
    return bool(ranked) and ranked[0] in outcome.query.relevant


def _speed(search: list[float], encode: list[float]) -> dict[str, float]:
    p50_search, p50_encode = percentile(search, 50), percentile(encode, 50)
    return {
        "timed_queries": len(search),
        "search_p50_ms": round(p50_search, 3),
        "search_p95_ms": round(percentile(search, 95), 3),
        "encode_p50_ms": round(p50_encode, 3),
        "search_to_encode_ratio": round(p50_search / p50_encode, 3),
    }


def _sample(items: list[Query], k: int, rng: random.Random) -> list[Query]:
    return items if len(items) <= k else rng.sample(items, k)


def run_info(args: dict[str, Any]) -> dict[str, Any]:
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
            ).stdout.strip()
            or None
        )
    except OSError:
        commit = None
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": commit,
        "args": args,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": __import__("os").cpu_count(),
        },
    }


def peak_rss_mb(*, children: bool = False) -> float:
    """This process's peak resident memory, or with `children` that of its largest finished child."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return round(usage.ru_maxrss / 1024, 1)


def fit_confidence_model(
    features: np.ndarray,  # type: ignore[type-arg]
    labels: np.ndarray,  # type: ignore[type-arg]
    sample_weight: np.ndarray | None = None,  # type: ignore[type-arg]
    regularisation: float = 1.0,
) -> Any:
    """The logistic model behind retrieval/calibration.json: P(the top article is right) from its features."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=regularisation, max_iter=2000).fit(features, labels, sample_weight=sample_weight)


def write_result(kind: str, data: dict[str, Any]) -> Path:
    """Write a benchmark's figures as bench/results/<time>-<kind>.json, and say where (and how long it took)."""
    path = Path("bench/results") / f"{time.strftime('%Y%m%dT%H%M%S')}-{kind}.json"
    write_json(path, data)
    print(f"\nwrote {path}" + (f" ({data['seconds']} s)" if "seconds" in data else ""))
    return path


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
