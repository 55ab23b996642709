"""python -m bench.bridge: fit the linear bridge that lets a pair of models read Japanese on both halves.

A pair of a multilingual model and an English-only one (indexer/embedders/paired.py) gives
Japanese text no vector from the English-only model. The bridge is a linear map from the multilingual
model's space into the English-only one's, fitted by ridge regression on English questions that both
models embed: the train splits of the intent sets' raw inquiries, never val or test. A Japanese text's
multilingual vector, carried over, stands in for the English-only model's; the multilingual model's space
is shared across languages, so the estimate is about where the English-only model would put the same
question asked in English.

The ridge penalty is chosen on questions held out of the fit (their mean cosine between the estimate
and the model's own vector); the bridge is then refitted on all of them and written to
indexer/embedders/bridges/ in float16, with the figures in bench/results.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.datasets import default_datasets_dir, load_inquiry_texts
from bench.run import run_info, write_json
from indexer.embedders import Embedder, Vectors, load_embedder
from indexer.embedders.packaged import ENGLISH_ONLY_MODELS
from indexer.embedders.paired import bridge_path

# English intent sets with train splits of raw inquiries (customer questions of several domains).
TRAIN_SETS = ("clinc150", "banking77", "hint3_v2_curekart", "hint3_v2_powerplay11", "hint3_v2_sofmattress")
PENALTIES = (0.01, 0.1, 1.0, 10.0)
HELD_OUT = 2000
EMBED_BATCH = 256


def fit_ridge(inputs: Vectors, targets: Vectors, penalty: float) -> Vectors:
    """The map W minimising |inputs W - targets|^2 + penalty |W|^2."""
    x, y = inputs.astype(np.float64), targets.astype(np.float64)
    bridge: Vectors = np.linalg.solve(x.T @ x + penalty * np.eye(x.shape[1]), x.T @ y).astype(np.float32)
    return bridge


def mean_cosine(inputs: Vectors, bridge: Vectors, targets: Vectors) -> float:
    """How close the carried-over vectors come to the target model's own, on average."""
    estimate = inputs @ bridge
    estimate /= np.maximum(np.linalg.norm(estimate, axis=1, keepdims=True), 1e-12)
    return float((estimate * targets).sum(axis=1).mean())


def _embed(model: Embedder, texts: list[str]) -> Vectors:
    chunks = []
    for start in tqdm(range(0, len(texts), EMBED_BATCH), desc=f"embed: {model.name}", unit="batch"):
        chunks.append(model.embed_documents(texts[start : start + EMBED_BATCH]))
    return np.vstack(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bridge")
    parser.add_argument("--reader", default="use-multilingual-v3", help="the model that reads Japanese")
    parser.add_argument("--english-only", default="all-MiniLM-L6-v2-int8", choices=sorted(ENGLISH_ONLY_MODELS))
    parser.add_argument("--datasets-dir", type=Path, default=default_datasets_dir())
    parser.add_argument("--max-questions", type=int, default=20000)
    parser.add_argument(
        "--out", type=Path, default=None, help="default: indexer/embedders/bridges/<reader>--<english-only>.npy"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    texts = list(
        dict.fromkeys(t for name in TRAIN_SETS for t in load_inquiry_texts(args.datasets_dir, name, split="train"))
    )
    if len(texts) < 2 * HELD_OUT:
        parser.error(f"too few train inquiries under {args.datasets_dir} ({len(texts)})")
    random.Random(0).shuffle(texts)
    texts = texts[: args.max_questions]
    reader, english_only = load_embedder(args.reader), load_embedder(args.english_only)
    inputs, targets = _embed(reader, texts), _embed(english_only, texts)
    fit, held = slice(HELD_OUT, None), slice(0, HELD_OUT)
    held_out = {
        penalty: mean_cosine(inputs[held], fit_ridge(inputs[fit], targets[fit], penalty), targets[held])
        for penalty in PENALTIES
    }
    penalty = max(held_out, key=lambda p: held_out[p])
    bridge = fit_ridge(inputs, targets, penalty)
    out = args.out or bridge_path(reader.name, english_only.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, bridge.astype(np.float16))
    for p, cosine in held_out.items():
        print(f"penalty {p:<6} held-out mean cosine {cosine:.4f}" + ("  <- chosen" if p == penalty else ""))
    print(f"{len(texts)} English questions; bridge {bridge.shape} written to {out}")
    figures: dict[str, Any] = {
        "run": run_info(vars(args) | {"datasets_dir": str(args.datasets_dir), "out": str(out)}),
        "seconds": round(time.perf_counter() - started, 1),
        "questions": len(texts),
        "held_out": HELD_OUT,
        "held_out_mean_cosine": {str(p): round(c, 4) for p, c in held_out.items()},
        "penalty": penalty,
    }
    stamp = time.strftime("%Y%m%dT%H%M%S")
    write_json(Path("bench/results") / f"{stamp}-bridge.json", figures)


if __name__ == "__main__":
    main()
