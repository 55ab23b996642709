import pytest

from indexer.analysis import Analyzer
from retrieval.inquiry import core_question, what_it_asks, without_self_introduction


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("ベーシックプランを使っている大西です。余ったデータは繰り越せますか", "余ったデータは繰り越せますか"),
        ("整体サロン ゆらぎの代表、藤井です。 スタッフを追加したい", "スタッフを追加したい"),
        ("解約の件です。違約金はかかりますか", "解約の件です。違約金はかかりますか"),  # the mail's subject, no name
        ("大学生の藤田です。", "大学生の藤田です。"),  # nothing after it: all there is
        ("How do I wrap a gift?", "How do I wrap a gift?"),
    ],
)
def test_an_opening_self_introduction_is_cut_only_where_its_name_is_a_persons(
    analyzer: Analyzer, question: str, expected: str
) -> None:
    assert without_self_introduction(question, analyzer) == expected


@pytest.mark.parametrize(
    ("mail", "expected"),
    [
        (  # a business named in katakana, then the writer's surname
            "お世話になっております。ネイルサロン ルーチェの代表、上田です。"
            "ジェルのオフと新しいデザインを一緒に予約できますか。",
            "ジェルのオフと新しいデザインを一緒に予約できますか。",
        ),
        (
            "みどり歯科クリニックの事務長、佐々木です。前日に予約のお知らせを自動で送ることはできますか。",
            "前日に予約のお知らせを自動で送ることはできますか。",
        ),
        (  # what the salon is, not who writes: kept
            "当サロンは完全予約制です。当日のネット予約を止めて、電話だけで受けることはできますか。",
            "当サロンは完全予約制です。 当日のネット予約を止めて、電話だけで受けることはできますか。",
        ),
    ],
)
def test_a_mail_is_searched_without_a_self_introduction_after_a_business_named_in_katakana(
    mail: str, expected: str
) -> None:
    assert core_question(mail) == expected


STORY = (
    "We moved the office across town last month, and our manager updated the work location in the settings. "
    "We also hired three part-time employees, and each of them was invited by email from the administrator screen. "
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (  # the asking sentences, each with the one before it, across a wrapped line
            STORY + "One of them forgot her password the next day.\nHow can she reset it? Everything else works fine.",
            "One of them forgot her password the next day. How can she reset it?",
        ),
        (STORY, STORY),  # nothing asks: all there is
        ("How do I reset a password?", "How do I reset a password?"),  # short: as it is
        (
            "先月から拠点が増え、スタッフも五名ほど採用しました。設定は管理者の方で済ませ、招待メールも送りました。"
            "ほとんどのスタッフは問題なく登録でき、シフトの提出も始めています。"
            "一名だけ招待メールが届かないそうです。招待メールを送り直す方法を教えてください。",
            "一名だけ招待メールが届かないそうです。 招待メールを送り直す方法を教えてください。",
        ),
    ],
)
def test_a_long_mail_is_read_by_what_it_asks(question: str, expected: str) -> None:
    assert what_it_asks(question) == expected
