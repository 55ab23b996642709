"""Help articles: Markdown files with YAML front matter, loaded and validated.

A malformed file never stops a build: it is reported as an `ArticleProblem` and skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

VISIBILITIES = ("public", "internal", "draft")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)(.*)\Z", re.DOTALL)
_LOCALE = re.compile(r"^[a-z]{2}(?:-[A-Za-z]{2,4})?$")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    locale: str
    body: str
    category: str = ""
    tags: tuple[str, ...] = ()
    url: str = ""
    updated: str = ""
    translation_of: str | None = None
    visibility: str = "public"
    questions: tuple[str, ...] = ()
    source: str = ""

    @property
    def group_id(self) -> str:
        """The id shared by an article and its translations."""
        return self.translation_of or self.id

    @property
    def content_hash(self) -> str:
        """Hash of everything that shapes the article's passages and metadata."""
        digest = hashlib.sha256()
        for part in (
            self.id,
            self.title,
            self.locale,
            self.category,
            ",".join(self.tags),
            self.url,
            self.updated,
            self.translation_of or "",
            self.visibility,
            "\n".join(self.questions),
            self.body,
        ):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()


@dataclass(frozen=True)
class ArticleProblem:
    source: str
    reason: str


@dataclass
class LoadedArticles:
    articles: list[Article] = field(default_factory=list)
    problems: list[ArticleProblem] = field(default_factory=list)


class ArticleError(ValueError):
    """A file that cannot become an article; the message says why."""


def parse_article(text: str, *, source: str = "") -> Article:
    """Parse one Markdown document with front matter into an Article."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if match is None:
        raise ArticleError("no YAML front matter (the file must start with a '---' block)")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise ArticleError(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ArticleError("front matter must be a mapping")
    for key in ("id", "title", "locale"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise ArticleError(f"front matter needs a non-empty '{key}'")
    locale = meta["locale"].strip()
    if not _LOCALE.match(locale):
        raise ArticleError(f"locale {locale!r} is not a language code such as 'ja' or 'en'")
    visibility = str(meta.get("visibility") or "public")
    if visibility not in VISIBILITIES:
        raise ArticleError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list):
        raise ArticleError("tags must be a list")
    updated = meta.get("updated") or ""
    if isinstance(updated, dt.date):
        updated = updated.isoformat()
    body = match.group(2).strip()
    if not body:
        raise ArticleError("the article has no body")
    translation_of = meta.get("translation_of")
    questions = meta.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise ArticleError("questions must be a list of strings")
    return Article(
        id=meta["id"].strip(),
        title=meta["title"].strip(),
        locale=locale,
        body=body,
        category=str(meta.get("category") or ""),
        tags=tuple(str(tag) for tag in tags),
        url=str(meta.get("url") or ""),
        updated=str(updated),
        translation_of=str(translation_of).strip() if translation_of else None,
        visibility=visibility,
        questions=tuple(q.strip() for q in questions if q.strip()),
        source=source,
    )


def load_articles(content_dir: Path) -> LoadedArticles:
    """Load every `*.md` below content_dir; bad files and duplicate ids become problems."""
    loaded = LoadedArticles()
    seen: dict[str, str] = {}
    for path in sorted(content_dir.rglob("*.md")):
        source = str(path.relative_to(content_dir))
        try:
            article = parse_article(path.read_text(encoding="utf-8"), source=source)
        except (ArticleError, UnicodeDecodeError) as exc:
            loaded.problems.append(ArticleProblem(source, str(exc)))
            continue
        if article.id in seen:
            loaded.problems.append(ArticleProblem(source, f"duplicate id {article.id!r} (also in {seen[article.id]})"))
            continue
        seen[article.id] = source
        loaded.articles.append(article)
    return loaded
