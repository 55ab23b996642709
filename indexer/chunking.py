"""Split an article into passages at its headings; every passage carries the title."""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.articles import Article

# Passages longer than this are split again at paragraph breaks: embedders read the first few
# hundred tokens only, and a short passage makes a sharper snippet.
MAX_PASSAGE_CHARS = 1200
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MARKDOWN_NOISE = re.compile(r"(\*\*|__|`|!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\))")
_TABLE_RULE = re.compile(r"^[\s|:\-]*-{3,}[\s|:\-]*$")


@dataclass(frozen=True)
class Passage:
    article_id: str
    ordinal: int
    heading: str
    text: str
    title: str
    is_question: bool = False

    @property
    def is_title(self) -> bool:
        """The passage that is the article's title alone (every article has one, first)."""
        return not self.is_question and not self.heading and not self.text

    @property
    def embedding_text(self) -> str:
        """What the embedder and the lexical index read: a question alone, else title, heading, text."""
        if self.is_question:
            return self.text
        parts = [self.title]
        if self.heading:
            parts.append(self.heading)
        if self.text:
            parts.append(self.text)
        return "\n".join(parts)


def plain_text(markdown: str) -> str:
    """Markdown inline syntax and table rules removed, link texts and cell texts kept."""
    lines = []
    for line in markdown.splitlines():
        if _TABLE_RULE.match(line):
            continue
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            line = " / ".join(cell.strip() for cell in stripped.strip("|").split("|"))
        lines.append(line)
    return _MARKDOWN_NOISE.sub(lambda m: m.group(2) or "", "\n".join(lines))


def split_passages(article: Article) -> list[Passage]:
    """The title and each alternative phrasing (`questions`) as passages of their own, since FAQ titles
    are questions and a question matches a question best; then one passage per section."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in article.body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            sections.append((plain_text(heading.group(2)).strip(), []))
        else:
            sections[-1][1].append(line)
    passages = [Passage(article.id, 0, "", "", article.title)]
    passages += [
        Passage(article.id, i, "", question, article.title, is_question=True)
        for i, question in enumerate(article.questions, start=1)
    ]
    for section_heading, lines in sections:
        text = plain_text("\n".join(lines)).strip()
        if not text and not section_heading:
            continue
        for piece in _split_long(text):
            passages.append(Passage(article.id, len(passages), section_heading, piece, article.title))
    return passages


def _split_long(text: str) -> list[str]:
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    pieces: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        if current and len(current) + len(paragraph) > MAX_PASSAGE_CHARS:
            pieces.append(current.strip())
            current = ""
        current += paragraph + "\n\n"
        while len(current) > MAX_PASSAGE_CHARS:
            pieces.append(current[:MAX_PASSAGE_CHARS].strip())
            current = current[MAX_PASSAGE_CHARS:]
    if current.strip():
        pieces.append(current.strip())
    return pieces
