"""python -m bench.events_load: deflection at volume.

1. Bulk-load suggestion sets and events (default 200k and 1M) into SQLite and PostgreSQL and time
   the 30-day deflection report grouped by day and by article.
2. Ingest events through the HTTP API (a real uvicorn on loopback) with 8 concurrent clients and
   measure events/s, for single events and for batches.

The load generator shares the machine with the server, so it must be cheap: each client is a thread
with one keep-alive connection through the standard library's http.client (~0.3 ms of CPU a request
here, against ~1.3 ms for httpx, which on 2 cores took CPU the server needed). Threads suffice:
they wait on sockets, where the GIL is released. The CPU seconds that the server, PostgreSQL and the
load generator spent are recorded next to each rate, so a figure can be read against what bounds it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text
from sqlmodel import Session
from tqdm import tqdm

from app.db.engine import create_tables, make_engine, reset_schema
from app.db.models import Event, SuggestedArticle, SuggestionSet
from app.reports.deflection import DeflectionPolicy, deflection_report
from app.reports.period import Period
from app.rollup import rebuild
from bench.cpu import CpuMeter
from bench.run import run_info, write_result
from bench.server import served
from indexer.analysis import Analyzer
from indexer.build import build_index
from indexer.embedders import DEFAULT_MODEL, load_embedder

ARTICLES = [f"article-{i:03d}" for i in range(300)]
ACTIONS = [
    "impression",
    "impression",
    "click",
    "click",
    "helpful",
    "not_helpful",
    "solved",
    "ticket_submitted",
    "form_abandoned",
]


def bulk_load(database_url: str, *, sets: int, events: int, days: int = 30, seed: int = 5) -> dict[str, float]:
    """Fresh tables filled with synthetic traffic spread over `days`; returns load timings."""
    engine = make_engine(database_url)
    reset_schema(engine)
    create_tables(engine)
    rng = random.Random(seed)
    now = time.time()
    started = time.perf_counter()
    ids = [uuid.uuid4().hex for _ in range(sets)]
    per_set_events = events / sets
    with engine.begin() as connection:
        for chunk in tqdm(range(0, sets, 5000), desc="sets+events", unit="5k sets"):
            set_rows, shown_rows, event_rows = [], [], []
            for query_id in ids[chunk : chunk + 5000]:
                at = now - rng.random() * days * 86400
                shown = 0 if rng.random() < 0.1 else rng.randint(1, 5)
                client = f"client-{rng.randint(0, sets // 3)}"
                shown_articles = rng.sample(ARTICLES, shown)
                set_rows.append(
                    {
                        "id": query_id,
                        "created_at": dt.datetime.fromtimestamp(at, dt.UTC),
                        "created_epoch": at,
                        "created_day": dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d"),
                        "channel": rng.choice(["search", "form", "api"]),
                        "locale": "ja",
                        "client_id": client,
                        "text": "question",
                        "label": "answered" if shown else "no_answer",
                        "confidence": 0.7,
                        "result_count": shown,
                        "index_build": "bench",
                        "composing": False,
                        "intent_id": query_id,
                        "superseded": False,
                        "first_article": shown_articles[0] if shown_articles else None,
                    }
                )
                shown_rows += [
                    {
                        "query_id": query_id,
                        "position": p,
                        "article_id": a,
                        "score": 0.5,
                        "confidence": 0.6,
                        "fallback": False,
                    }
                    for p, a in enumerate(shown_articles, start=1)
                ]
                for _ in range(int(per_set_events) + (rng.random() < per_set_events % 1)):
                    action = rng.choice(ACTIONS) if shown else rng.choice(["ticket_submitted", "form_abandoned"])
                    article = (
                        rng.choice(shown_articles) if shown and action in ("click", "helpful", "not_helpful") else None
                    )
                    event_rows.append(
                        {
                            "query_id": query_id,
                            "client_id": client,
                            "action": action,
                            "article_id": article,
                            "position": shown_articles.index(article) + 1 if article else None,
                            "ts_epoch": at + rng.random() * 30 * 3600,
                            "received_at": dt.datetime.now(dt.UTC),
                            "idempotency_key": uuid.uuid4().hex,
                        }
                    )
            connection.execute(insert(SuggestionSet), set_rows)
            if shown_rows:
                connection.execute(insert(SuggestedArticle), shown_rows)
            if event_rows:
                connection.execute(insert(Event), event_rows)
    load_seconds = time.perf_counter() - started
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    # Bulk rows bypass the ingest path, so their rollup is rebuilt from the events in one go.
    started = time.perf_counter()
    with Session(engine) as session:
        rebuild(session, policy=DeflectionPolicy())
    rebuild_seconds = time.perf_counter() - started
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
        count = connection.execute(text("SELECT COUNT(*) FROM event")).scalar_one()
    timings: dict[str, Any] = {
        "sets": sets,
        "events": int(count),
        "bulk_load_seconds": round(load_seconds, 1),
        "rollup_rebuild_seconds": round(rebuild_seconds, 1),
    }
    period = Period.of(dt.date.today() - dt.timedelta(days=days - 1), dt.date.today())
    for group_by in (None, "day", "article"):
        runs = []
        for _ in range(3):
            with Session(engine) as session:
                t0 = time.perf_counter()
                report = deflection_report(session, period=period, group_by=group_by)
                runs.append(time.perf_counter() - t0)
        timings[f"report_{group_by or 'totals'}_seconds_median"] = round(statistics.median(runs), 3)
        timings[f"report_{group_by or 'totals'}_groups"] = len(report.groups)
    engine.dispose()
    return timings


def http_ingestion(
    *,
    port: int,
    sets: int,
    events: int,
    clients: int,
    batch: int,
    workdir: Path,
    database_url: str | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Events/s through POST /v1/events with `clients` concurrent clients against a real server."""
    if database_url is None:
        db = workdir / "ingest.db"
        db.unlink(missing_ok=True)
        database_url = f"sqlite:///{db}"
    else:
        engine = make_engine(database_url)
        reset_schema(engine)
        engine.dispose()
    env = {
        "DEFLECT_DATABASE_URL": database_url,
        "DEFLECT_INDEX_DIR": str(workdir / "index"),
        "DEFLECT_INDEX_POLL_SECONDS": "0",
        "DEFLECT_RATE_LIMIT_PER_MINUTE": "10000000",
        "DEFLECT_RATE_LIMIT_PER_KEY_PER_MINUTE": "10000000",
    }
    with served(env, port=port, workers=workers) as base:
        with httpx.Client(base_url=base, timeout=30) as setup:
            query_ids = [
                setup.post("/v1/suggest", json={"text": "パスワードを忘れた", "client_id": f"c{i}"}).json()["query_id"]
                for i in range(sets)
            ]
        per_client = events // clients
        errors: list[int] = []

        def worker(n: int) -> None:
            rng = random.Random(n)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            sent = 0
            while sent < per_client:
                body = [
                    {
                        "query_id": rng.choice(query_ids),
                        "client_id": f"w{n}",
                        "action": "impression",
                        "idempotency_key": uuid.uuid4().hex,
                    }
                    for _ in range(min(batch, per_client - sent))
                ]
                payload = json.dumps(body if batch > 1 else body[0]).encode()
                connection.request("POST", "/v1/events", body=payload, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(response.status)
                sent += len(body)
            connection.close()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
        meter = CpuMeter(port=port, database_url=database_url)
        meter.start()
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - t0
        spent, machine_busy = meter.spent(seconds)
        sent_events = per_client * clients
        requests = sent_events / batch
        # CPU milliseconds per request, by process: what an event costs, whatever else the machine runs.
        cpu_ms = {name: round(seconds_used * 1000 / requests, 2) for name, seconds_used in spent.items()}
        return {
            "database": database_url.split(":")[0],
            "workers": workers,
            "statuses_other_than_200": dict(Counter(errors)),
            "clients": clients,
            "batch": batch,
            "events": sent_events,
            "seconds": round(seconds, 2),
            "events_per_second": round(sent_events / seconds, 1),
            "errors": len(errors),
            "cpu_ms_per_request": cpu_ms,
            # The share of the whole machine's CPU that was busy (ours and others'): near 1.0, CPU was the bound.
            "machine_cpu_busy": round(machine_busy, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.events_load")
    parser.add_argument("--sets", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        help="a database whose tables this may drop ('' to skip)",
    )
    parser.add_argument("--http-events", type=int, default=16_000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench"))
    parser.add_argument("--http-only", action="store_true", help="skip the bulk load and report timings")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers serving the ingestion run")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"run": run_info({name: str(value) for name, value in vars(args).items()})}
    if not args.http_only:
        sqlite_path = args.workdir / "events_load.db"
        sqlite_path.unlink(missing_ok=True)
        results["sqlite"] = bulk_load(f"sqlite:///{sqlite_path}", sets=args.sets, events=args.events)
        print("sqlite", results["sqlite"], flush=True)
        if args.postgres:
            results["postgresql"] = bulk_load(args.postgres, sets=args.sets, events=args.events)
            print("postgresql", results["postgresql"], flush=True)
    # The served index: content/ built into the work directory, so a fresh checkout needs no `deflect index`.
    build_index(
        content_dir=Path("content"),
        index_dir=args.workdir / "index",
        embedder=load_embedder(DEFAULT_MODEL),
        analyzer=Analyzer(),
    )
    results["http"] = []
    for database_url in [None, args.postgres or None][: 2 if args.postgres else 1]:
        for batch in (1, 25, 100):
            row = http_ingestion(
                port=args.port,
                sets=200,
                events=args.http_events,
                clients=8,
                batch=batch,
                workdir=args.workdir,
                database_url=database_url,
                workers=args.workers,
            )
            results["http"].append(row)
            print("http", row, flush=True)
    write_result("events-load", results)


if __name__ == "__main__":
    main()
