from indexer.articles import parse_article
from indexer.chunking import MAX_PASSAGE_CHARS, plain_text, split_passages
from tests.factories import article_markdown


def test_split_passages_makes_a_title_passage_then_one_per_heading() -> None:
    article = parse_article(
        article_markdown(id="a", title="打刻の修正", body="導入文です。\n## 手順\n1. 開く\n## 注意\n締め後は不可")
    )
    passages = split_passages(article)
    assert [(p.ordinal, p.heading, p.text) for p in passages] == [
        (0, "", ""),
        (1, "", "導入文です。"),
        (2, "手順", "1. 開く"),
        (3, "注意", "締め後は不可"),
    ]
    assert all(p.title == "打刻の修正" for p in passages)
    assert [p.is_title for p in passages] == [True, False, False, False]
    assert passages[2].embedding_text == "打刻の修正\n手順\n1. 開く"


def test_split_passages_when_a_section_is_long_splits_it_at_paragraphs() -> None:
    paragraph = "あ" * (MAX_PASSAGE_CHARS // 2)
    article = parse_article(article_markdown(id="a", title="t", body="## 長い\n" + "\n\n".join([paragraph] * 4)))
    passages = split_passages(article)[1:]
    assert len(passages) >= 2
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in passages)
    assert all(p.heading == "長い" for p in passages)


def test_plain_text_keeps_link_and_table_text_without_markup() -> None:
    assert plain_text("**太字** と [リンク](https://x) と `code`") == "太字 と リンク と code"
    assert plain_text("| コード | 内容 |\n|---|---|\n| E-1 | 説明 |") == "コード / 内容\nE-1 / 説明"


def test_split_passages_gives_each_alternative_question_its_own_passage() -> None:
    text = article_markdown(id="a", title="打刻の修正", body="## 手順\n1. 開く").replace(
        "visibility: public", "visibility: public\nquestions: [打刻を忘れた, 打刻を間違えた]"
    )
    passages = split_passages(parse_article(text))
    questions = [p for p in passages if p.is_question]
    assert [p.embedding_text for p in questions] == ["打刻を忘れた", "打刻を間違えた"]
    assert [p.ordinal for p in passages] == [0, 1, 2, 3]
