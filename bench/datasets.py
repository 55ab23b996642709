"""The shared public data sets (../shared/datasets), read in place and turned into Articles."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexer.articles import Article

# Intent sets: an "article" is an intent whose body lists its training utterances, one a line.
# Those become the article's alternative questions, as a help center would list known phrasings.
INTENT_SET_PREFIXES = ("clinc150", "banking77", "hint3_")


# Leave-article-out variants ("<set>_lao") index all but this share of the articles.
LEFT_OUT_SHARE, SEED = 0.25, 23


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
    """A data set by name: a shared one, a development help center, or either with "_lao" (leave-article-out)."""
    if name.endswith("_lao"):
        return leave_articles_out(
            load_dataset(datasets_dir, name.removesuffix("_lao")), share=LEFT_OUT_SHARE, seed=SEED
        )
    if name in helpcenter_names() or name in holdout_names():
        return load_helpcenter(name)
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


REPO = Path(__file__).resolve().parents[1]
# Development help centers written for this project (title and body only): parameters may be chosen on them.
HELPCENTERS_DIR = REPO / "bench" / "helpcenters"
# Held-out help centers built the same way: only ever measured, never chosen on (python -m bench.helpcenter).
HOLDOUT_DIR = REPO / "bench" / "holdout"


def helpcenter_names() -> list[str]:
    """The development help centers: `content` (the sample help center) and each folder of bench/helpcenters."""
    found = sorted(p.name for p in HELPCENTERS_DIR.iterdir() if (p / "queries.jsonl").is_file())
    return ["content", *found] if HELPCENTERS_DIR.is_dir() else ["content"]


def holdout_names() -> list[str]:
    """The held-out help centers, each a folder of bench/holdout."""
    return (
        sorted(p.name for p in HOLDOUT_DIR.iterdir() if (p / "queries.jsonl").is_file()) if HOLDOUT_DIR.is_dir() else []
    )


def helpcenter_paths(name: str) -> tuple[Path, Path]:
    """A development or held-out help center's content folder and its labelled questions."""
    if name == "content":
        return REPO / "content", REPO / "bench" / "content_queries.jsonl"
    folder = HOLDOUT_DIR / name if name in holdout_names() else HELPCENTERS_DIR / name
    return folder / "content", folder / "queries.jsonl"


def load_helpcenter(name: str) -> Dataset:
    """A help center's public articles and its labelled questions."""
    from indexer.articles import load_articles

    content_dir, queries_path = helpcenter_paths(name)
    articles = [a for a in load_articles(content_dir).articles if a.visibility == "public"]
    queries = [
        Query(
            id=row["id"],
            text=row["text"],
            locale=row["locale"],
            relevant=tuple(row["relevant"]),
            grades={str(k): int(v) for k, v in (row.get("grades") or {}).items()},
            split=row.get("split", "val"),
            gap_topic=row.get("gap_topic"),
            kind=row.get("kind"),
        )
        for row in _jsonl(queries_path)
    ]
    return Dataset(name, articles, queries)


def load_content_dataset() -> Dataset:
    return load_helpcenter("content")


def leave_articles_out(dataset: Dataset, *, share: float, seed: int) -> Dataset:
    """The set without a random `share` of its articles (translations go with them), as "<name>_lao".

    A question that only the removed articles answered becomes a same-domain unanswerable one, whose
    nearest article is about the same product: the hardest kind a help center sees.
    """
    rng = random.Random(seed)
    groups = sorted({a.group_id for a in dataset.articles})
    removed_groups = set(rng.sample(groups, max(1, round(share * len(groups)))))
    removed = {a.id for a in dataset.articles if a.group_id in removed_groups}
    queries = []
    for q in dataset.queries:
        kept = tuple(r for r in q.relevant if r not in removed)
        gap = q.gap_topic or (f"left-out:{q.relevant[0]}" if q.relevant and not kept else None)
        queries.append(
            replace(q, relevant=kept, grades={k: v for k, v in q.grades.items() if k in kept}, gap_topic=gap)
        )
    return Dataset(f"{dataset.name}_lao", [a for a in dataset.articles if a.id not in removed], queries)


def load_inquiry_texts(datasets_dir: Path, name: str, *, split: str) -> list[str]:
    """The texts of a set's labelled raw inquiries in one split (intent sets only; none elsewhere)."""
    path = datasets_dir / name / "inquiries.jsonl"
    return [row["text"] for row in _jsonl(path) if row.get("split") == split] if path.is_file() else []


def _jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
