import json
from pathlib import Path

import pytest

from indexer.articles import load_articles
from indexer.chunking import split_passages
from indexer.importers import ContentImportError, from_qa_csv, from_zendesk, html_to_markdown, write_articles


def test_qa_csv_rows_become_articles_that_load_back(tmp_path: Path) -> None:
    source = tmp_path / "faq.csv"
    source.write_text(
        'question,answer,tags\n有給休暇は何日？,入社6か月で10日です。,"休暇,有給"\n'
        "How do I reset my password?,Use the sign-in page.,\n",
        encoding="utf-8",
    )
    articles = from_qa_csv(source, locale="ja", category="faq")
    write_articles(articles, tmp_path / "content")
    loaded = load_articles(tmp_path / "content")
    assert not loaded.problems
    assert sorted(a.title for a in loaded.articles) == ["How do I reset my password?", "有給休暇は何日？"]
    assert next(a for a in loaded.articles if a.title.startswith("有給")).tags == ("休暇", "有給")


def test_qa_csv_without_the_answer_column_says_so(tmp_path: Path) -> None:
    source = tmp_path / "faq.csv"
    source.write_text("question\nQ\n", encoding="utf-8")
    with pytest.raises(ContentImportError, match="missing column"):
        from_qa_csv(source)


def test_zendesk_export_keeps_sections_as_passages_and_links_translations(tmp_path: Path) -> None:
    export = {
        "articles": [
            {
                "id": 360001,
                "title": "Reset your password",
                "locale": "en-us",
                "source_locale": "ja",
                "body": "<p>Intro.</p><h2>Steps</h2><ol><li>Open <b>Settings</b></li><li>Click reset</li></ol>"
                "<h2>Still stuck?</h2><p>Contact us &amp; wait.</p>",
                "html_url": "https://help.example/hc/en-us/articles/360001",
                "label_names": ["password"],
                "section_id": 42,
                "updated_at": "2026-10-01T00:00:00Z",
                "draft": False,
            },
        ]
    }
    source = tmp_path / "zendesk.json"
    source.write_text(json.dumps(export), encoding="utf-8")
    (article,) = from_zendesk(source)
    assert (article.id, article.locale, article.translation_of) == ("zd-360001-en", "en", "zd-360001-ja")
    assert [p.heading for p in split_passages(article)] == ["", "", "Steps", "Still stuck?"]
    assert "- Open Settings" in article.body and "Contact us & wait." in article.body


def test_html_to_markdown_drops_markup_but_keeps_structure() -> None:
    assert html_to_markdown("<h3>見出し</h3><p>本文<script>alert(1)</script></p>") == "### 見出し\n\n本文"
