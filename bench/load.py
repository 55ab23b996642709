"""Mixed traffic against a served Deflect: suggest and event clients, reindexes, a database restart.

    python -m bench.load                 # 10 minutes: 8 suggest clients, 4 event clients, 2 workers,
                                         # a reindex every 2 minutes, PostgreSQL restarted halfway
    python -m bench.load --smoke         # the same in 40 seconds, for CI

The server is a real uvicorn (several workers) on loopback, over PostgreSQL by default (its schema is
reset first: point --database-url at a database you can spare). Clients are closed-loop, without think
time. Event clients report on the suggestion sets the suggest clients got, retrying a refused batch
with the same idempotency keys, as the widget does. At the end every event the server acknowledged is
looked up in the database by its idempotency key: lost events are those acknowledged but not stored.

Prints the figures and writes bench/results/<time>-load.json.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from tqdm import tqdm

from app.db.engine import make_engine, reset_schema
from bench.cpu import CpuMeter
from bench.run import run_info, write_json
from bench.server import KeepAliveClient, served
from indexer import store
from indexer.embedders import DEFAULT_MODEL

REPO = Path(__file__).resolve().parents[1]
QUERIES = REPO / "bench" / "content_queries.jsonl"
DEFLECT = Path(sys.executable).parent / "deflect"  # the CLI installed beside this Python
PUBLISHABLE_KEY, SECRET_KEY = "pk_load", "sk_load"
# 5xx answers this long after the database is back still count as "in the restart window".
RESTART_GRACE_SECONDS = 5.0


@dataclass
class Outcome:
    kind: str  # "suggest" or "events"
    started: float  # seconds since the run began
    seconds: float
    status: int  # 0: no HTTP answer (connection error or timeout)


@dataclass
class Ledger:
    """What the event clients were told, by idempotency key."""

    sent: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    refused: Counter[int] = field(default_factory=Counter)  # final refusals, by status
    in_doubt: set[str] = field(default_factory=set)  # never answered: stored or not, the client cannot know
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Incident:
    what: str
    started: float
    ended: float
    detail: dict[str, Any] = field(default_factory=dict)


class Run:
    def __init__(self, base: str, duration: float) -> None:
        self.base = base
        self.duration = duration
        self.began = time.monotonic()
        self.stop = threading.Event()
        self.outcomes: list[Outcome] = []  # list.append is atomic: threads share it without a lock
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=2000)
        self.ledger = Ledger()
        self.incidents: list[Incident] = []
        self.not_recorded = 0

    def now(self) -> float:
        return time.monotonic() - self.began

    def post(self, client: KeepAliveClient, kind: str, path: str, body: Any) -> tuple[int, Any]:
        """(status, answer); status 0 when no HTTP answer came. Every call is one outcome."""
        started = self.now()
        try:
            status, answer = client.post_json(path, body)
        except (OSError, http.client.HTTPException):
            status, answer = 0, None
        self.outcomes.append(Outcome(kind, started, self.now() - started, status))
        return status, answer


def _client(base: str) -> KeepAliveClient:
    return KeepAliveClient(base, headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"})


def suggest_client(run: Run, number: int, questions: list[dict[str, str]]) -> None:
    rng = random.Random(number)
    client = _client(run.base)
    customers = itertools.count()
    customer, questions_left = f"load-{number}-{next(customers)}", rng.randint(1, 6)
    while not run.stop.is_set():
        # Each customer asks a few questions, then another takes over: many client ids, as on a real site.
        # The widget calls the API from the customer's browser, so a new customer is a new connection
        # (and uvicorn's workers share the new connections among them, as they would on a real site).
        if questions_left == 0:
            customer, questions_left = f"load-{number}-{next(customers)}", rng.randint(1, 6)
            client.close()
        questions_left -= 1
        question = rng.choice(questions)
        body = {"text": question["text"], "locale": question["locale"], "client_id": customer}
        body["channel"] = rng.choice(["search", "form"])
        status, answer = run.post(client, "suggest", "/v1/suggest", body)
        if status != 200:
            continue
        if not answer["recorded"]:
            run.not_recorded += 1  # answered while the database was away: there is no set to report on
            continue
        try:
            run.answers.put_nowait({**answer, "client_id": body["client_id"]})
        except queue.Full:
            pass  # event clients are behind; not every set gets events, as in real traffic
    client.close()


def _events_for(answer: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """What a customer might do: see the set, often open an article, then vote, leave solved or write in."""
    common = {"query_id": answer["query_id"], "client_id": answer["client_id"]}
    events = [{**common, "action": "impression"}]
    if answer["results"] and rng.random() < 0.6:
        position = rng.randrange(len(answer["results"]))
        article = {"article_id": answer["results"][position]["article_id"], "position": position + 1}
        events.append({**common, **article, "action": "click"})
        follow_up = rng.choice(["helpful", "not_helpful", "solved", "ticket_submitted"])
        events.append({**common, **(article if follow_up in ("helpful", "not_helpful") else {}), "action": follow_up})
    for event in events:
        event["idempotency_key"] = f"{answer['query_id']}:{event['action']}"
    return events


def event_client(run: Run, number: int, retries: int = 5) -> None:
    rng = random.Random(1000 + number)
    ledger = run.ledger
    client = _client(run.base)
    while not run.stop.is_set():
        try:
            answer = run.answers.get(timeout=0.5)
        except queue.Empty:
            continue
        events = _events_for(answer, rng)
        keys = [event["idempotency_key"] for event in events]
        with ledger.lock:
            ledger.sent.update(keys)
        for attempt in range(retries + 1):
            status, _ = run.post(client, "events", "/v1/events", events)
            if status == 200:
                with ledger.lock:
                    ledger.acknowledged.update(keys)
                    ledger.in_doubt.difference_update(keys)
                break
            with ledger.lock:
                if status == 0:
                    ledger.in_doubt.update(keys)
                elif attempt == retries or status < 500:
                    ledger.refused[status] += len(keys)
            if 0 < status < 500 and status != 429:
                break  # a clear refusal that a retry would not change
            if attempt == retries or run.stop.wait(min(8.0, 0.5 * 2**attempt)):
                break
    client.close()


def reindexer(run: Run, content: Path, index_dir: Path, every: float, env: dict[str, str]) -> None:
    """Edit an article and publish a new build with `deflect index`, every `every` seconds; note when it serves.

    The cadence runs from one start to the next: a reindex slowed by the load delays the next one, not the ones after.
    """
    article = sorted(content.rglob("*.md"))[0]
    round_ = 0
    due = run.now() + every
    while not run.stop.wait(max(0.0, due - run.now())):
        round_ += 1
        due += every
        with article.open("a", encoding="utf-8") as handle:
            handle.write(f"\n\n改訂 {round_}: 手順を見直しました。\n")
        started = run.now()
        done = subprocess.run(
            [str(DEFLECT), "index"], env={**os.environ, **env}, capture_output=True, text=True, check=False
        )
        published = store.current_build_id(index_dir)
        detail: dict[str, Any] = {"round": round_, "exit": done.returncode, "published": published}
        indexed = run.now()
        while not run.stop.is_set() and _ready(run.base).get("index_build") != published:
            time.sleep(0.1)
        detail["index_seconds"] = round(indexed - started, 1)
        detail["serving_after_seconds"] = round(run.now() - indexed, 1) if not run.stop.is_set() else None
        run.incidents.append(Incident("reindex", started, run.now(), detail))


def restarter(run: Run, at: float, how: str, database_url: str) -> None:
    """Restart the database once, `at` seconds into the run, and note when the service saw it back."""
    if run.stop.wait(at):
        return
    started = run.now()
    if how == "pg_ctlcluster":
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        detail: dict[str, Any] = {"command": " ".join(command), "exit": result.returncode, "said": result.stderr[-500:]}
    else:  # terminate: every backend cut, as a restart does to clients, without the outage in between
        engine = make_engine(database_url)
        with engine.connect() as connection:
            cut = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        engine.dispose()
        detail = {"backends_cut": cut}
    while not run.stop.is_set() and not _ready(run.base).get("database"):
        time.sleep(0.2)
    run.incidents.append(Incident(f"database restart ({how})", started, run.now(), detail))


def _ready(base: str) -> dict[str, Any]:
    try:
        body: dict[str, Any] = httpx.get(f"{base}/readyz", timeout=5).json()
        return body
    except (httpx.HTTPError, ValueError):
        return {}


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarise(run: Run, stored_keys: set[str], elapsed: float, cpu: tuple[dict[str, float], float]) -> dict[str, Any]:
    restarts = [i for i in run.incidents if i.what.startswith("database restart")]

    def in_restart_window(outcome: Outcome) -> bool:
        # Requests in flight when the restart began count too: their connection was cut under them.
        finished = outcome.started + outcome.seconds
        return any(finished >= i.started and outcome.started <= i.ended + RESTART_GRACE_SECONDS for i in restarts)

    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in run.outcomes:
        by_kind[outcome.kind].append(outcome)
    traffic = {}
    for kind, outcomes in sorted(by_kind.items()):
        ok = [o.seconds * 1000 for o in outcomes if o.status == 200]
        traffic[kind] = {
            "requests": len(outcomes),
            "per_second": round(len(outcomes) / elapsed, 1),
            "ok_per_second": round(len(ok) / elapsed, 1),
            "p50_ms": round(statistics.median(ok), 1) if ok else None,
            "p99_ms": round(_percentile(ok, 0.99) or 0, 1) if ok else None,
            "statuses": dict(sorted(Counter(str(o.status) for o in outcomes).items())),
            "server_errors_outside_restart": sum(
                1 for o in outcomes if (o.status >= 500 or o.status == 0) and not in_restart_window(o)
            ),
            "server_errors_in_restart": sum(
                1 for o in outcomes if (o.status >= 500 or o.status == 0) and in_restart_window(o)
            ),
            # When each server error came (seconds into the run), to tell a restart's tail from a fault.
            "server_error_times": [round(o.started, 1) for o in outcomes if o.status >= 500 or o.status == 0][:100],
        }
    ledger = run.ledger
    lost = ledger.acknowledged - stored_keys
    return {
        "seconds": round(elapsed, 1),
        "traffic": traffic,
        "events": {
            "sent": len(ledger.sent),
            "acknowledged": len(ledger.acknowledged),
            "stored": len(stored_keys & ledger.sent),
            "lost": len(lost),
            "refused_with_error": dict(ledger.refused),
            "never_answered": len(ledger.in_doubt),
            "stored_without_acknowledgement": len((stored_keys & ledger.sent) - ledger.acknowledged),
            "unaccounted": len(ledger.sent - ledger.acknowledged - ledger.in_doubt) - sum(ledger.refused.values()),
        },
        "suggestions_answered_but_not_recorded": run.not_recorded,
        # CPU ms per request (all kinds) by process: server, database, Redis and this load generator
        # share the machine's cores, so this says what the throughput figures were bound by.
        "cpu_ms_per_request": {
            name: round(used * 1000 / max(1, len(run.outcomes)), 2) for name, used in cpu[0].items()
        },
        "machine_cpu_busy": round(cpu[1], 2),
        "incidents": [i.__dict__ for i in run.incidents],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic (default 600)")
    parser.add_argument("--smoke", action="store_true", help="40 s, a reindex every 12 s: the CI smoke run")
    parser.add_argument("--suggest-clients", type=int, default=8)
    parser.add_argument("--event-clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument(
        "--model",
        default=os.environ.get("DEFLECT_MODEL", DEFAULT_MODEL),
        help="the served model (a pair joined by '+' too)",
    )
    parser.add_argument("--reindex-every", type=float, default=120, help="seconds between reindexes")
    parser.add_argument(
        "--restart",
        choices=["pg_ctlcluster", "terminate", "none"],
        default="pg_ctlcluster",
        help="how to restart PostgreSQL halfway: the real server (needs root), or cut every connection",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DEFLECT_LOAD_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"),
        help="its schema is reset first (default: DEFLECT_LOAD_DATABASE_URL or the local 'test' database)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="shared rate limits; '' for none")
    parser.add_argument("--output-dir", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.reindex_every = 40, 12
    if not args.database_url.startswith("postgresql"):
        args.restart = "none"

    questions = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    root = Path(tempfile.mkdtemp(prefix="deflect-load-"))
    server_log = Path(tempfile.mkstemp(prefix="deflect-load-server-", suffix=".log")[1])
    try:
        content, index_dir = root / "content", root / "index"
        shutil.copytree(REPO / "content", content)
        engine = make_engine(args.database_url)
        reset_schema(engine)
        engine.dispose()
        env = {
            "DEFLECT_DATABASE_URL": args.database_url,
            "DEFLECT_CONTENT_DIR": str(content),
            "DEFLECT_INDEX_DIR": str(index_dir),
            "DEFLECT_INDEX_POLL_SECONDS": "1",
            "DEFLECT_PUBLISHABLE_KEYS": PUBLISHABLE_KEY,
            "DEFLECT_SECRET_KEYS": SECRET_KEY,
            "DEFLECT_REDIS_URL": args.redis_url,
            # Every load client is 127.0.0.1: the limits are not under test here, the service is.
            "DEFLECT_RATE_LIMIT_PER_MINUTE": "10000000",
            "DEFLECT_RATE_LIMIT_PER_KEY_PER_MINUTE": "10000000",
            "DEFLECT_LOG_FORMAT": "text",
            "DEFLECT_MODEL": args.model,
        }
        built = subprocess.run([str(DEFLECT), "index"], env={**os.environ, **env}, capture_output=True, check=False)
        if built.returncode != 0:
            print(built.stderr.decode()[-2000:], file=sys.stderr)
            return 1
        with served(env, workers=args.workers, cwd=root, log=server_log) as base:
            run = Run(base, args.duration)
            threads = [
                *(
                    threading.Thread(target=suggest_client, args=(run, n, questions))
                    for n in range(args.suggest_clients)
                ),
                *(threading.Thread(target=event_client, args=(run, n)) for n in range(args.event_clients)),
                threading.Thread(target=reindexer, args=(run, content, index_dir, args.reindex_every, env)),
            ]
            if args.restart != "none":
                threads.append(
                    threading.Thread(target=restarter, args=(run, args.duration / 2, args.restart, args.database_url))
                )
            meter = CpuMeter(port=int(base.rsplit(":", 1)[1]), database_url=args.database_url)
            meter.start()
            for thread in threads:
                thread.start()
            with tqdm(total=int(args.duration), unit="s", desc="load") as progress:
                while run.now() < args.duration:
                    time.sleep(1)
                    progress.update(1)
                    progress.set_postfix(requests=len(run.outcomes), refresh=False)
            run.stop.set()
            for thread in threads:
                thread.join()
            elapsed = run.now()
            cpu = meter.spent(elapsed)
        engine = make_engine(args.database_url)
        with engine.connect() as connection:
            stored = {row[0] for row in connection.execute(text("SELECT idempotency_key FROM event"))}
        engine.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    figures = summarise(run, stored, elapsed, cpu)
    configuration = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    path = args.output_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-load.json"
    write_json(path, {**run_info(configuration), "figures": figures})
    _print(figures)
    print(f"wrote {path}")
    events = figures["events"]
    clean = events["lost"] == 0 and all(t["server_errors_outside_restart"] == 0 for t in figures["traffic"].values())
    if clean:
        server_log.unlink()
    else:  # what the server said is what explains a fault
        kept = shutil.move(server_log, path.with_suffix(".server.log"))
        print(f"server errors or lost events: the server's log is {kept}")
    return 0 if clean else 1


def _print(figures: dict[str, Any]) -> None:
    print(f"\n{figures['seconds']} s of traffic")
    for kind, t in figures["traffic"].items():
        print(
            f"  {kind:8} {t['requests']:7} requests  {t['ok_per_second']:6.1f} ok/s  p50 {t['p50_ms']} ms  "
            f"p99 {t['p99_ms']} ms  statuses {t['statuses']}  5xx outside restart {t['server_errors_outside_restart']}"
            f"  in restart {t['server_errors_in_restart']}"
        )
    print(f"  CPU ms a request: {figures['cpu_ms_per_request']}  machine busy {figures['machine_cpu_busy']:.0%}")
    events = figures["events"]
    print(
        f"  events: sent {events['sent']}, acknowledged {events['acknowledged']}, stored {events['stored']}, "
        f"lost {events['lost']}, refused with an error {events['refused_with_error']}, "
        f"never answered {events['never_answered']}"
    )
    for incident in figures["incidents"]:
        print(f"  {incident['what']} at {incident['started']:.1f}-{incident['ended']:.1f} s {incident['detail']}")


if __name__ == "__main__":
    sys.exit(main())
