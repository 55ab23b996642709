from pathlib import Path

import pytest

from indexer.articles import ArticleError, load_articles, parse_article
from tests.factories import article_markdown, write_article


def test_parse_article_reads_front_matter_and_body() -> None:
    article = parse_article(article_markdown(id="a1", title="タイトル", tags=("x", "y"), translation_of="a0"))
    assert article.id == "a1"
    assert article.locale == "ja"
    assert article.tags == ("x", "y")
    assert article.group_id == "a0"
    assert article.body.startswith("## 手順")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no front matter", "no YAML front matter"),
        ("---\nid: [unclosed\n---\nbody", "not valid YAML"),
        ("---\ntitle: t\nlocale: ja\n---\nbody", "needs a non-empty 'id'"),
        ("---\nid: a\ntitle: t\nlocale: japanese!\n---\nbody", "is not a language code"),
        ("---\nid: a\ntitle: t\nlocale: ja\nvisibility: secret\n---\nbody", "visibility must be one of"),
        ("---\nid: a\ntitle: t\nlocale: ja\n---\n   ", "has no body"),
    ],
)
def test_parse_article_when_malformed_says_why(text: str, reason: str) -> None:
    with pytest.raises(ArticleError, match=reason):
        parse_article(text)


def test_load_articles_when_one_file_is_malformed_reports_it_by_name_and_keeps_the_rest(tmp_path: Path) -> None:
    write_article(tmp_path, id="good", title="良い記事")
    (tmp_path / "ja" / "broken.md").write_text("---\nid: broken\n", encoding="utf-8")
    write_article(tmp_path, id="good", title="同じIDの別記事", locale="en")

    loaded = load_articles(tmp_path)

    assert [a.id for a in loaded.articles] == ["good"]
    reasons = sorted(f"{p.source}: {p.reason}" for p in loaded.problems)
    assert len(reasons) == 2
    assert reasons[0].startswith("ja/broken.md: ")
    assert reasons[1].startswith("ja/good.md: duplicate id 'good' (also in en/good.md)")


def test_content_hash_changes_with_the_body_only_when_it_changes() -> None:
    one = parse_article(article_markdown(id="a", title="t", body="本文"))
    same = parse_article(article_markdown(id="a", title="t", body="本文"))
    other = parse_article(article_markdown(id="a", title="t", body="本文を更新"))
    assert one.content_hash == same.content_hash
    assert one.content_hash != other.content_hash
