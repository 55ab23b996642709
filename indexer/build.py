"""Incremental builds: re-embed only the articles whose content changed, then publish atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer import store
from indexer.analysis import Analyzer
from indexer.articles import Article, ArticleProblem, load_articles
from indexer.chunking import Passage, split_passages
from indexer.embedders import Embedder, Vectors, layout_of

# Bump when chunking changes, so every passage is re-embedded.
CHUNKING_VERSION = 1
# A build's vectors are reused only while the model still embeds these as it did (`model_fingerprint`).
FINGERPRINT_TEXTS = ("How do I reset my password?", "パスワードを再設定したい")
FINGERPRINT_TOLERANCE = 1e-3
EMBED_BATCH = 64

ProgressCallback = Callable[[int, int], None]


@dataclass
class BuildReport:
    build_id: str | None
    published: bool
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded_passages: int = 0
    reused_passages: int = 0
    problems: list[ArticleProblem] = field(default_factory=list)
    seconds: float = 0.0


def build_index(
    *,
    content_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    analyzer: Analyzer,
    force: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BuildReport:
    """Build from content_dir and publish, unless nothing changed since the live build."""
    started = time.perf_counter()
    loaded = load_articles(content_dir)
    return build_from_articles(
        loaded.articles,
        index_dir=index_dir,
        embedder=embedder,
        analyzer=analyzer,
        force=force,
        problems=loaded.problems,
        on_progress=on_progress,
        started=started,
    )


def build_from_articles(
    articles: list[Article],
    *,
    index_dir: Path,
    embedder: Embedder,
    analyzer: Analyzer,
    force: bool = False,
    problems: list[ArticleProblem] | None = None,
    on_progress: ProgressCallback | None = None,
    started: float | None = None,
) -> BuildReport:
    """Build from articles already in memory (the benchmark and importers come this way)."""
    started = time.perf_counter() if started is None else started
    with store.build_lock(index_dir):
        fingerprint = model_fingerprint(embedder)
        previous = _reusable_previous(index_dir, embedder, analyzer, fingerprint)
        old_hashes = previous.manifest.article_hashes if previous else {}
        hashes = {article.id: article.content_hash for article in articles}
        report = BuildReport(build_id=None, published=False, problems=list(problems or []))
        report.added = sorted(set(hashes) - set(old_hashes))
        report.removed = sorted(set(old_hashes) - set(hashes))
        report.changed = sorted(i for i in hashes if i in old_hashes and old_hashes[i] != hashes[i])
        report.unchanged = len(hashes) - len(report.added) - len(report.changed)
        if previous is not None and not force and not (report.added or report.removed or report.changed):
            report.build_id = previous.build_id
            report.seconds = time.perf_counter() - started
            return report

        passages = [passage for article in articles for passage in split_passages(article)]
        vectors = _vectors_for(passages, hashes, previous, embedder, report, on_progress)
        manifest = store.Manifest(
            build_id=_new_build_id(hashes),
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            model=embedder.name,
            model_fingerprint=fingerprint,
            dim=embedder.dim,
            embedder=layout_of(embedder),
            analyzer=analyzer.name,
            chunking=CHUNKING_VERSION,
            article_hashes=hashes,
            counts={"articles": len(articles), "passages": len(passages)},
            problems=[{"source": p.source, "reason": p.reason} for p in report.problems],
        )
        store.write_build(
            index_dir,
            manifest=manifest,
            articles=articles,
            passages=passages,
            passage_terms=[analyzer.terms(p.embedding_text) for p in passages],
            vectors=vectors,
        )
        store.publish(index_dir, manifest.build_id)
        report.build_id = manifest.build_id
        report.published = True
        report.seconds = time.perf_counter() - started
        return report


def model_fingerprint(embedder: Embedder) -> list[float]:
    """A few numbers that move when the model's vectors do: a new version of its weights, or of a pair's bridge.

    A model keeps its name across such changes, and vectors of two versions must not share an index.
    """
    vectors = embedder.embed_queries(list(FINGERPRINT_TEXTS)).astype(np.float64)
    projection = np.random.default_rng(0).standard_normal((vectors.shape[1], 4))
    return [round(float(value), 6) for value in (vectors @ projection).ravel()]


def _reusable_previous(
    index_dir: Path, embedder: Embedder, analyzer: Analyzer, fingerprint: list[float]
) -> store.IndexBuild | None:
    """The live build, if its vectors can be reused (same model and version of it, layout, analyser and chunking)."""
    manifest = store.current_manifest(index_dir)
    if (
        manifest is None
        or manifest.model != embedder.name
        # A build recorded without the pair's halves (benchmarks before 2026-12-07) is made again, not kept.
        or manifest.embedder != layout_of(embedder)
        or len(manifest.model_fingerprint) != len(fingerprint)
        or not np.allclose(manifest.model_fingerprint, fingerprint, atol=FINGERPRINT_TOLERANCE, rtol=0)
        or manifest.chunking != CHUNKING_VERSION
        or manifest.analyzer != analyzer.name
    ):
        return None
    try:
        return store.load_current(index_dir, expected_model=embedder.name)
    except store.StoreError:
        return None


def _vectors_for(
    passages: list[Passage],
    hashes: dict[str, str],
    previous: store.IndexBuild | None,
    embedder: Embedder,
    report: BuildReport,
    on_progress: ProgressCallback | None,
) -> Vectors:
    reusable: dict[tuple[str, int], int] = {}
    old_vectors: Vectors | None = None
    if previous is not None:
        old_vectors = previous.vectors()
        old_hashes = previous.manifest.article_hashes
        for row, passage in enumerate(previous.passages):
            if hashes.get(passage.article_id) == old_hashes.get(passage.article_id):
                reusable[(passage.article_id, passage.ordinal)] = row
    vectors = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    to_embed: list[int] = []
    for row, passage in enumerate(passages):
        old_row = reusable.get((passage.article_id, passage.ordinal))
        if old_row is not None and old_vectors is not None:
            vectors[row] = old_vectors[old_row]
        else:
            to_embed.append(row)
    report.reused_passages = len(passages) - len(to_embed)
    report.embedded_passages = len(to_embed)
    if on_progress:
        on_progress(0, len(to_embed))
    for start in range(0, len(to_embed), EMBED_BATCH):
        rows = to_embed[start : start + EMBED_BATCH]
        vectors[rows] = embedder.embed_documents([passages[row].embedding_text for row in rows])
        if on_progress:
            on_progress(min(start + EMBED_BATCH, len(to_embed)), len(to_embed))
    return vectors


def _new_build_id(hashes: dict[str, str]) -> str:
    digest = hashlib.sha256("".join(f"{k}:{v}" for k, v in sorted(hashes.items())).encode()).hexdigest()[:8]
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{digest}"
