"""Retrieval and gap-detection metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def retrieval_metrics(
    ranked: Sequence[Sequence[str]], relevant: Sequence[Sequence[str]], grades: Sequence[dict[str, int]]
) -> dict[str, float]:
    """R@1/5/10 (a relevant article in the top k), MRR@10, nDCG@10 (graded when grades exist), P@5."""
    sums = dict.fromkeys(("R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "P@5"), 0.0)
    for ids, rel, grade in zip(ranked, relevant, grades, strict=True):
        rel_set = set(rel)
        hits = [article_id in rel_set for article_id in ids[:10]]
        for k in (1, 5, 10):
            sums[f"R@{k}"] += float(any(hits[:k]))
        first = next((i for i, hit in enumerate(hits) if hit), None)
        sums["MRR@10"] += 1.0 / (first + 1) if first is not None else 0.0
        sums["P@5"] += sum(hits[:5]) / 5
        gains = {article_id: (grade.get(article_id, 1) if grade else 1) for article_id in rel}
        dcg = sum((2 ** gains.get(a, 0) - 1) / math.log2(i + 2) for i, a in enumerate(ids[:10]) if a in rel_set)
        ideal = sorted(gains.values(), reverse=True)[:10]
        idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
        sums["nDCG@10"] += dcg / idcg if idcg else 0.0
    n = max(1, len(ranked))
    return {name: round(total / n, 4) for name, total in sums.items()} | {"n": len(ranked)}


def auroc(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> float:
    """P(a random answerable query scores above a random unanswerable one); ties count half."""
    if not positive_scores or not negative_scores:
        return float("nan")
    scores = np.concatenate([np.asarray(positive_scores), np.asarray(negative_scores)])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = len(positive_scores), len(negative_scores)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def gap_decisions(
    confidence: Sequence[float], top1_correct: Sequence[bool], answerable: Sequence[bool], threshold: float
) -> dict[str, float]:
    """In-scope accuracy (answerable, right article, and shown) and out-of-scope recall (withheld) at a threshold."""
    in_scope = [(c, ok) for c, ok, a in zip(confidence, top1_correct, answerable, strict=True) if a]
    out_scope = [c for c, a in zip(confidence, answerable, strict=True) if not a]
    accuracy = sum(ok and c >= threshold for c, ok in in_scope) / max(1, len(in_scope))
    recall = sum(c < threshold for c in out_scope) / max(1, len(out_scope))
    overall = (sum(ok and c >= threshold for c, ok in in_scope) + sum(c < threshold for c in out_scope)) / max(
        1, len(in_scope) + len(out_scope)
    )
    return {
        "threshold": round(threshold, 4),
        "in_scope_accuracy": round(accuracy, 4),
        "oos_recall": round(recall, 4),
        "overall_accuracy": round(overall, 4),
    }


def best_threshold(confidence: Sequence[float], top1_correct: Sequence[bool], answerable: Sequence[bool]) -> float:
    """The threshold that maximises overall accuracy (to be chosen on val, applied to test)."""
    candidates = sorted({round(c, 4) for c in confidence}) or [0.5]
    return max(candidates, key=lambda t: gap_decisions(confidence, top1_correct, answerable, t)["overall_accuracy"])


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")
