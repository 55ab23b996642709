"""python -m bench.tune: choose the fusion on val splits (never test) and print each candidate's figures.

Candidates are reciprocal-rank fusion and convex fusions over a grid of the dense weight (alpha) and the
share of an article's lexical evidence that comes from the whole article (the rest: its best passage).
Each query's evidence is gathered once and ranked by every candidate. The best candidates by mean R@1
(per set and per query) are printed last, beside the default; retrieval/search.py's Fusion defaults are set by hand.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from tqdm import tqdm

from bench.datasets import default_datasets_dir, load_dataset
from bench.metrics import retrieval_metrics
from bench.run import write_result
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_from_articles
from indexer.embedders import DEFAULT_MODEL, load_embedder
from retrieval.calibration import FALLBACK
from retrieval.search import DEFAULT_FUSION, Fusion, SearchIndex, gather_evidence, rank_articles

ALPHAS = (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9)
WHOLE_ARTICLE_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
CANDIDATES = [Fusion("rrf")] + [
    Fusion("convex", alpha=alpha, whole_article=share) for alpha in ALPHAS for share in WHOLE_ARTICLE_SHARES
]


def candidate_key(fusion: Fusion) -> str:
    return f"{fusion.kind}:alpha={fusion.alpha}:whole_article={fusion.whole_article}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tune")
    parser.add_argument("--dataset", action="append", default=None)
    parser.add_argument("--datasets-dir", type=Path, default=default_datasets_dir())
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--sample", type=int, default=None, help="val queries per set (default: all)")
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    # The sets with val splits: content/ (ja and en) and two English intent sets.
    names = args.dataset or ["content", "clinc150", "banking77_oos"]
    embedder, analyzer = load_embedder(args.model), Analyzer()
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name in names:
        dataset = load_dataset(args.datasets_dir, name)
        index_dir = args.work_dir / name / embedder.name
        build_from_articles(dataset.articles, index_dir=index_dir, embedder=embedder, analyzer=analyzer)
        index = SearchIndex(store.load_current(index_dir), analyzer)
        queries = [q for q in dataset.split("val") if q.relevant]
        if not queries:
            parser.error(f"{name} has no val split: tuning never looks at test")
        if args.sample is not None:
            queries = random.Random(7).sample(queries, min(args.sample, len(queries)))
        ranked: dict[str, list[list[str]]] = {candidate_key(c): [] for c in CANDIDATES}
        for query in tqdm(queries, desc=name, leave=False):
            evidence = gather_evidence(index, embedder=embedder, text=query.text)
            for candidate in CANDIDATES:
                outcome = rank_articles(
                    index, evidence, calibration=FALLBACK, locale=query.locale, limit=10, fusion=candidate
                )
                ranked[candidate_key(candidate)].append([h.article.id for h in outcome.hits])
        table[name] = {
            key: retrieval_metrics(rows, [q.relevant for q in queries], [q.grades for q in queries])
            for key, rows in ranked.items()
        }
        for key, figures in table[name].items():
            print(
                f"{name:<14} {key:<36} R@1 {figures['R@1']:.3f} R@5 {figures['R@5']:.3f} "
                f"MRR@10 {figures['MRR@10']:.3f} (n={figures['n']})"
            )
    # Two averages, since the sets differ in size by 50x: each set counts once, or each query does.
    averages = {
        "per_set": {key: sum(table[name][key]["R@1"] for name in names) / len(names) for key in ranked},
        "per_query": {
            key: sum(table[name][key]["R@1"] * table[name][key]["n"] for name in names)
            / sum(table[name][key]["n"] for name in names)
            for key in ranked
        },
    }
    default = candidate_key(DEFAULT_FUSION)
    for kind, mean_r1 in averages.items():
        best = max(mean_r1, key=lambda key: mean_r1[key])
        print(f"mean val R@1 {kind}: best {best} {mean_r1[best]:.4f}; the default {default} {mean_r1[default]:.4f}")
    write_result("tune", {"model": embedder.name, "val": table, "mean_R@1": averages, "default": default})


if __name__ == "__main__":
    main()
