"""Markdown tables from a benchmark run."""

from __future__ import annotations

from typing import Any


def markdown_report(run: dict[str, Any]) -> str:
    lines = [
        "### Retrieval (test split, answerable queries)",
        "",
        "| dataset | model | mode | n | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 | P@5 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in run["results"]:
        for mode, m in r["modes"].items():
            lines.append(
                f"| {r['dataset']} | {r['model']} | {mode} | {m['n']} | {m['R@1']:.3f} | {m['R@5']:.3f} | "
                f"{m['R@10']:.3f} | {m['MRR@10']:.3f} | {m['nDCG@10']:.3f} | {m['P@5']:.3f} |"
            )
    lines += [
        "",
        "### As ranked and as served (test split, hybrid, default display policy and thresholds)",
        "",
        "| dataset | model | ranked R@5 | search shown top 5 | ranked nDCG@10 | search nDCG@10 | form shown top 3 "
        "| form no_answer (answerable) | form AUROC | form no_answer (unanswerable) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in run["results"]:
        ranked = r["modes"]["hybrid"]
        served = ranked.get("as_served")
        if not served:
            continue
        gap = (r["gap"] or {}).get("as_served", {})
        lines.append(
            f"| {r['dataset']} | {r['model']} | {ranked['R@5']:.3f} | {served['search_shown_top5']:.3f} "
            f"| {ranked['nDCG@10']:.3f} | {served['search_nDCG@10']:.3f} | {served['form_shown_top3']:.3f} "
            f"| {served['form_no_answer']:.3f} | {_figure(gap.get('form_auroc'))} "
            f"| {_figure(gap.get('form_no_answer_unanswerable'))} |"
        )
    lines += [
        "",
        "### Gap detection (test split; hybrid confidence)",
        "",
        "| dataset | model | answerable / unanswerable | AUROC | threshold (val) | in-scope acc | OOS recall | "
        "at product threshold 0.2: in-scope acc / OOS recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in run["results"]:
        gap = r["gap"]
        if not gap:
            continue
        val = gap.get("at_val_threshold")
        product = gap["at_product_threshold"]
        lines.append(
            f"| {r['dataset']} | {r['model']} | {gap['answerable']} / {gap['unanswerable']} | {gap['auroc']:.3f} | "
            + (
                f"{val['threshold']:.3f} | {val['in_scope_accuracy']:.3f} | {val['oos_recall']:.3f}"
                if val
                else "- | - | -"
            )
            + f" | {product['in_scope_accuracy']:.3f} / {product['oos_recall']:.3f} |"
        )
    lines += [
        "",
        "### Speed (same run)",
        "",
        "| dataset | model | passages | build s | embedded passages/s | load s | search p50 ms | p95 ms "
        "| encode p50 ms | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in run["results"]:
        s, b = r["speed"], r["build"]
        two_stage = " (two-stage)" if s.get("dense_scoring") == "two-stage" else ""
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['passages']}{two_stage} | {b['seconds']} "
            f"| {b['passages_per_second'] or 'cached or shared'} | {s.get('index_load_seconds', '-')} "
            f"| {s['search_p50_ms']:.2f} | {s['search_p95_ms']:.2f} "
            f"| {s['encode_p50_ms']:.2f} | {s['search_to_encode_ratio']:.2f} |"
        )
    lines.append("")
    indexing = run.get("indexing_and_ranking")  # absent from runs before this phase had processes of its own
    lines.append(
        f"Run: commit {run['run']['commit']}, {run['seconds']} s"
        + (
            f" ({indexing['seconds']} s of it indexing and ranking, in {indexing['workers']} processes)"
            if indexing
            else ""
        )
        + f", peak RSS {run['peak_rss_mb']} MB"
        + (f" ({run['peak_rss_mb_workers']} MB the largest worker)" if indexing else "")
        + f", {run['run']['machine']['cpus']} CPUs."
        + (f" Search is timed with {run['timed_search_limit']} results a query." if "timed_search_limit" in run else "")
    )
    return "\n".join(lines) + "\n"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
