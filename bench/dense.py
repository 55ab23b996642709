"""python -m bench.dense: two-stage dense scoring against exact scoring, on the same index and queries.

For each set and each (coarse dimensions, rescored passages) pair: how often the first article and the first
five differ from exact scoring, R@1 and MRR@10 of both, how far the confidence moves, and search p50 with
each scorer, timed query by query in turn so that both see the same machine. `retrieval/dense.py`'s constants
were chosen with it on clinc150 val.

python -m bench.dense --dataset clinc150 --split val --coarse-dims 128,192 --refined 256,512,1024
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.datasets import Query, default_datasets_dir, load_dataset
from bench.metrics import percentile, retrieval_metrics
from bench.run import SharedPassageVectors, build_and_load, latency_sample, run_info, write_result
from indexer.analysis import Analyzer
from indexer.embedders import DEFAULT_MODEL, load_embedder
from retrieval.calibration import calibration_for, load_calibrations
from retrieval.dense import COARSE_DIMS, REFINED_PASSAGES, DenseScorer
from retrieval.search import (
    DEFAULT_FUSION,
    SearchIndex,
    gather_evidence,
    question_vectors,
    rank_articles,
    search_articles,
)

# The sets whose index with the default model is large enough to be scored in two stages.
LARGE_SETS = ("clinc150", "clinc150_gap", "banking77", "banking77_gap")
NEVER = 1 << 62  # a two-stage threshold no index reaches


def exact_scorer(dense: DenseScorer) -> DenseScorer:
    return scorer_with(dense, two_stage_min_bytes=NEVER)


def scorer_with(dense: DenseScorer, **options: int) -> DenseScorer:
    question = np.zeros(len(dense.vectors), dtype=bool)
    question[dense.question_rows] = True
    return DenseScorer(
        dense.vectors, passage_article=dense.passage_article, is_question=question, articles=dense.articles, **options
    )


def compare(
    index: SearchIndex, scorers: dict[str, DenseScorer], queries: list[Query], vectors: Any, *, embedder: Any
) -> dict[str, dict[str, float]]:
    """Each scorer's rankings and confidence against the first one's (exact), from vectors embedded beforehand."""
    calibration = calibration_for(embedder.name, load_calibrations())
    outcomes: dict[str, list[tuple[list[str], float]]] = {}
    for name, scorer in scorers.items():
        index.dense = scorer
        ranked = []
        for query, vector in tqdm(zip(queries, vectors, strict=True), total=len(queries), desc=name, leave=False):
            evidence = gather_evidence(index, embedder=embedder, text=query.text, query_vector=vector)
            outcome = rank_articles(index, evidence, calibration=calibration, limit=10, fusion=DEFAULT_FUSION)
            ranked.append(([hit.article.id for hit in outcome.hits], outcome.confidence))
        outcomes[name] = ranked
    exact = next(iter(outcomes.values()))
    answerable = [i for i, query in enumerate(queries) if query.relevant]
    figures = {}
    for name, ranked in outcomes.items():
        moved = np.abs(np.array([c for _, c in ranked]) - np.array([c for _, c in exact]))
        figures[name] = {
            "first_article_differs": _share(a[:1] != b[:1] for (a, _), (b, _) in zip(ranked, exact, strict=True)),
            "first_five_differ_as_a_set": _share(
                set(a[:5]) != set(b[:5]) for (a, _), (b, _) in zip(ranked, exact, strict=True)
            ),
            "first_five_differ_in_order": _share(a[:5] != b[:5] for (a, _), (b, _) in zip(ranked, exact, strict=True)),
            **{
                metric: value
                for metric, value in retrieval_metrics(
                    [ranked[i][0] for i in answerable],
                    [queries[i].relevant for i in answerable],
                    [queries[i].grades for i in answerable],
                ).items()
                if metric in ("R@1", "MRR@10")
            },
            "confidence_moved_p99": float(np.quantile(moved, 0.99)),
            "confidence_moved_max": float(moved.max()),
        }
    return figures


def time_scorers(
    index: SearchIndex, scorers: dict[str, DenseScorer], queries: list[Query], *, embedder: Any
) -> dict[str, float]:
    """Search p50 (ms, encoding included) with each scorer, the scorers taking turns on every query."""
    calibration = calibration_for(embedder.name, load_calibrations())
    times: dict[str, list[float]] = {name: [] for name in scorers}
    for query in tqdm(queries, desc="timing", unit="query", leave=False):
        for name, scorer in scorers.items():
            index.dense = scorer
            started = time.perf_counter()
            search_articles(index, embedder=embedder, calibration=calibration, text=query.text, limit=5)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: round(percentile(values, 50), 3) for name, values in times.items()}


def _share(flags: Any) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", action="append", help=f"repeatable (default: {', '.join(LARGE_SETS)})")
    parser.add_argument("--datasets-dir", type=Path, default=default_datasets_dir())
    parser.add_argument("--split", default="val", help="whose queries are compared (timing uses test)")
    parser.add_argument("--coarse-dims", default=str(COARSE_DIMS), help="comma-separated")
    parser.add_argument("--refined", default=str(REFINED_PASSAGES), help="comma-separated passages rescored exactly")
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench"), help="cached index builds")
    args = parser.parse_args()
    started = time.perf_counter()
    analyzer, embedder = Analyzer(), SharedPassageVectors(load_embedder(DEFAULT_MODEL))
    results: dict[str, Any] = {"run": run_info({k: str(v) for k, v in vars(args).items()}), "sets": {}}
    for name in args.dataset or LARGE_SETS:
        dataset = load_dataset(args.datasets_dir, name)
        queries = [q for q in dataset.queries if q.split == args.split]
        if not queries:
            print(f"{name}: no {args.split} queries, skipped")
            continue
        index = build_and_load(dataset, embedder=embedder, analyzer=analyzer, work_dir=args.work_dir)
        scorers = {"exact": exact_scorer(index.dense)}
        for dims in map(int, args.coarse_dims.split(",")):
            for refined in map(int, args.refined.split(",")):
                scorers[f"{dims} dims, {refined} rescored"] = scorer_with(
                    index.dense, two_stage_min_bytes=0, coarse_dims=dims, refined_passages=refined
                )
        vectors = question_vectors(embedder, [q.text for q in queries], index)
        figures = compare(index, scorers, queries, vectors, embedder=embedder)
        p50 = time_scorers(index, scorers, latency_sample(dataset.queries), embedder=embedder)
        results["sets"][name] = {
            "passages": len(index.build.passages),
            "vector_mb": round(index.dense.vectors.nbytes / 2**20, 1),
            "split": args.split,
            "queries": len(queries),
            "scorers": {scorer: {**figures[scorer], "search_p50_ms": p50[scorer]} for scorer in scorers},
        }
        print(f"\n{name} ({len(index.build.passages)} passages, {len(queries)} {args.split} queries)")
        print(
            "| scorer | first differs | first five (set / order) | R@1 | MRR@10 | confidence moved p99 / max "
            "| search p50 ms |"
        )
        print("|---|---|---|---|---|---|---|")
        for scorer, f in results["sets"][name]["scorers"].items():
            print(
                f"| {scorer} | {f['first_article_differs']:.4f} | {f['first_five_differ_as_a_set']:.3f} / "
                f"{f['first_five_differ_in_order']:.3f} | {f['R@1']:.4f} | {f['MRR@10']:.4f} | "
                f"{f['confidence_moved_p99']:.4f} / {f['confidence_moved_max']:.3f} | {f['search_p50_ms']:.2f} |"
            )
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_result("dense", results)


if __name__ == "__main__":
    main()
