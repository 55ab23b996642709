"""Index builds on disk: immutable build directories, published by replacing a one-line CURRENT file.

Layout of an index directory:
    CURRENT                 the live build's id, replaced atomically (write temp, fsync, os.replace)
    builds/<build_id>/      manifest.json, articles.jsonl, passages.jsonl, dense.faiss, lexical/
A reader that follows CURRENT sees a whole build or the previous one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.articles import Article
from indexer.chunking import Passage
from indexer.embedders import EmbedderPart, Vectors
from indexer.lexical import LexicalIndex

# 2: the manifest records the embedder's layout (`embedder`).
FORMAT_VERSION = 2
BUILDS_KEPT = 3


class StoreError(RuntimeError):
    """Base of the index store's errors."""


class IndexNotFoundError(StoreError):
    """No build has been published in this index directory."""


class IndexCorruptError(StoreError):
    """A build is missing files or does not match its manifest."""


class IndexMismatchError(StoreError):
    """The build was made by another embedding model than the one configured."""


class IndexLockedError(StoreError):
    """Another process is building into this index directory."""


@dataclass
class Manifest:
    build_id: str
    created_at: str
    model: str
    dim: int
    # Each model's share of the vectors, in order, so query time never re-reads it from the model's name.
    embedder: list[EmbedderPart]
    analyzer: str
    chunking: int
    article_hashes: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    format: int = FORMAT_VERSION
    # The model's vectors of a few probe texts (indexer/build.py): empty in builds made before it was recorded.
    model_fingerprint: list[float] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        names = {f.name for f in dataclasses.fields(cls)}
        fields = {key: value for key, value in data.items() if key in names}
        fields["embedder"] = [EmbedderPart(**part) for part in fields.get("embedder", [])]
        return cls(**fields)


@dataclass
class IndexBuild:
    """A loaded build: everything retrieval needs, in memory."""

    path: Path
    manifest: Manifest
    articles: dict[str, Article]
    passages: list[Passage]
    passage_terms: list[list[str]]
    dense: Any  # faiss.IndexFlatIP
    lexical: LexicalIndex

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    def vectors(self) -> Vectors:
        """All passage vectors, in passage order."""
        if self.dense.ntotal == 0:
            return np.zeros((0, self.manifest.dim), dtype=np.float32)
        return np.asarray(self.dense.reconstruct_n(0, self.dense.ntotal), dtype=np.float32)


def builds_dir(index_dir: Path) -> Path:
    return index_dir / "builds"


