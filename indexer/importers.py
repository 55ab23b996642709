"""Content importers: a CSV of question/answer rows and a Zendesk Help Center export become Markdown articles.

Markdown with front matter is the native format (indexer.articles); importers only translate into it,
so every article, whatever its origin, is reviewed, versioned and indexed the same way.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import yaml

from indexer.articles import Article, ArticleError, load_articles


class ContentImportError(ArticleError):
    """A source that cannot be imported; the message says which row or field."""


def slug(text: str, *, prefix: str = "") -> str:
    """A stable, file-safe id: ASCII words when there are some, else a short hash of the text."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    base = "-".join(words)[:60].strip("-") or hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return f"{prefix}{base}"


def from_qa_csv(path: Path, *, locale: str = "ja", category: str = "faq") -> list[Article]:
    """Rows with `question` and `answer` columns (optional: id, locale, category, tags, url)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"question", "answer"} - set(reader.fieldnames or [])
        if missing:
            raise ContentImportError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
        articles = []
        for number, row in enumerate(reader, start=2):
            question, answer = (row.get("question") or "").strip(), (row.get("answer") or "").strip()
            if not question or not answer:
                raise ContentImportError(f"{path.name} line {number}: question and answer must not be empty")
            tags = tuple(t.strip() for t in (row.get("tags") or "").split(",") if t.strip())
            articles.append(
                Article(
                    id=(row.get("id") or "").strip() or slug(question, prefix="faq-"),
                    title=question,
                    locale=(row.get("locale") or locale).strip(),
                    body=answer,
                    category=(row.get("category") or category).strip(),
                    tags=tags,
                    url=(row.get("url") or "").strip(),
                )
            )
    return articles


class _HtmlToMarkdown(HTMLParser):
    """Help-center HTML to the Markdown the chunker reads: headings, paragraphs, list items, plain text."""

    _BLOCKS = {"p", "div", "br", "tr", "table", "ul", "ol", "pre", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.lines += ["", "#" * max(2, int(tag[1])) + " "]
        elif tag == "li":
            self.lines.append("- ")
        elif tag in self._BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skipping = max(0, self._skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self._BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        # Keep one space where the HTML had whitespace at an inline boundary ("Open <b>Settings</b>").
        text = re.sub(r"\s+", " ", data)
        line = self.lines[-1]
        if line.endswith((" ", "- ", "# ")) or not line:
            text = text.lstrip()
        self.lines[-1] = line + text

    def markdown(self) -> str:
        text = "\n".join(line.strip() if not line.startswith(("- ", "#")) else line.rstrip() for line in self.lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_markdown(html: str) -> str:
    parser = _HtmlToMarkdown()
    parser.feed(html)
    return parser.markdown()


def from_zendesk(path: Path) -> list[Article]:
    """A Zendesk Help Center articles export (`{"articles": [...]}`, as the Help Center API lists them)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ContentImportError(f"{path.name}: not JSON ({exc})") from exc
    rows = data.get("articles") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ContentImportError(f"{path.name}: expected an 'articles' list")
    articles = []
    for row in rows:
        if not isinstance(row, dict) or not row.get("title") or not row.get("body"):
            raise ContentImportError(
                f"{path.name}: article {row.get('id') if isinstance(row, dict) else row!r} has no title or body"
            )
        locale = str(row.get("locale") or "en").split("-")[0].lower()
        source = row.get("source_locale")
        article_id = f"zd-{row['id']}-{locale}"
        translation_of = None
        if source and str(source).split("-")[0].lower() != locale:
            translation_of = f"zd-{row['id']}-{str(source).split('-')[0].lower()}"
        articles.append(
            Article(
                id=article_id,
                title=str(row["title"]).strip(),
                locale=locale,
                body=html_to_markdown(str(row["body"])),
                category=str(row.get("section_id") or "zendesk"),
                tags=tuple(str(t) for t in row.get("label_names") or ()),
                url=str(row.get("html_url") or ""),
                updated=str(row.get("updated_at") or "")[:10],
                translation_of=translation_of,
                visibility="draft" if row.get("draft") else "public",
            )
        )
    return articles


def from_markdown_dir(path: Path) -> list[Article]:
    """The native format: a directory of Markdown articles (bad files raise, so an import is all or nothing)."""
    loaded = load_articles(path)
    if loaded.problems:
        raise ContentImportError("; ".join(f"{p.source}: {p.reason}" for p in loaded.problems))
    return loaded.articles


def write_articles(articles: list[Article], content_dir: Path) -> list[Path]:
    """Write each article as `<locale>/<category>/<id>.md`; an existing file of the same id is replaced."""
    written = []
    for article in articles:
        meta = {
            "id": article.id,
            "title": article.title,
            "locale": article.locale,
            "category": article.category,
            "tags": list(article.tags),
            "url": article.url,
            "updated": article.updated or None,
            "visibility": article.visibility,
        }
        if article.translation_of:
            meta["translation_of"] = article.translation_of
        if article.questions:
            meta["questions"] = list(article.questions)
        front = yaml.safe_dump({k: v for k, v in meta.items() if v is not None}, allow_unicode=True, sort_keys=False)
        path = content_dir / article.locale / (slug(article.category) or "general") / f"{article.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{front}---\n\n{article.body.strip()}\n", encoding="utf-8")
        written.append(path)
    return written
