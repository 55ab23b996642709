"""python -m bench: retrieval quality, gap detection and speed on ../shared/datasets.

python -m bench                         every data set, the default model and USE alone, all retrieval modes
python -m bench --quick                 the default model alone, on a sample of queries per set (builds are cached)
python -m bench --dataset localgovfaq --models use-multilingual-v3,multilingual-e5-small-q4
(python -m bench.calibrate fits the confidence; python -m bench.helpcenter measures help centers through the API)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from app.suggestions import DEFAULT_LIMIT
from bench.datasets import available, default_datasets_dir, load_dataset
from bench.report import markdown_report
from bench.run import (
    latency_sample,
    load_index,
    peak_rss_mb,
    run_info,
    select_queries,
    set_figures,
    time_searches,
    write_json,
)
from bench.workers import plan_tasks, run_tasks
from indexer.analysis import Analyzer
from indexer.embedders import DEFAULT_MODEL, load_embedder
from indexer.embedders.packaged import UniversalSentenceEncoder
from retrieval.calibration import calibration_for, load_calibrations

# Extra models run only on these sets in a full run: e5's indexing is ~20x slower than USE's on long
# passages (stackfaq alone took 3.5 minutes to index), so the comparison uses the short-text sets.
SMALL_SETS = ("hint3_v2_sofmattress", "hint3_v2_curekart", "hint3_v2_powerplay11")
EXTRA_MODELS = ("multilingual-e5-small-q4", "all-MiniLM-L6-v2", "all-MiniLM-L6-v2-int8")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", action="append", help="a data set name (repeatable); default: all")
    parser.add_argument("--datasets-dir", type=Path, default=default_datasets_dir())
    parser.add_argument(
        "--models",
        default=None,
        help="comma-separated embedding models (default: the default model, and USE alone unless --quick)",
    )
    parser.add_argument(
        "--extra-models-on-small-sets",
        default=None,
        help=f"models also compared on the small sets (default in a full run: {','.join(EXTRA_MODELS)}; '' for none)",
    )
    parser.add_argument(
        "--quick",
        nargs="?",
        const=120,
        type=int,
        default=None,
        help="sample this many queries per split and set (default 120)",
    )
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench"), help="cached index builds")
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="processes that index the sets and rank their queries, before anything is timed (default: one per core)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()

    if not args.datasets_dir.is_dir():
        parser.error(f"no data sets at {args.datasets_dir}: pass --datasets-dir")
    names = args.dataset or available(args.datasets_dir)
    # A quick run is a check of the default model that must stay within minutes: it compares no others.
    default_models = DEFAULT_MODEL if args.quick else f"{DEFAULT_MODEL},{UniversalSentenceEncoder.name}"
    models = [m for m in (args.models or default_models).split(",") if m]
    extra_models = args.extra_models_on_small_sets
    if extra_models is None:
        extra_models = "" if args.quick else ",".join(EXTRA_MODELS)
    extra = [m for m in extra_models.split(",") if m and m not in models]
    analyzer = Analyzer()
    calibrations = load_calibrations()
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    runs = [
        (model, [n for n in names if model not in extra or n in SMALL_SETS or args.dataset])
        for model in [*models, *extra]
    ]
    datasets = {name: load_dataset(args.datasets_dir, name) for _, sets in runs for name in sets}
    ranked = run_tasks(
        plan_tasks(runs, datasets, quick=args.quick),
        datasets_dir=args.datasets_dir,
        work_dir=args.work_dir,
        quick=args.quick,
        workers=args.workers,
    )
    ranking_seconds = time.perf_counter() - started
    # Now alone on the machine: each model's latency sample, answered as the service answers (app/api/main.py).
    threadpool_limits(limits=1, user_api="blas")
    for model_name, sets in runs:
        embedder = load_embedder(model_name)
        embedder.embed_queries(["warm-up"])
        calibration = calibration_for(embedder.name, calibrations)
        for name in sets:
            dataset, result = datasets[name], ranked[(model_name, name)]
            loading = time.perf_counter()
            index = load_index(args.work_dir, name, embedder.name, analyzer)
            # What a service waits for at start and at each new build, alone on the machine too.
            load_seconds = round(time.perf_counter() - loading, 4)
            sample = latency_sample(select_queries(dataset, args.quick))
            speed = time_searches(index, embedder, calibration, sample, desc=f"{name}: {embedder.name}: timing")
            speed["index_load_seconds"] = load_seconds
            figures = set_figures(dataset, embedder.name, result, speed)
            results.append(figures)
            print(_one_line(figures), flush=True)

    run = {
        "run": run_info({k: str(v) for k, v in vars(args).items()}),
        "seconds": round(time.perf_counter() - started, 1),
        "indexing_and_ranking": {"seconds": round(ranking_seconds, 1), "workers": args.workers},
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_mb_workers": peak_rss_mb(children=True),
        "timed_search_limit": DEFAULT_LIMIT,  # results a timed search returns: the API's default
        "results": results,
    }
    stamp = time.strftime("%Y%m%dT%H%M%S")
    kind = "quick" if args.quick else "full"
    write_json(args.out / f"{stamp}-{kind}.json", run)
    table = markdown_report(run)
    (args.out / f"{stamp}-{kind}.md").write_text(table, encoding="utf-8")
    print(table)
    print(f"wrote {args.out / f'{stamp}-{kind}.json'} ({run['seconds']} s, peak RSS {run['peak_rss_mb']} MB)")


def _one_line(figures: dict[str, Any]) -> str:
    hybrid = figures["modes"]["hybrid"]
    gap = figures["gap"]
    line = (
        f"{figures['dataset']:<22} {figures['model']:<26} hybrid R@1 {hybrid['R@1']:.3f} R@5 {hybrid['R@5']:.3f} "
        f"nDCG@10 {hybrid['nDCG@10']:.3f} MRR@10 {hybrid['MRR@10']:.3f} "
        f"| dense R@1 {figures['modes']['dense']['R@1']:.3f}"
        f" lexical R@1 {figures['modes']['lexical']['R@1']:.3f}"
    )
    if gap:
        line += f" | AUROC {gap['auroc']:.3f}"
    return (
        line
        + f" | search p50 {figures['speed']['search_p50_ms']:.1f} ms (encode {figures['speed']['encode_p50_ms']:.1f})"
    )


if __name__ == "__main__":
    main()
