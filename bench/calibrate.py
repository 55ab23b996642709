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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

import retrieval.calibration as calibration_module
from app.suggestions import DEFAULT_LIMIT
from bench.datasets import Dataset, Query, default_datasets_dir, helpcenter_names, load_dataset
from bench.helpcenter import load_off_topic
from bench.metrics import auroc
from bench.run import SharedPassageVectors, build_and_load, fit_confidence_model, run_info, write_result
from indexer.analysis import Analyzer
from indexer.embedders import DEFAULT_MODEL, Embedder, is_japanese_text, load_embedder
from indexer.embedders.packaged import ENGLISH_ONLY_MODELS
from retrieval.calibration import FEATURES, Calibration
from retrieval.display import DEFAULT_THRESHOLDS, shown_set
from retrieval.search import SearchHit, SearchIndex, gather_evidence, question_vectors, rank_articles
from retrieval.vocabulary import Channel

# The logistic fit's inverse regularisation: chosen by the mean held-out AUROC over the help centers.
REGULARISATION = 3.0
CALIBRATION_FILE = Path(calibration_module.__file__).with_name("calibration.json")
# Constant stand-in for the calibration while features are gathered: features do not depend on it.
NEUTRAL = Calibration(weights={}, bias=0.0)
# The form's suggestions a customer reads, and the low-confidence lines swept for what it shows.
FORM_TOP = 3
FORM_LINES = (0.15, 0.18, 0.2, 0.22, 0.25, 0.3)


@dataclass
class SetRows:
    """One fit set's top-hit features, whether that hit is right, and whether the question is answerable; with its
    first hits and right groups, for what the form shows."""

    name: str
    family: str  # the help center a leave-article-out variant comes from: held out together
    features: npt.NDArray[np.float64]
    right: npt.NDArray[np.int_]
    answerable: npt.NDArray[np.bool_]
    hits: list[list[SearchHit]] = field(default_factory=list)  # each question's hits, as many as the form ranks
    right_groups: list[set[str]] = field(default_factory=list)
    off_topic_hits: list[list[SearchHit]] = field(default_factory=list)  # the off-topic questions', asked of it


def gather(
    name: str, *, embedder: SharedPassageVectors, analyzer: Analyzer, work_dir: Path, off_topic: Sequence[Query] = ()
) -> SetRows:
    """Index one fit set and rank its val questions (and the `off_topic` ones); the top hit's features of each."""
    dataset = load_dataset(default_datasets_dir(), name)
    if embedder.name in ENGLISH_ONLY_MODELS:
        dataset = english_part(dataset)
    queries = [q for q in dataset.queries if q.split == "val"]
    index = build_and_load(dataset, embedder=embedder, analyzer=analyzer, work_dir=work_dir)
    group_of = {article.id: article.group_id for article in dataset.articles}
    ranked = _first_hits(index, embedder, queries, desc=name)
    right_groups = [{group_of.get(r, r) for r in query.relevant} for query in queries]
    return SetRows(
        name=name,
        family=name.removesuffix("_lao"),
        features=np.array([[hits[0].features[f] if hits else 0.0 for f in FEATURES] for hits in ranked]),
        right=np.array(
            [bool(h) and h[0].article.group_id in g for h, g in zip(ranked, right_groups, strict=True)], dtype=int
        ),
        answerable=np.array([bool(q.relevant) for q in queries]),
        hits=ranked,
        right_groups=right_groups,
        off_topic_hits=_first_hits(index, embedder, list(off_topic), desc=f"{name}: off-topic") if off_topic else [],
    )


def _first_hits(index: SearchIndex, embedder: Embedder, queries: list[Query], *, desc: str) -> list[list[SearchHit]]:
    """Each question's hits as the form ranks them (its default limit: all of them count towards whether anything is
    related), their confidences left to the caller."""
    vectors = question_vectors(embedder, [q.text for q in queries], index)
    ranked = []
    for query, vector in tqdm(zip(queries, vectors, strict=True), total=len(queries), desc=desc, leave=False):
        evidence = gather_evidence(index, embedder=embedder, text=query.text, query_vector=vector)
        ranked.append(
            rank_articles(index, evidence, calibration=NEUTRAL, locale=query.locale, limit=DEFAULT_LIMIT).hits
        )
    return ranked


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


def form_display(rows: list[SetRows], lines: Sequence[float]) -> dict[str, dict[str, float]]:
    """What the form shows at each low-confidence line, each help center's confidences cross-fitted (the model fitted
    without it): the right article in the first FORM_TOP shown, and `no_answer` for unanswerable and off-topic
    questions. The leave-article-out variants are fitted on, never counted. Why: docs/decisions/0023-channel-display.md
    """
    shown: dict[float, dict[str, list[bool]]] = {
        line: {"top": [], "unanswerable": [], "off_topic": []} for line in lines
    }
    for family in sorted({r.family for r in rows}):
        model = fit([r for r in rows if r.family != family])
        held = next(r for r in rows if r.name == family)
        for line in lines:
            counts = shown[line]
            for hits, right, answerable in zip(held.hits, held.right_groups, held.answerable, strict=True):
                shown_hits = _shown(model, hits, line)
                if answerable:
                    counts["top"].append(any(hit.article.group_id in right for hit in shown_hits[:FORM_TOP]))
                else:
                    counts["unanswerable"].append(not shown_hits)
            counts["off_topic"] += [not _shown(model, hits, line) for hits in held.off_topic_hits]
    return {
        f"{line:g}": {
            "form_top": round(float(np.mean(c["top"])), 4),
            "unanswerable_no_answer": round(float(np.mean(c["unanswerable"])), 4),
            "off_topic_no_answer": round(float(np.mean(c["off_topic"])), 4) if c["off_topic"] else 0.0,
        }
        for line, c in shown.items()
    }


def _shown(model: Any, hits: list[SearchHit], line: float) -> list[SearchHit]:
    if not hits:
        return []
    confidence = model.predict_proba(np.array([[hit.features[f] for f in FEATURES] for hit in hits]))[:, 1]
    rescored = [replace(hit, confidence=float(c)) for hit, c in zip(hits, confidence, strict=True)]
    thresholds = (DEFAULT_THRESHOLDS[0], line)
    return [hit for hit, _ in shown_set(rescored, channel=Channel.FORM, thresholds=thresholds).hits]


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
    off_topic = load_off_topic()
    rows = [
        gather(
            name,
            embedder=embedder,
            analyzer=analyzer,
            work_dir=args.work_dir,
            off_topic=() if name.endswith("_lao") else off_topic,
        )
        for name in names
    ]
    held_out = held_out_figures(rows)
    for name, row in held_out.items():
        print(f"{name:<22} held out: AUROC answerable {row['auroc_answerable']:.3f}, right {row['auroc_right']:.3f}")
    answerable = [row["auroc_answerable"] for row in held_out.values()]
    print(f"mean held-out AUROC, answerable against unanswerable: {np.mean(answerable):.3f}")
    display = form_display(rows, FORM_LINES)
    print(f"the form, cross-fitted (line: right article in the first {FORM_TOP} / unanswerable, off-topic no_answer):")
    for line, row in display.items():
        print(
            f"  {line:<5} {row['form_top']:.3f} / {row['unanswerable_no_answer']:.3f}, {row['off_topic_no_answer']:.3f}"
        )
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
            "form_display": display,
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
