"""The shared public data sets (../shared/datasets), read in place and turned into Articles."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from indexer.articles import Article

# Intent sets: an "article" is an intent whose body lists its training utterances, one a line.
# Those become the article's alternative questions, as a help center would list known phrasings.
INTENT_SET_PREFIXES = ("clinc150", "banking77", "hint3_")


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    locale: str
    relevant: tuple[str, ...]
    split: str
    grades: dict[str, int] = field(default_factory=dict)
    gap_topic: str | None = None
    kind: str | None = None


@dataclass
class Dataset:
    name: str
    articles: list[Article]
    queries: list[Query]

    def split(self, name: str) -> list[Query]:
        return [q for q in self.queries if q.split == name]


def default_datasets_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "shared" / "datasets"


def available(datasets_dir: Path) -> list[str]:
    return sorted(p.name for p in datasets_dir.iterdir() if (p / "articles.jsonl").is_file())


def load_dataset(datasets_dir: Path, name: str) -> Dataset:
    """A shared data set by name; "content" is this repository's sample help center with bench/content_queries.jsonl."""
    if name == "content":
        return load_content_dataset()
    directory = datasets_dir / name
    intent_set = name.startswith(INTENT_SET_PREFIXES)
    articles = []
    for row in _jsonl(directory / "articles.jsonl"):
        body = row.get("body") or row["title"]
        questions: tuple[str, ...] = ()
        if intent_set:
            questions = tuple(line.strip() for line in body.splitlines() if line.strip())
            body = row["title"]
        articles.append(
            Article(
                id=str(row["id"]),
                title=row["title"],
                locale=row.get("locale", "en"),
                body=body,
                category=str(row.get("category") or ""),
                questions=questions,
            )
        )
    queries = [
        Query(
            id=str(row["id"]),
            text=row["text"],
            locale=row.get("locale", "en"),
            relevant=tuple(str(r) for r in row.get("relevant", [])),
            split=row.get("split", "test"),
            grades={str(k): int(v) for k, v in (row.get("grades") or {}).items()},
            gap_topic=row.get("gap_topic"),
            kind=row.get("oos_type"),
        )
        for row in _jsonl(directory / "queries.jsonl")
    ]
    return Dataset(name, articles, queries)


def load_content_dataset() -> Dataset:
    from indexer.articles import load_articles

    root = Path(__file__).resolve().parents[1]
    articles = [a for a in load_articles(root / "content").articles if a.visibility == "public"]
    queries = [
        Query(
            id=row["id"],
            text=row["text"],
            locale=row["locale"],
            relevant=tuple(row["relevant"]),
            split=row.get("split", "val"),
            kind=row.get("kind"),
        )
        for row in _jsonl(root / "bench" / "content_queries.jsonl")
    ]
    return Dataset("content", articles, queries)


def load_inquiry_texts(datasets_dir: Path, name: str, *, split: str) -> list[str]:
    """The texts of a set's labelled raw inquiries in one split (intent sets only; none elsewhere)."""
    path = datasets_dir / name / "inquiries.jsonl"
    return [row["text"] for row in _jsonl(path) if row.get("split") == split] if path.is_file() else []


def _jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
