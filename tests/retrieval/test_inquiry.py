import pytest

from indexer.analysis import Analyzer
from retrieval.inquiry import without_self_introduction


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
