"""python -m bench.signals: which retrieval signals tell a question with an answer from one without.

Every question of each set is answered as the API answers it, and its top result's confidence features are kept
beside candidate signals the confidence does not use (the runner-up's, fifth and tenth articles' dense scores,
their spread, the passages' spread, the best BM25 share). Two reports:

- Selection, on val splits only: the confidence's features as shipped, without each one, and with each candidate
  added, fitted on all val sets but one and scored on the one left out, each val set in turn: AUROC of answerable
  against unanswerable questions, and of a right top article against a wrong one (what the confidence is fitted to
  say). `retrieval/calibration.py`'s features were chosen with it.
- Ceiling (`--ceiling SET`): on a set's test split, each signal's AUROC alone, then models over all the signals
  fitted on that split itself and scored by 5-fold cross-validation. The shipped confidence is never fitted on
  test; the ceiling says whether any confidence made of these signals could reach a target, or whether reaching
  it takes a new signal (another model, a re-ranker). With several `--models`, their signals are joined.

python -m bench.signals
python -m bench.signals --ceiling localgovfaq_gap --models use-multilingual-v3+all-MiniLM-L6-v2-int8
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from bench.datasets import Dataset, default_datasets_dir, load_dataset
from bench.metrics import auroc
from bench.run import SharedPassageVectors, build_and_load, fit_confidence_model, run_info, write_result
from indexer.analysis import Analyzer
from indexer.embedders import DEFAULT_MODEL, load_embedder
from retrieval.calibration import FEATURES, calibration_for, load_calibrations
from retrieval.search import DEFAULT_FUSION, gather_evidence, question_vectors, rank_articles

# Val splits with unanswerable questions, on which candidate signals are compared (the shipped confidence is
# fitted by `python -m bench.calibrate`).
VAL_SETS = ("content", "clinc150", "clinc150_gap", "banking77_oos")
CANDIDATES = ("dense_second", "dense_fifth", "dense_tenth", "dense_std", "passage_std", "lexical_best")
FOLDS = 5


class SetSignals:
    """One set's questions under one model: each signal per question, whether the top result was right, and
    whether the question has an answer at all."""

    def __init__(
        self, names: list[str], values: npt.NDArray[np.float64], top_right: list[bool], answerable: list[bool]
    ):
        self.names, self.values = names, values
        self.top_right, self.answerable = np.array(top_right), np.array(answerable)

    def columns(self, names: list[str]) -> npt.NDArray[np.float64]:
        return self.values[:, [self.names.index(name) for name in names]]


def collect(dataset: Dataset, split: str, *, model: str, work_dir: Path, analyzer: Analyzer) -> SetSignals:
    """Index the set with the model (cached builds are reused) and record the signals of each of split's questions."""
    embedder = SharedPassageVectors(load_embedder(model))
    index = build_and_load(dataset, embedder=embedder, analyzer=analyzer, work_dir=work_dir)
    calibration = calibration_for(embedder.name, load_calibrations())
    queries = dataset.split(split)
    vectors = question_vectors(embedder, [q.text for q in queries], index)
    rows, top_right = [], []
    for query, vector in tqdm(zip(queries, vectors, strict=True), total=len(queries), desc=dataset.name, leave=False):
        evidence = gather_evidence(index, embedder=embedder, text=query.text, query_vector=vector)
        outcome = rank_articles(index, evidence, calibration=calibration, locale=query.locale, limit=1)
        features = outcome.hits[0].features if outcome.hits else {}
        ranked = np.sort(evidence.dense_article)[::-1]
        kth = [float(ranked[min(k, len(ranked) - 1)]) for k in (1, 4, 9)] if len(ranked) else [0.0] * 3
        candidates = [
            *kth,
            float(ranked.std()) if len(ranked) else 0.0,
            float(evidence.dense_passage.std()) if len(evidence.dense_passage) else 0.0,
            float(min(DEFAULT_FUSION.lexical(evidence).max(initial=0.0), 1.0)),
        ]
        rows.append([features.get(name, 0.0) for name in FEATURES] + candidates + [outcome.confidence])
        top_right.append(bool(outcome.hits) and outcome.hits[0].article.id in query.relevant)
    names = [*FEATURES, *CANDIDATES, "confidence"]
    return SetSignals(names, np.array(rows, dtype=np.float64), top_right, [bool(q.relevant) for q in queries])


