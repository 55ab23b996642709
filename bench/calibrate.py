"""python -m bench.calibrate: fit the confidence on help-center-shaped data, judged on help centers it never saw.

The fit sets are development data only (val splits, never test): the development help centers (titles and
bodies, five kinds of question, planted gaps), each again with a quarter of its articles left out (its
questions become same-domain unanswerable ones). Every set weighs the same in the fit. The intent sets'
val splits are left out: with them, help centers held out fared worse (docs/decisions/0022-help-center-confidence.md).

Before writing, each help center is held out in turn (with its leave-article-out variant): the model is
fitted on the rest and scored on it, which is how a help center the fit never saw fares.

python -m bench.calibrate                  report held-out figures and write retrieval/calibration.json for the model
python -m bench.calibrate --dry-run        report only

A model that reads no Japanese is fitted on the English articles and questions alone, as it would serve.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

import retrieval.calibration as calibration_module
from bench.datasets import Dataset, default_datasets_dir, helpcenter_names, load_dataset
from bench.metrics import auroc
from bench.run import SharedPassageVectors, build_and_load, fit_confidence_model, run_info, write_result
from indexer.analysis import Analyzer
from indexer.embedders import DEFAULT_MODEL, is_japanese_text, load_embedder
from indexer.embedders.packaged import ENGLISH_ONLY_MODELS
from retrieval.calibration import FEATURES, Calibration
from retrieval.search import gather_evidence, question_vectors, rank_articles

# The logistic fit's inverse regularisation: chosen by the mean held-out AUROC over the help centers.
REGULARISATION = 3.0
CALIBRATION_FILE = Path(calibration_module.__file__).with_name("calibration.json")
# Constant stand-in for the calibration while features are gathered: features do not depend on it.
NEUTRAL = Calibration(weights={}, bias=0.0)


@dataclass
class SetRows:
    """One fit set's top-hit features, whether that hit is right, and whether the question is answerable."""

    name: str
    family: str  # the help center a leave-article-out variant comes from: held out together
    features: npt.NDArray[np.float64]
    right: npt.NDArray[np.int_]
    answerable: npt.NDArray[np.bool_]


def gather(name: str, *, embedder: SharedPassageVectors, analyzer: Analyzer, work_dir: Path) -> SetRows:
    """Index one fit set and rank its val questions; the top hit's features of each."""
    dataset = load_dataset(default_datasets_dir(), name)
    if embedder.name in ENGLISH_ONLY_MODELS:
        dataset = english_part(dataset)
    queries = [q for q in dataset.queries if q.split == "val"]
    index = build_and_load(dataset, embedder=embedder, analyzer=analyzer, work_dir=work_dir)
    features, right = [], []
    group_of = {article.id: article.group_id for article in dataset.articles}
    vectors = question_vectors(embedder, [q.text for q in queries], index)
    for query, vector in tqdm(zip(queries, vectors, strict=True), total=len(queries), desc=name, leave=False):
        evidence = gather_evidence(index, embedder=embedder, text=query.text, query_vector=vector)
        hits = rank_articles(index, evidence, calibration=NEUTRAL, locale=query.locale, limit=2).hits
        features.append([hits[0].features[f] if hits else 0.0 for f in FEATURES])
        right.append(bool(hits) and hits[0].article.group_id in {group_of.get(r, r) for r in query.relevant})
    return SetRows(
        name=name,
        family=name.removesuffix("_lao"),
        features=np.array(features, dtype=np.float64),
        right=np.array(right, dtype=int),
        answerable=np.array([bool(q.relevant) for q in queries]),
    )


def english_part(dataset: Dataset) -> Dataset:
    """The help center as a model that reads no Japanese serves it: its English articles and questions.

    A question only Japanese articles answered is left out, not made unanswerable: it may be answered in Japanese.
    """
    articles = [a for a in dataset.articles if not is_japanese_text(a.title)]
    kept = {a.id for a in articles}
    queries = []
    for query in dataset.queries:
        relevant = tuple(r for r in query.relevant if r in kept)
        if not is_japanese_text(query.text) and (relevant or not query.relevant):
            queries.append(replace(query, relevant=relevant))
    return Dataset(f"{dataset.name}-en", articles, queries)


def fit(rows: list[SetRows]) -> Any:
    """The logistic model over every set's rows, each set weighing the same."""
    features = np.vstack([r.features for r in rows])
    labels = np.concatenate([r.right for r in rows])
    weights = np.concatenate([np.full(len(r.right), 1.0 / max(1, len(r.right))) for r in rows])
    return fit_confidence_model(
        features, labels, sample_weight=weights * len(labels) / len(rows), regularisation=REGULARISATION
    )


def held_out_figures(rows: list[SetRows]) -> dict[str, dict[str, float]]:
    """Each help center's AUROCs under a model fitted without it (and without its variant)."""
    figures = {}
    for family in sorted({r.family for r in rows}):
        model = fit([r for r in rows if r.family != family])
        for held in (r for r in rows if r.family == family):
            confidence = model.predict_proba(held.features)[:, 1]
            figures[held.name] = {
                # Answerable against unanswerable: what the inquiry form's judgement rests on.
                "auroc_answerable": round(
                    auroc(confidence[held.answerable].tolist(), confidence[~held.answerable].tolist()), 4
                ),
                # A right first article against a wrong one or none.
                "auroc_right": round(
                    auroc(confidence[held.right == 1].tolist(), confidence[held.right == 0].tolist()), 4
                ),
                "questions": len(held.right),
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.calibrate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench"), help="cached index builds")
    parser.add_argument("--dry-run", action="store_true", help="report only; leave retrieval/calibration.json alone")
    args = parser.parse_args()
    started = time.perf_counter()
    embedder, analyzer = SharedPassageVectors(load_embedder(args.model)), Analyzer()
    names = [n for hc in helpcenter_names() for n in (hc, f"{hc}_lao")]
    rows = [gather(name, embedder=embedder, analyzer=analyzer, work_dir=args.work_dir) for name in names]
    held_out = held_out_figures(rows)
    for name, row in held_out.items():
        print(f"{name:<22} held out: AUROC answerable {row['auroc_answerable']:.3f}, right {row['auroc_right']:.3f}")
    answerable = [row["auroc_answerable"] for row in held_out.values()]
    print(f"mean held-out AUROC, answerable against unanswerable: {np.mean(answerable):.3f}")
    model = fit(rows)
    entry = {
        "weights": {name: round(float(w), 4) for name, w in zip(FEATURES, model.coef_[0], strict=True)},
        "bias": round(float(model.intercept_[0]), 4),
        "fitted_on": f"{sum(len(r.right) for r in rows)} val questions of {len(rows)} sets: {', '.join(names)}",
    }
    print(f"calibration for {embedder.name}: {entry}")
    write_result(
        "calibrate",
        {
            "run": run_info({k: str(v) for k, v in vars(args).items()}),
            "seconds": round(time.perf_counter() - started, 1),
            "held_out": held_out,
            "calibration": entry,
        },
    )
    if not args.dry_run:
        existing = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
        existing["models"][embedder.name] = entry
        CALIBRATION_FILE.write_text(json.dumps(existing, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
