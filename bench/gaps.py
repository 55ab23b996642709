"""python -m bench.gaps: gap-topic quality and speed.

For each gap data set, its queries go through the real suggest path into a fresh database; an
unanswered query is followed by a ticket, as a customer with no answer would write in. The gap
report's topics are then compared with the true `gap_topic` of the unanswered queries (ARI, NMI,
and the share of unanswered queries that land in some topic). The topic threshold is chosen on val
(`--tune`), never on test. Then the report is timed on 100k synthetic inquiries.

`--help-centers` (development) and `--holdout` (measured, never tuned) do the same at a help center's volume, once
with every question and once with each planted gap asked twice, and count what #24 asks: topics holding two planted
gaps, and planted gaps with a topic of their own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sklearn.metrics import adjusted_rand_score, homogeneity_completeness_v_measure, normalized_mutual_info_score
from sqlmodel import Session
from tqdm import tqdm

from app.db.engine import create_tables, make_engine
from app.events import EventIn, record_events
from app.privacy import Redactor
from app.reports.gaps.report import GapSettings, Inquiry, build_topics, gap_report, help_center_terms
from app.reports.period import Period
from app.reports.schemas import GapReport
from app.settings import Settings
from app.suggestions import Suggester, SuggestPolicy, SuggestRequest, suggest
from app.vocabulary import Action
from bench.datasets import Dataset, Query, default_datasets_dir, helpcenter_names, holdout_names, load_dataset
from bench.run import write_result
from bench.server import served
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_from_articles
from indexer.embedders import DEFAULT_MODEL, load_embedder
from retrieval.calibration import calibration_for, load_calibrations
from retrieval.display import DEFAULT_THRESHOLDS
from retrieval.inquiry import core_question
from retrieval.search import SearchIndex
from retrieval.vocabulary import Channel

GAP_SETS = ("banking77_oos", "clinc150_gap", "stackfaq_gap", "localgovfaq_gap")
# Public gap sets with planted gaps in their val splits, sampled down to a help center's volume.
SMALL_VOLUME_SETS = ("clinc150_gap", "banking77_oos")


def run_split(
    name: str,
    split: str,
    *,
    similarities: list[float | None],
    work_dir: Path,
    max_queries: int,
    embedder: Any,
    analyzer: Analyzer,
) -> list[dict[str, Any]]:
    """A public gap set's split at its own volume."""
    dataset = load_dataset(default_datasets_dir(), name)
    queries = dataset.split(split)
    if len(queries) > max_queries:
        queries = random.Random(3).sample(queries, max_queries)
    return run_queries(
        dataset,
        queries,
        run=f"{name}/{split}",
        similarities=similarities,
        work_dir=work_dir,
        embedder=embedder,
        analyzer=analyzer,
    )


