from collections import Counter

import pytest

from app.reports.gaps import report as gaps
from app.reports.gaps.spelling import Misspellings
from indexer.analysis import Analyzer


@pytest.fixture
def misspelt(analyzer: Analyzer) -> Misspellings:
    known = {*analyzer.terms("upload a signed contract, match a template, certificate of completion"), "解約"}
    return Misspellings(known=known, readings={"カイヤク": "解約"}, analyzer=analyzer)


@pytest.mark.parametrize(
    ("surface", "expected"),
    [
        ("uplaod", True),  # one edit (two letters swapped) from the articles' upload
        ("certficate", True),  # two edits, in a long word
        ("upload", False),  # the articles' own word
        ("watch", False),  # one edit from match, but an English word
        ("zapier", False),  # no dictionary word, and no word of the help center's near it
        ("解役", True),  # read as the help center's 解約: a conversion slip
        ("解約", False),
        ("韓国", False),  # no word of the help center is read so
    ],
)
def test_a_misspelling_is_one_of_a_word_others_use(
    misspelt: Misspellings, analyzer: Analyzer, surface: str, expected: bool
) -> None:
    (term,) = analyzer.terms(surface)
    assert misspelt(term, surface) is expected


def test_a_label_leaves_out_a_typo_asked_once_but_not_one_asked_twice(
    misspelt: Misspellings, analyzer: Analyzer
) -> None:
    texts = ("can't uplaod the scanned contract", "scanned contract fails to upload", "scanned contract uplaod error")
    members = [gaps.AnalysedText.of(text, analyzer) for text in texts[:2]]
    once = Counter(term for member in members for term in {t.term for t in member.tokens})

    assert "uplaod" in gaps.key_terms(members, once, 10, k=10)
    assert "uplaod" not in gaps.key_terms(members, once, 10, k=10, misspelt=misspelt)
    assert "scanned" in gaps.key_terms(members, once, 10, k=10, misspelt=misspelt)

    # Two customers who spell it so are no slip of one keyboard: their word stays.
    twice = once + Counter({"uplaod": 1})
    assert "uplaod" in gaps.key_terms(members, twice, 10, k=10, misspelt=misspelt)
