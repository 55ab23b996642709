"""python -m bench.service_latency: the sample help center served for real, measured as a customer sees it.

Builds content/ into a fresh index (timed), starts `uvicorn` on loopback with SQLite, sends ja and
en questions from one client, and measures suggest latency over HTTP next to the bare model's
query-encoding time in this same run, so the ratio shows what everything else costs. Then 4
threads embed questions at once, one model call each and through the service's BatchingEmbedder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.run import write_json
from bench.server import served
from indexer.analysis import Analyzer
from indexer.build import build_index
from indexer.embedders import DEFAULT_MODEL, BatchingEmbedder, Embedder, load_embedder

QUESTIONS = {
    "ja": [
        "パスワードを忘れてログインできません",
        "有給休暇は何日もらえますか",
        "打刻を修正したい",
        "締め解除の方法",
        "ＳＳＯでエラーE-2001が出る",
        "請求書をダウンロードしたい",
        "シフトを公開するには",
        "残業の申請方法",
    ],
    "en": [
        "I forgot my password",
        "How can I download an invoice?",
        "set up a webhook",
        "API rate limit",
        "switch the display language to English",
        "excel csv garbled",
        "close the month",
        "paid leave grant",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.service_latency")
    parser.add_argument("--rounds", type=int, default=25, help="each question is asked this many times")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    work = Path(tempfile.mkdtemp(prefix="deflect-latency-"))
    embedder = load_embedder(args.model)
    started = time.perf_counter()
    report = build_index(content_dir=root / "content", index_dir=work / "index", embedder=embedder, analyzer=Analyzer())
    build_seconds = time.perf_counter() - started

    env = {
        "DEFLECT_DATABASE_URL": f"sqlite:///{work / 'deflect.db'}",
        "DEFLECT_INDEX_DIR": str(work / "index"),
        "DEFLECT_CONTENT_DIR": str(root / "content"),
        "DEFLECT_MODEL": args.model,
        "DEFLECT_RATE_LIMIT_PER_MINUTE": "1000000",
    }
    figures: dict[str, Any] = {
        "model": embedder.name,
        "index_build_seconds": round(build_seconds, 2),
        "articles": len(report.added),
        "passages_embedded": report.embedded_passages,
    }
    with served(env, port=args.port, cwd=root) as base, httpx.Client(base_url=base, timeout=30) as client:
        for locale, questions in QUESTIONS.items():
            for question in questions:  # warm-up
                client.post("/v1/suggest", json={"text": question, "locale": locale})
            http_ms, encode_ms = [], []
            for _ in range(args.rounds):
                for question in questions:
                    t0 = time.perf_counter()
                    response = client.post("/v1/suggest", json={"text": question, "locale": locale, "channel": "form"})
                    http_ms.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200, response.text
                    t0 = time.perf_counter()
                    embedder.embed_queries([question])
                    encode_ms.append((time.perf_counter() - t0) * 1000)
            figures[locale] = {
                "requests": len(http_ms),
                "suggest_p50_ms": round(statistics.median(http_ms), 2),
                "suggest_p95_ms": round(float(np.percentile(http_ms, 95)), 2),
                "encode_p50_ms": round(statistics.median(encode_ms), 2),
                "ratio_p50": round(statistics.median(http_ms) / statistics.median(encode_ms), 2),
            }
            print(locale, figures[locale], flush=True)
    figures["concurrent_encoding"] = concurrent_encoding(embedder, [q for qs in QUESTIONS.values() for q in qs])
    print(figures)
    write_json(root / "bench" / "results" / f"{time.strftime('%Y%m%dT%H%M%S')}-service-latency.json", figures)


def concurrent_encoding(
    embedder: Embedder, questions: list[str], *, threads: int = 4, each: int = 60
) -> dict[str, Any]:
    """Questions/s and CPU ms a question when `threads` request threads embed at once, each model call
    alone against the service's BatchingEmbedder (questions asked while the model is busy go in one batch)."""
    figures: dict[str, Any] = {"threads": threads}
    for name, subject in (("one_call_each", embedder), ("batching", BatchingEmbedder(embedder))):

        def ask(offset: int, subject: Embedder = subject) -> None:
            for i in range(each):
                subject.embed_queries([questions[(offset + i) % len(questions)]])

        workers = [threading.Thread(target=ask, args=(n * 5,)) for n in range(threads)]
        wall, cpu = time.perf_counter(), time.process_time()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        figures[name] = {
            "questions_per_second": round(threads * each / wall, 1),
            "cpu_ms_per_question": round(cpu * 1000 / (threads * each), 2),
        }
    figures["cpu_ratio"] = round(
        figures["batching"]["cpu_ms_per_question"] / figures["one_call_each"]["cpu_ms_per_question"], 2
    )
    print("concurrent encoding", figures, flush=True)
    return figures


if __name__ == "__main__":
    main()