def run_queries(
    dataset: Dataset,
    queries: list[Query],
    *,
    run: str,
    similarities: list[float | None],
    work_dir: Path,
    embedder: Any,
    analyzer: Analyzer,
) -> list[dict[str, Any]]:
    """Ask every question on the form, a ticket after each unanswerable one, then score the gap report's topics."""
    index = _index_of(dataset, work_dir=work_dir, embedder=embedder, analyzer=analyzer)
    db_path = work_dir / f"gaps-{run.replace('/', '-')}.db"
    db_path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    create_tables(engine)
    defaults = Settings.model_fields
    policy = SuggestPolicy(
        ("ja", "en"),
        defaults["min_query_chars"].default,
        defaults["max_query_chars"].default,
        {"default": DEFAULT_THRESHOLDS},
    )
    calibration = calibration_for(embedder.name, load_calibrations())
    suggester = Suggester(embedder=embedder, calibration=calibration, redactor=Redactor(), policy=policy)
    ids: dict[str, Query] = {}
    with Session(engine) as session:
        for n, query in enumerate(tqdm(queries, desc=f"{run}: suggest", leave=False)):
            result = suggest(
                session,
                index=index,
                suggester=suggester,
                request=SuggestRequest(text=query.text, channel=Channel.FORM, client_id=f"client-{n}"),
            )
            ids[result.query_id] = query
            if not query.relevant:
                record_events(
                    session,
                    events=[EventIn(query_id=result.query_id, client_id=f"client-{n}", action=Action.TICKET_SUBMITTED)],
                    redactor=suggester.redactor,
                )
    period = Period(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    rows = []
    for similarity in similarities:
        started = time.perf_counter()
        with Session(engine) as session:
            report = gap_report(
                session,
                period=period,
                index=index,
                analyzer=analyzer,
                settings=GapSettings(topic_similarity=similarity),
                embedder=embedder,
            )
        seconds = time.perf_counter() - started
        rows.append(
            {
                "run": run,
                "topic_similarity": similarity,
                "queries": len(ids),
                **topic_figures(report, ids, index=index, analyzer=analyzer),
                "report_seconds": round(seconds, 2),
            }
        )
        print(rows[-1], flush=True)
    engine.dispose()
    return rows


def served_queries(
    dataset: Dataset, queries: list[Query], *, run: str, work_dir: Path, embedder: Any, analyzer: Analyzer
) -> dict[str, Any]:
    """The same through the HTTP API of a served help center: each question POSTed on the form, a ticket event after
    each unanswerable one, then GET /v1/reports/gaps, with default settings."""
    index = _index_of(dataset, work_dir=work_dir, embedder=embedder, analyzer=analyzer)
    db_path = work_dir / f"gaps-http-{run.replace('/', '-')}.db"
    db_path.unlink(missing_ok=True)
    env = {
        "DEFLECT_INDEX_DIR": str(work_dir / dataset.name / embedder.name),
        "DEFLECT_DATABASE_URL": f"sqlite:///{db_path}",
        "DEFLECT_MODEL": embedder.name,
        # One client asks every question of a period in a minute; the limit guards customers' traffic.
        "DEFLECT_RATE_LIMIT_PER_MINUTE": "100000",
        "DEFLECT_INDEX_POLL_SECONDS": "0",
    }
    ids: dict[str, Query] = {}
    with served(env) as base, httpx.Client(base_url=base, timeout=60) as client:
        for n, query in enumerate(tqdm(queries, desc=f"{run}: over HTTP", leave=False)):
            answer = client.post("/v1/suggest", json={"text": query.text, "channel": "form", "client_id": f"c{n}"})
            answer.raise_for_status()
            query_id = answer.json()["query_id"]
            ids[query_id] = query
            if not query.relevant:
                event = {"query_id": query_id, "client_id": f"c{n}", "action": Action.TICKET_SUBMITTED.value}
                client.post("/v1/events", json=event).raise_for_status()
        started = time.perf_counter()
        response = client.get("/v1/reports/gaps", params={"format": "json"})
        response.raise_for_status()
        seconds = time.perf_counter() - started
    report = GapReport.model_validate(response.json())
    return {
        "run": f"{run} (HTTP)",
        "queries": len(ids),
        **topic_figures(report, ids, index=index, analyzer=analyzer),
        "report_seconds": round(seconds, 2),
    }


def topic_figures(
    report: GapReport, ids: dict[str, Query], *, index: SearchIndex, analyzer: Analyzer
) -> dict[str, Any]:
    """The report's topics against the planted gaps: agreement, coverage, counts, and whether labels say the need."""
    topic_of = {qid: t for t, topic in enumerate(report.topics) for qid in topic.query_ids}
    unanswered = [(qid, q) for qid, q in ids.items() if not q.relevant]
    with_topic = [(qid, q) for qid, q in unanswered if q.gap_topic]
    truth = [q.gap_topic for _, q in with_topic]
    predicted = [topic_of.get(qid, -1 - i) for i, (qid, _) in enumerate(with_topic)]  # noise: own cluster
    # A topic most of whose members have an answer is answered questions' noise, not a gap.
    answered_topics = sum(
        sum(bool(ids[q].relevant) for q in topic.query_ids if q in ids) * 2 > len(topic.query_ids)
        for topic in report.topics
    )
    # Stricter than what the report leaves out (terms in half the articles, or of one language's): a label term found
    # in a third of them or more is the help center's own vocabulary (its product's name, say), not a need.
    common = help_center_terms(index, parts=3)
    labels_with_common_words = sum(bool(set(analyzer.terms(topic.label)) & common) for topic in report.topics)
    # A label says its topic's need when one of its terms is found in that topic's questions and no other topic's.
    members = [
        set().union(*(analyzer.terms(core_question(ids[q].text)) for q in topic.query_ids if q in ids))
        for topic in report.topics
    ]
    topics_with = Counter(term for terms in members for term in terms)
    labels_with_own_term = sum(
        any(term in own and topics_with[term] == 1 for term in analyzer.terms(topic.label))
        for topic, own in zip(report.topics, members, strict=True)
    )
    homogeneity, completeness, _ = homogeneity_completeness_v_measure(truth, predicted) if truth else (0.0, 0.0, 0.0)
    return {
        "unanswered": len(unanswered),
        "planted_topics": len(set(truth)),
        "found_topics": len(report.topics),
        "gap_topics": len(report.topics) - answered_topics,
        "answered_topics": answered_topics,
        "ARI": round(adjusted_rand_score(truth, predicted), 4) if truth else None,
        "NMI": round(normalized_mutual_info_score(truth, predicted), 4) if truth else None,
        "unanswered_in_a_topic": round(sum(qid in topic_of for qid, _ in unanswered) / max(1, len(unanswered)), 4),
        # 1: no topic holds two planted gaps; 1: no planted gap is split.
        "homogeneity": round(homogeneity, 4) if truth else None,
        "completeness": round(completeness, 4) if truth else None,
        **planted_gap_figures(report, ids),
        "labels_with_common_words": labels_with_common_words,
        "labels_with_own_term": labels_with_own_term,
        "missing_article_topics": sum(t.verdict == "missing_article" for t in report.topics),
    }


def planted_gap_figures(report: GapReport, ids: dict[str, Query]) -> dict[str, Any]:
    """What #24 asks of small volumes, counted: topics holding two planted gaps (two askings each or more), and
    planted gaps with a topic of their own (the largest gap of a topic that holds half of its askings or more), those
    asked three times or fewer apart."""
    gap_of = {qid: q.gap_topic for qid, q in ids.items() if q.gap_topic and not q.relevant}
    asked = Counter(gap_of.values())
    merged, own = 0, set()
    for topic in report.topics:
        gaps = Counter(gap_of[q] for q in topic.query_ids if q in gap_of)
        merged += sum(n >= 2 for n in gaps.values()) >= 2
        if gaps:
            gap, n = gaps.most_common(1)[0]
            if n >= 2 and 2 * n >= asked[gap]:
                own.add(gap)
    small = {gap for gap, n in asked.items() if n <= 3}
    return {
        "topics_holding_two_gaps": merged,
        "gaps_with_own_topic": len(own),
        "small_gaps": len(small),
        "small_gaps_with_own_topic": len(own & small),
    }


def asked_twice(queries: list[Query], *, seed: int = 7) -> list[Query]:
    """The answerable questions, and two askings of each planted gap: what a gap asked twice in a period leaves."""
    rng = random.Random(seed)
    gaps: dict[str, list[Query]] = {}
    for query in queries:
        if query.gap_topic and not query.relevant:
            gaps.setdefault(query.gap_topic, []).append(query)
    kept = {query.id for gap in sorted(gaps) for query in rng.sample(gaps[gap], min(2, len(gaps[gap])))}
    return [q for q in queries if not (q.gap_topic and not q.relevant) or q.id in kept]


def help_center_volume(dataset: Dataset, *, seed: int = 5) -> list[Query]:
    """A public gap set's val questions at a help center's volume: 3 to 15 a planted gap, 150 with an answer.

    A third of the unanswerable ones come wrapped in a contact-form mail, and a fifth with a typo.
    """
    rng = random.Random(seed)
    val = dataset.split("val")
    gaps: dict[str, list[Query]] = {}
    for query in val:
        if query.gap_topic and not query.relevant:
            gaps.setdefault(query.gap_topic, []).append(query)
    chosen = rng.sample(sorted(gaps), min(8, len(gaps)))
    unanswerable = [q for gap in chosen for q in rng.sample(gaps[gap], min(len(gaps[gap]), rng.randint(3, 15)))]
    answerable = rng.sample([q for q in val if q.relevant], min(150, sum(bool(q.relevant) for q in val)))
    return answerable + [_as_customer_writes(q, rng) for q in unanswerable]


_GREETINGS = ("Hi team,", "Hello,", "Hi there,", "Dear support,")
_CLOSINGS = ("Thanks, Sam", "Best regards,\nAlex Kim", "Thank you!\nJordan (090-1234-5678)", "Cheers, Pat")


def _as_customer_writes(query: Query, rng: random.Random) -> Query:
    draw = rng.random()
    if draw < 1 / 3:
        text = f"{rng.choice(_GREETINGS)}\nI have a question about my account. {query.text}\n{rng.choice(_CLOSINGS)}"
        return replace(query, text=text)
    if draw < 1 / 3 + 1 / 5:
        words = query.text.split()
        long_words = [i for i, w in enumerate(words) if len(w) >= 5]
        if long_words:
            i = rng.choice(long_words)
            j = rng.randrange(1, len(words[i]) - 1)
            words[i] = words[i][:j] + words[i][j + 1] + words[i][j] + words[i][j + 2 :]  # two letters swapped
            return replace(query, text=" ".join(words))
    return query


def _index_of(dataset: Dataset, *, work_dir: Path, embedder: Any, analyzer: Analyzer) -> SearchIndex:
    index_dir = work_dir / dataset.name / embedder.name
    build_from_articles(dataset.articles, index_dir=index_dir, embedder=embedder, analyzer=analyzer)
    return SearchIndex(store.load_current(index_dir), analyzer)


def time_100k(embedder: Any, analyzer: Analyzer, *, work_dir: Path, n: int = 100_000) -> dict[str, Any]:
    """build_topics on n synthetic inquiries: real query vectors of banking77 with small noise, its topic space."""
    dataset = load_dataset(default_datasets_dir(), "banking77_oos")
    index = _index_of(dataset, work_dir=work_dir, embedder=embedder, analyzer=analyzer)
    texts = [q.text for q in dataset.queries[:2000]]
    base = embedder.embed_documents(texts)
    rng = np.random.default_rng(1)
    picks = rng.integers(0, len(base), n)
    vectors = base[picks] + rng.normal(0, 0.02, (n, base.shape[1])).astype(np.float32)
    failing = [Inquiry(f"q{i}", texts[p], "en", vectors[i], {"no_result"}) for i, p in enumerate(picks)]
    started = time.perf_counter()
    topics, _, _ = build_topics(failing, [], index=index, analyzer=analyzer, settings=GapSettings())
    return {"inquiries": n, "topics": len(topics), "seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gaps")
    parser.add_argument("--dataset", action="append")
    parser.add_argument("--tune", action="store_true", help="sweep the topic threshold on val splits")
    parser.add_argument("--similarity", type=float, help="topic threshold (default: the topic space's own)")
    parser.add_argument("--max-queries", type=int, default=4000)
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench"))
    parser.add_argument("--skip-100k", action="store_true")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (a pair joined by '+' too)")
    parser.add_argument(
        "--help-centers",
        action="store_true",
        help="at a help center's volume: the development help centers and public val splits sampled down",
    )
    parser.add_argument("--holdout", action="store_true", help="the held-out help centers (measured, never tuned)")
    parser.add_argument("--http", action="store_true", help="with --holdout or --help-centers: through a served API")
    args = parser.parse_args()
    embedder, analyzer = load_embedder(args.model), Analyzer()
    results: dict[str, Any] = {"model": embedder.name, "rows": []}
    if args.help_centers or args.holdout:
        # Swept around the form-centred space's own cosine, where a help center's bilingual periods are compared.
        similarities = [0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25] if args.tune else [args.similarity]
        runs = [
            (n, load_dataset(default_datasets_dir(), n))
            for n in (holdout_names() if args.holdout else helpcenter_names())
        ]
        for name, dataset in runs:
            queries = [q for q in dataset.queries if q.split in ("val", "test")]
            if args.http:
                results["rows"].append(
                    served_queries(
                        dataset, queries, run=name, work_dir=args.work_dir, embedder=embedder, analyzer=analyzer
                    )
                )
                print(results["rows"][-1], flush=True)
                continue
            for run, asked in ((name, queries), (f"{name}/asked-twice", asked_twice(queries))):
                results["rows"] += run_queries(
                    dataset,
                    asked,
                    run=run,
                    similarities=similarities,
                    work_dir=args.work_dir,
                    embedder=embedder,
                    analyzer=analyzer,
                )
        for name in [] if args.holdout else SMALL_VOLUME_SETS:
            dataset = load_dataset(default_datasets_dir(), name)
            results["rows"] += run_queries(
                dataset,
                help_center_volume(dataset),
                run=f"{name}/val-small",
                similarities=[args.similarity],  # their own space's cosine: these periods are English
                work_dir=args.work_dir,
                embedder=embedder,
                analyzer=analyzer,
            )
        write_result(
            ("gaps-holdout" if args.holdout else "gaps-help-centers") + ("-http" if args.http else ""), results
        )
        return
    for name in args.dataset or GAP_SETS:
        if args.tune:
            split = "val" if load_dataset(default_datasets_dir(), name).split("val") else None
            if split is None:
                print(f"{name}: no val split, not tuned on")
                continue
            results["rows"] += run_split(
                name,
                "val",
                similarities=[0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6],
                work_dir=args.work_dir,
                max_queries=args.max_queries,
                embedder=embedder,
                analyzer=analyzer,
            )
        else:
            results["rows"] += run_split(
                name,
                "test",
                similarities=[args.similarity],
                work_dir=args.work_dir,
                max_queries=args.max_queries,
                embedder=embedder,
                analyzer=analyzer,
            )
    if not args.skip_100k and not args.tune:
        results["speed_100k"] = time_100k(embedder, analyzer, work_dir=args.work_dir)
        print("100k:", results["speed_100k"])
    write_result("gaps-tune" if args.tune else "gaps", results)


if __name__ == "__main__":
    main()
