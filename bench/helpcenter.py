"""python -m bench.helpcenter: what customers are shown on a help center, through the HTTP API, beside what is ranked.

Each development help center (bench/helpcenters/*, and `content` with bench/content_queries.jsonl) and each
held-out one (bench/holdout/*: never chosen on, only measured) is indexed
with the model, served by a real uvicorn with default settings, and every question is asked as a customer
asks it: in the search box (GET, channel search) and on the inquiry form (POST, channel form). Off-topic
questions (bench/helpcenters/off_topic.jsonl) are asked of every help center too: the search box should show
nothing for them. "As ranked" is the same index searched in process with nothing hidden.

python -m bench.helpcenter                       every development and held-out help center, the default model
python -m bench.helpcenter signdesk content_lao  some of them (a "_lao" name leaves a quarter of the articles out)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from app.api.routes.suggest import MAX_GET_CHARS
from bench.datasets import (
    HELPCENTERS_DIR,
    Dataset,
    Query,
    default_datasets_dir,
    helpcenter_names,
    holdout_names,
    load_dataset,
)
from bench.metrics import auroc, retrieval_metrics
from bench.run import run_info, write_result
from bench.server import served
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_from_articles
from indexer.embedders import DEFAULT_MODEL, Embedder, load_embedder
from retrieval.calibration import calibration_for, load_calibrations
from retrieval.search import SearchIndex, search_articles

OFF_TOPIC = HELPCENTERS_DIR / "off_topic.jsonl"
SEARCH_SHOWN, FORM_SHOWN = 5, 3  # what a search box and an inquiry form show at a glance


def ask(client: httpx.Client, query: Query, channel: str) -> dict[str, Any]:
    """One question as a customer's page asks it: GET for the search box, POST for the form and for a mail pasted
    into the search box, too long for a URL."""
    if channel == "search" and len(query.text) <= MAX_GET_CHARS:
        params = {"q": query.text, "locale": query.locale, "channel": "search", "limit": 10}
        response = client.get("/v1/suggest", params=params)
    else:
        payload = {"text": query.text, "locale": query.locale, "channel": channel}
        response = client.post("/v1/suggest", json=payload | ({"limit": 10} if channel == "search" else {}))
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def served_answers(base: str, queries: list[Query], desc: str) -> dict[str, list[dict[str, Any]]]:
    """Every question's search-box and form answers, in query order."""
    answers: dict[str, list[dict[str, Any]]] = {"search": [], "form": []}
    with httpx.Client(base_url=base, timeout=60) as client:
        for query in tqdm(queries, desc=desc, unit="question", leave=False):
            for channel in answers:
                answers[channel].append(ask(client, query, channel))
    return answers


def ranked_answers(
    index: SearchIndex, embedder: Embedder, queries: list[Query], model: str
) -> list[tuple[list[str], float]]:
    """Each question's top 10 articles and top confidence, searched in process with nothing hidden."""
    calibration = calibration_for(model, load_calibrations())
    ranked = []
    for query in queries:
        outcome = search_articles(
            index, embedder=embedder, calibration=calibration, text=query.text, locale=query.locale, limit=10
        )
        ranked.append(([hit.article.id for hit in outcome.hits], outcome.confidence))
    return ranked