def current_build_id(index_dir: Path) -> str | None:
    """The id CURRENT points at, or None before the first publish."""
    try:
        build_id = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return build_id or None


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Exclusive lock on the index directory for one builder at a time (released if the process dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexLockedError(f"another build is running in {index_dir}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_build(
    index_dir: Path,
    *,
    manifest: Manifest,
    articles: list[Article],
    passages: list[Passage],
    passage_terms: list[list[str]],
    vectors: Vectors,
) -> Path:
    """Write a complete build under a temporary name, then rename it into place. Not yet live."""
    final = builds_dir(index_dir) / manifest.build_id
    staging = builds_dir(index_dir) / f".{manifest.build_id}.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    dense = faiss.IndexFlatIP(manifest.dim)
    if len(vectors):
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(dense, str(staging / "dense.faiss"))
    LexicalIndex.build(passage_terms).save(staging / "lexical")
    _write_jsonl(staging / "articles.jsonl", (dataclasses.asdict(article) for article in articles))
    _write_jsonl(
        staging / "passages.jsonl",
        (
            {**dataclasses.asdict(passage), "terms": terms}
            for passage, terms in zip(passages, passage_terms, strict=True)
        ),
    )
    # The manifest goes last: a build directory with a manifest is a complete one.
    _write_file(staging / "manifest.json", json.dumps(dataclasses.asdict(manifest), ensure_ascii=False, indent=2))
    for path in staging.rglob("*"):
        if path.is_file():
            _fsync_path(path)
    _fsync_path(staging / "lexical")
    os.replace(staging, final)
    _fsync_path(builds_dir(index_dir))
    return final


def publish(index_dir: Path, build_id: str) -> None:
    """Make build_id the live build: atomic replace of CURRENT, then prune old builds."""
    if not (builds_dir(index_dir) / build_id / "manifest.json").is_file():
        raise IndexCorruptError(f"cannot publish {build_id}: the build is incomplete")
    temporary = index_dir / "CURRENT.tmp"
    _write_file(temporary, build_id + "\n")
    os.replace(temporary, index_dir / "CURRENT")
    _fsync_path(index_dir)
    _prune(index_dir, keep=build_id)


def read_manifest(build_path: Path) -> Manifest:
    try:
        return Manifest.from_json(json.loads((build_path / "manifest.json").read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"{build_path.name}: manifest.json is missing") from exc
    except (json.JSONDecodeError, TypeError) as exc:
        raise IndexCorruptError(f"{build_path.name}: manifest.json is unreadable ({exc})") from exc


def current_manifest(index_dir: Path) -> Manifest | None:
    """The live build's manifest, or None when there is no readable live build."""
    build_id = current_build_id(index_dir)
    if build_id is None:
        return None
    try:
        return read_manifest(builds_dir(index_dir) / build_id)
    except IndexCorruptError:
        return None


def is_outdated(index_dir: Path) -> bool:
    """Whether the live build was written in an older format than this version reads."""
    manifest = current_manifest(index_dir)
    return manifest is not None and manifest.format != FORMAT_VERSION


def load_build(
    build_path: Path, *, expected_model: str | None = None, expected_analyzer: str | None = None
) -> IndexBuild:
    """Load one build directory, checking it against its manifest and the configured model and analyser."""
    manifest = read_manifest(build_path)
    if manifest.format != FORMAT_VERSION:
        raise IndexCorruptError(
            f"{manifest.build_id}: format {manifest.format}, this version reads {FORMAT_VERSION}: "
            "rebuild it with `deflect index`"
        )
    if expected_model is not None and manifest.model != expected_model:
        raise IndexMismatchError(
            f"index build {manifest.build_id} was made with model {manifest.model!r}, but the service is "
            f"configured with {expected_model!r}: rebuild it with `deflect index` or set DEFLECT_MODEL={manifest.model}"
        )
    # Questions must be cut into terms as the passages were, or lexical search quietly stops matching.
    if expected_analyzer is not None and manifest.analyzer != expected_analyzer:
        raise IndexMismatchError(
            f"index build {manifest.build_id} was analysed with {manifest.analyzer!r}, but the service analyses "
            f"questions with {expected_analyzer!r} (DEFLECT_MORPHOLOGICAL_ANALYSIS, or MeCab not installed): "
            "rebuild it with `deflect index`"
        )
    try:
        articles = [
            Article(**{**row, "tags": tuple(row["tags"]), "questions": tuple(row.get("questions", ()))})
            for row in _read_jsonl(build_path / "articles.jsonl")
        ]
        rows = list(_read_jsonl(build_path / "passages.jsonl"))
        passages = [
            Passage(
                **{key: row[key] for key in ("article_id", "ordinal", "heading", "text", "title")},
                is_question=bool(row.get("is_question", False)),
            )
            for row in rows
        ]
        terms = [list(row["terms"]) for row in rows]
        dense = faiss.read_index(str(build_path / "dense.faiss"))
        lexical = LexicalIndex.load(build_path / "lexical", len(passages))
    except (OSError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise IndexCorruptError(f"{manifest.build_id}: cannot read the build ({exc})") from exc
    if (
        dense.ntotal != len(passages)
        or dense.d != manifest.dim
        or manifest.counts.get("passages", len(passages)) != len(passages)
    ):
        raise IndexCorruptError(f"{manifest.build_id}: vector count or dimension does not match the manifest")
    return IndexBuild(
        path=build_path,
        manifest=manifest,
        articles={article.id: article for article in articles},
        passages=passages,
        passage_terms=terms,
        dense=dense,
        lexical=lexical,
    )


def load_current(
    index_dir: Path, *, expected_model: str | None = None, expected_analyzer: str | None = None
) -> IndexBuild:
    """The live build. Raises IndexNotFoundError, IndexCorruptError or IndexMismatchError."""
    build_id = current_build_id(index_dir)
    if build_id is None:
        raise IndexNotFoundError(f"no index has been built in {index_dir} yet: run `deflect index`")
    return load_build(
        builds_dir(index_dir) / build_id, expected_model=expected_model, expected_analyzer=expected_analyzer
    )


def load_last_good(
    index_dir: Path, *, expected_model: str | None = None, expected_analyzer: str | None = None
) -> IndexBuild | None:
    """The newest complete build other than a broken live one, for serving while the problem is fixed."""
    candidates = sorted(
        (p for p in builds_dir(index_dir).glob("*") if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
        reverse=True,
    )
    for path in candidates:
        try:
            return load_build(path, expected_model=expected_model, expected_analyzer=expected_analyzer)
        except StoreError:
            continue
    return None


def _prune(index_dir: Path, *, keep: str) -> None:
    builds = sorted((p for p in builds_dir(index_dir).iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    complete = [p for p in builds if not p.name.startswith(".")]
    for old in complete[BUILDS_KEPT:]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for leftover in (p for p in builds if p.name.startswith(".")):
        shutil.rmtree(leftover, ignore_errors=True)  # staging left by a build that died


def _write_file(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]] | Any) -> None:
    _write_file(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
