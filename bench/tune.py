"""python -m bench.tune: choose the fusion on val splits (never test) and print each candidate's figures."""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from tqdm import tqdm

from app.calibration import FALLBACK
from app.search import Fusion, SearchIndex, gather_evidence, rank_articles
from bench.datasets import default_datasets_dir, load_dataset
from bench.metrics import retrieval_metrics
from bench.run import write_json
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_from_articles
from indexer.embedding import DEFAULT_MODEL, load_embedder

CANDIDATES = [Fusion("rrf")] + [Fusion("convex", alpha=a) for a in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tune")
    parser.add_argument("--dataset", action="append", default=None)
    parser.add_argument("--datasets-dir", type=Path, default=default_datasets_dir())
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--sample", type=int, default=400)
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    names = args.dataset or ["content", "clinc150", "banking77_oos", "hint3_v1_curekart"]
    embedder, analyzer = load_embedder(args.model), Analyzer()
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name in names:
        dataset = load_dataset(args.datasets_dir, name)
        index_dir = args.work_dir / name / embedder.name
        build_from_articles(dataset.articles, index_dir=index_dir, embedder=embedder, analyzer=analyzer)
        index = SearchIndex(store.load_current(index_dir), analyzer)
        split = "val" if dataset.split("val") else "train"
        queries = [q for q in dataset.split(split) if q.relevant]
        queries = random.Random(7).sample(queries, min(args.sample, len(queries)))
        ranked: dict[str, list[list[str]]] = {f"{c.kind}:{c.alpha}": [] for c in CANDIDATES}
        for query in tqdm(queries, desc=name, leave=False):
            evidence = gather_evidence(index, embedder=embedder, text=query.text)
            for candidate in CANDIDATES:
                outcome = rank_articles(
                    index, evidence, calibration=FALLBACK, locale=query.locale, limit=10, fusion=candidate
                )
                ranked[f"{candidate.kind}:{candidate.alpha}"].append([h.article.id for h in outcome.hits])
        table[name] = {
            key: retrieval_metrics(rows, [q.relevant for q in queries], [q.grades for q in queries])
            for key, rows in ranked.items()
        }
        for key, figures in table[name].items():
            print(
                f"{name:<20} {key:<12} R@1 {figures['R@1']:.3f} R@5 {figures['R@5']:.3f} "
                f"MRR@10 {figures['MRR@10']:.3f} (n={figures['n']})"
            )
    write_json(
        Path("bench/results") / f"{time.strftime('%Y%m%dT%H%M%S')}-tune.json", {"model": embedder.name, "val": table}
    )


if __name__ == "__main__":
    main()