def figures(
    queries: list[Query],
    answers: dict[str, list[dict[str, Any]]],
    ranked: list[tuple[list[str], float]],
    off_topic: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """As ranked and as served, overall and by question kind."""
    answerable = [i for i, q in enumerate(queries) if q.relevant]
    unanswerable = [i for i, q in enumerate(queries) if not q.relevant]
    kinds = sorted({queries[i].kind for i in answerable if queries[i].kind})
    result: dict[str, Any] = {
        "questions": {"answerable": len(answerable), "unanswerable": len(unanswerable)},
        "all": _figures_of(answerable, unanswerable, queries, answers, ranked),
        "by_kind": {
            kind: _figures_of([i for i in answerable if queries[i].kind == kind], [], queries, answers, ranked)
            for kind in kinds
        },
    }
    result["off_topic"] = {
        "questions": len(off_topic["search"]),
        "search_empty": _share(off_topic["search"], lambda a: not a["results"]),
        "form_no_answer": _share(off_topic["form"], lambda a: a["label"] == "no_answer"),
    }
    return result


def _figures_of(
    answerable: list[int],
    unanswerable: list[int],
    queries: list[Query],
    answers: dict[str, list[dict[str, Any]]],
    ranked: list[tuple[list[str], float]],
) -> dict[str, Any]:
    def shown(channel: str, i: int) -> list[str]:
        return [r["article_id"] for r in answers[channel][i]["results"]]

    relevant, grades = [queries[i].relevant for i in answerable], [queries[i].grades for i in answerable]
    as_ranked = retrieval_metrics([ranked[i][0] for i in answerable], relevant, grades)
    as_served = retrieval_metrics([shown("search", i) for i in answerable], relevant, grades)
    search, form = answers["search"], answers["form"]
    out: dict[str, Any] = {
        "n": len(answerable),
        "ranked": {k: as_ranked[k] for k in ("R@1", "R@5", "nDCG@10")},
        "search": {
            f"shown_top{SEARCH_SHOWN}": _hit_rate(answerable, queries, lambda i: shown("search", i)[:SEARCH_SHOWN]),
            "nDCG@10": as_served["nDCG@10"],
            "empty": _share([search[i] for i in answerable], lambda a: not a["results"]),
            "mean_shown": round(sum(len(search[i]["results"]) for i in answerable) / max(1, len(answerable)), 2),
        },
        "form": {
            f"shown_top{FORM_SHOWN}": _hit_rate(answerable, queries, lambda i: shown("form", i)[:FORM_SHOWN]),
            "no_answer": _share([form[i] for i in answerable], lambda a: a["label"] == "no_answer"),
        },
    }
    if unanswerable:
        positives = [form[i]["confidence"] for i in answerable]
        negatives = [form[i]["confidence"] for i in unanswerable]
        out["ranked"]["auroc"] = round(
            auroc([ranked[i][1] for i in answerable], [ranked[i][1] for i in unanswerable]), 4
        )
        out["form"]["auroc"] = round(auroc(positives, negatives), 4)
        out["form"]["unanswerable_no_answer"] = _share(
            [form[i] for i in unanswerable], lambda a: a["label"] == "no_answer"
        )
        out["search"]["unanswerable_empty"] = _share([search[i] for i in unanswerable], lambda a: not a["results"])
    return out


def lost_questions(
    queries: list[Query],
    answers: dict[str, list[dict[str, Any]]],
    ranked: list[tuple[list[str], float]],
    *,
    channel: str,
    top: int,
) -> list[str]:
    """Answerable questions whose right article is ranked in the top `top` but not shown there by the channel.

    What the display policy costs, question by question, for diagnosis on development help centers.
    """
    lost = []
    for i, query in enumerate(queries):
        relevant = set(query.relevant)
        shown = [r["article_id"] for r in answers[channel][i]["results"]][:top]
        if relevant & set(ranked[i][0][:top]) and not relevant & set(shown):
            lost.append(query.id)
    return lost


def _hit_rate(indices: list[int], queries: list[Query], shown: Callable[[int], list[str]]) -> float:
    hits = sum(bool(set(shown(i)) & set(queries[i].relevant)) for i in indices)
    return round(hits / max(1, len(indices)), 4)


def _share(answers: Iterable[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> float:
    answers = list(answers)
    return round(sum(map(test, answers)) / max(1, len(answers)), 4)


def evaluate(dataset: Dataset, *, embedder: Embedder, analyzer: Analyzer, model: str, work: Path) -> dict[str, Any]:
    """Index one help center, serve it with default settings, and ask every question."""
    index_dir = work / dataset.name / "index"
    with tqdm(desc=f"{dataset.name}: indexing", unit="passage", leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        build_from_articles(
            dataset.articles, index_dir=index_dir, embedder=embedder, analyzer=analyzer, on_progress=progress
        )
    queries = [q for q in dataset.queries if q.split in ("val", "test")]
    off_topic = load_off_topic()
    env = {
        "DEFLECT_INDEX_DIR": str(index_dir),
        "DEFLECT_DATABASE_URL": f"sqlite:///{work / dataset.name / 'deflect.db'}",
        "DEFLECT_MODEL": model,
        # One client asks hundreds of questions a minute here; the limit guards customers' traffic, not quality.
        "DEFLECT_RATE_LIMIT_PER_MINUTE": "100000",
        "DEFLECT_INDEX_POLL_SECONDS": "0",
    }
    with served(env) as base:
        answers = served_answers(base, queries, f"{dataset.name}: asking")
        off_topic_answers = served_answers(base, off_topic, f"{dataset.name}: off-topic")
    index = SearchIndex(store.load_current(index_dir, expected_model=embedder.name), analyzer)
    ranked = ranked_answers(index, embedder, queries, embedder.name)
    result = {
        "help_center": dataset.name,
        "articles": len(dataset.articles),
        **figures(queries, answers, ranked, off_topic_answers),
    }
    # A held-out help center is only measured: its questions are never listed, so that none is chosen on.
    if dataset.name.removesuffix("_lao") not in holdout_names():
        result["lost"] = {
            f"search_top{SEARCH_SHOWN}": lost_questions(queries, answers, ranked, channel="search", top=SEARCH_SHOWN),
            f"form_top{FORM_SHOWN}": lost_questions(queries, answers, ranked, channel="form", top=FORM_SHOWN),
        }
    return result


def load_off_topic() -> list[Query]:
    with open(OFF_TOPIC, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [Query(id=row["id"], text=row["text"], locale=row["locale"], relevant=(), split="val") for row in rows]


def summary_lines(result: dict[str, Any]) -> list[str]:
    """One help center's figures as lines of text, kinds under the totals."""
    lines = [f"{result['help_center']} ({result['articles']} articles, {result['questions']})"]
    rows = [("all", result["all"]), *result["by_kind"].items()]
    for name, row in rows:
        ranked, search, form = row["ranked"], row["search"], row["form"]
        line = (
            f"  {name:<14} n={row['n']:<4} ranked R@5 {ranked['R@5']:.3f} | search shown top5 "
            f"{search[f'shown_top{SEARCH_SHOWN}']:.3f} empty {search['empty']:.3f} | form shown top3 "
            f"{form[f'shown_top{FORM_SHOWN}']:.3f} no_answer {form['no_answer']:.3f}"
        )
        if "auroc" in form:
            line += (
                f"\n  {'':<14} unanswerable: form AUROC {form['auroc']:.3f} (ranked {ranked['auroc']:.3f}), "
                f"form no_answer {form['unanswerable_no_answer']:.3f}, search empty {search['unanswerable_empty']:.3f}"
            )
        lines.append(line)
    off = result["off_topic"]
    lines.append(f"  off-topic      search empty {off['search_empty']:.3f}, form no_answer {off['form_no_answer']:.3f}")
    for channel, ids in result.get("lost", {}).items():
        lines.append(f"  ranked but not shown in the {channel.replace('_', ' ')}: {len(ids)} {' '.join(ids)}".rstrip())
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.helpcenter", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="development help centers (default: all)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    names = args.names or [*helpcenter_names(), *holdout_names()]
    started = time.perf_counter()
    embedder, analyzer = load_embedder(args.model), Analyzer()
    results = []
    with tempfile.TemporaryDirectory(prefix="deflect-helpcenter-") as work:
        for name in names:
            dataset = load_dataset(default_datasets_dir(), name)
            result = evaluate(dataset, embedder=embedder, analyzer=analyzer, model=args.model, work=Path(work))
            results.append(result)
            print("\n".join(summary_lines(result)), flush=True)
    write_result(
        "helpcenter",
        {"run": run_info(vars(args)), "seconds": round(time.perf_counter() - started, 1), "results": results},
    )


if __name__ == "__main__":
    main()