def selection(signals: dict[str, SetSignals]) -> dict[str, dict[str, dict[str, float]]]:
    """Held-out val AUROC of each feature set (as shipped, without each feature, with each candidate), of telling
    answerable questions from the rest and of telling a right top article from a wrong one."""
    variants = {"as shipped": list(FEATURES)}
    variants |= {f"without {name}": [f for f in FEATURES if f != name] for name in FEATURES}
    variants |= {f"with {name}": [*FEATURES, name] for name in CANDIDATES}
    table: dict[str, dict[str, dict[str, float]]] = {"answerable": {}, "top_right": {}}
    for label, names in variants.items():
        rows: dict[str, dict[str, float]] = {"answerable": {}, "top_right": {}}
        for held_out, tested in signals.items():
            fitted_on = [s for name, s in signals.items() if name != held_out]
            model = fit_confidence_model(
                np.vstack([s.columns(names) for s in fitted_on]), np.concatenate([s.top_right for s in fitted_on])
            )
            predicted = model.predict_proba(tested.columns(names))[:, 1]
            rows["answerable"][held_out] = _auroc(predicted, tested.answerable)
            rows["top_right"][held_out] = _auroc(predicted, tested.top_right)
        for kind, row in rows.items():
            table[kind][label] = {**row, "mean": round(float(np.mean(list(row.values()))), 4)}
    return table


def ceiling(signals: dict[str, SetSignals]) -> dict[str, Any]:
    """Each signal's AUROC alone, and that of models over all of them fitted on the same questions (cross-validated)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    answerable = next(iter(signals.values())).answerable
    joined = np.hstack([s.values for s in signals.values()])
    labels = [f"{model}: {name}" if len(signals) > 1 else name for model, s in signals.items() for name in s.names]
    alone = {label: _auroc(joined[:, i], answerable) for i, label in enumerate(labels)}
    usable = [i for i, label in enumerate(labels) if not label.endswith("confidence")]
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    fitted = {}
    for name, model in {
        "logistic": make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)),
        "boosted trees": HistGradientBoostingClassifier(max_depth=3, max_iter=200, random_state=0),
    }.items():
        predicted = cross_val_predict(model, joined[:, usable], answerable, cv=folds, method="predict_proba")[:, 1]
        fitted[name] = _auroc(predicted, answerable)
    return {"alone": alone, "fitted_on_the_split_itself": fitted}


def _auroc(scores: npt.NDArray[np.float64], positive: npt.NDArray[np.bool_]) -> float:
    return round(auroc(scores[positive].tolist(), scores[~positive].tolist()), 4)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.signals", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ceiling", metavar="SET", help="the ceiling on this set instead of the selection on val")
    parser.add_argument("--split", default="test", help="the split the ceiling is measured on")
    parser.add_argument("--models", default=DEFAULT_MODEL, help="comma-separated (the selection uses the first)")
    parser.add_argument("--datasets-dir", type=Path, default=default_datasets_dir())
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench"), help="cached index builds")
    args = parser.parse_args()
    started, analyzer = time.perf_counter(), Analyzer()
    models = args.models.split(",")
    result: dict[str, Any] = {"run": run_info({k: str(v) for k, v in vars(args).items()})}
    if args.ceiling:
        dataset = load_dataset(args.datasets_dir, args.ceiling)
        signals = {m: collect(dataset, args.split, model=m, work_dir=args.work_dir, analyzer=analyzer) for m in models}
        result["ceiling"] = {"dataset": args.ceiling, "split": args.split, **ceiling(signals)}
        print(f"\n{args.ceiling} ({args.split}): AUROC of answerable against unanswerable questions\n")
        print("| signal | AUROC alone |\n|---|---|")
        for label, value in result["ceiling"]["alone"].items():
            print(f"| {label} | {value:.3f} |")
        for name, value in result["ceiling"]["fitted_on_the_split_itself"].items():
            print(f"\nall signals, {name} fitted on {args.split} itself ({FOLDS}-fold cross-validated): {value:.3f}")
        kind = "ceiling"
    else:
        signals = {
            name: collect(
                load_dataset(args.datasets_dir, name), "val", model=models[0], work_dir=args.work_dir, analyzer=analyzer
            )
            for name in VAL_SETS
        }
        result["selection"] = {"model": models[0], "held_out_val_auroc": selection(signals)}
        for kind, title in (("answerable", "answerable against unanswerable"), ("top_right", "a right top article")):
            print(f"\nHeld-out val AUROC of {title} (fitted on the other val sets)\n")
            print(f"| features | {' | '.join(VAL_SETS)} | mean |\n|---|{'---|' * (len(VAL_SETS) + 1)}")
            for label, row in result["selection"]["held_out_val_auroc"][kind].items():
                print(f"| {label} | {' | '.join(f'{row[name]:.3f}' for name in [*VAL_SETS, 'mean'])} |")
        kind = "signals"
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_result(kind, result)


if __name__ == "__main__":
    main()
