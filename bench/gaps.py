"""python -m bench.gaps: gap-topic quality and speed.

For each gap data set, its queries go through the real suggest path into a fresh database; an
unanswered query is followed by a ticket, as a customer with no answer would write in. The gap
report's topics are then compared with the true `gap_topic` of the unanswered queries (ARI, NMI,
and the share of unanswered queries that land in some topic). The topic threshold is chosen on val
(`--tune`), never on test. Then the report is timed on 100k synthetic inquiries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sqlmodel import Session
from tqdm import tqdm

from app.calibration import calibration_for, load_calibrations
from app.db import create_tables, make_engine
from app.deflection import Period
from app.events import EventIn, record_events
from app.gaps import GapSettings, Inquiry, build_topics, gap_report
from app.privacy import Redactor
from app.search import SearchIndex
from app.suggestions import Suggester, SuggestPolicy, SuggestRequest, suggest
from app.vocabulary import Action, Channel
from bench.datasets import Dataset, Query, default_datasets_dir, load_dataset
from bench.run import write_result
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_from_articles
from indexer.embedding import DEFAULT_MODEL, load_embedder

GAP_SETS = ("banking77_oos", "clinc150_gap", "stackfaq_gap", "localgovfaq_gap")


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
    dataset = load_dataset(default_datasets_dir(), name)
    index = _index_of(dataset, work_dir=work_dir, embedder=embedder, analyzer=analyzer)
    queries = dataset.split(split)
    if len(queries) > max_queries:
        queries = random.Random(3).sample(queries, max_queries)
    db_path = work_dir / f"gaps-{name}-{split}.db"
    db_path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    create_tables(engine)
    policy = SuggestPolicy(("ja", "en"), 2, 2000, {"default": (0.5, 0.2)})
    calibration = calibration_for(embedder.name, load_calibrations())
    suggester = Suggester(embedder=embedder, calibration=calibration, redactor=Redactor(), policy=policy)
    ids: dict[str, Query] = {}
    with Session(engine) as session:
        for n, query in enumerate(tqdm(queries, desc=f"{name}/{split}: suggest", leave=False)):
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
            )
        seconds = time.perf_counter() - started
        topic_of = {qid: t for t, topic in enumerate(report.topics) for qid in topic.query_ids}
        unanswered = [(qid, q) for qid, q in ids.items() if not q.relevant]
        with_topic = [(qid, q) for qid, q in unanswered if q.gap_topic]
        truth = [q.gap_topic for _, q in with_topic]
        predicted = [topic_of.get(qid, -1 - i) for i, (qid, _) in enumerate(with_topic)]  # noise: own cluster
        rows.append(
            {
                "dataset": name,
                "split": split,
                "topic_similarity": index.topic_space.topic_similarity if similarity is None else similarity,
                "queries": len(ids),
                "unanswered": len(unanswered),
                "with_true_topic": len(with_topic),
                "true_topics": len(set(truth)),
                "found_topics": len(report.topics),
                "ARI": round(adjusted_rand_score(truth, predicted), 4) if truth else None,
                "NMI": round(normalized_mutual_info_score(truth, predicted), 4) if truth else None,
                "unanswered_in_a_topic": round(
                    sum(qid in topic_of for qid, _ in unanswered) / max(1, len(unanswered)), 4
                ),
                "missing_article_topics": sum(t.verdict == "missing_article" for t in report.topics),
                "report_seconds": round(seconds, 2),
            }
        )
        print(rows[-1], flush=True)
    engine.dispose()
    return rows


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
    args = parser.parse_args()
    embedder, analyzer = load_embedder(args.model), Analyzer()
    results: dict[str, Any] = {"model": embedder.name, "rows": []}
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
