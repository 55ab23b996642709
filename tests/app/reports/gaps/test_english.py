from collections import Counter

import pytest

from app.reports.gaps import report as gaps
from app.reports.gaps.english import need_weight
from indexer.analysis import Analyzer


@pytest.mark.parametrize("word", ["invoice", "booking", "account", "waitlst", "okta"])
def test_a_word_as_rare_as_a_need_keeps_its_whole_weight(word: str) -> None:
    assert need_weight(word) == 1.0


def test_the_commonest_english_words_weigh_less_the_commoner_they_are() -> None:
    assert need_weight("get") < need_weight("same") < 1.0
    assert need_weight("get") > 0.3


def test_a_label_prefers_the_needs_words_to_the_words_all_english_uses(analyzer: Analyzer) -> None:
    texts = ("same slot for a couple", "a couple wants the same slot")  # each word in both questions
    members = [gaps.AnalysedText.of(text, analyzer) for text in texts]
    corpus = Counter(term for member in members for term in {t.term for t in member.tokens})

    terms = gaps.key_terms(members, corpus, 10, k=2)
    assert sorted(terms) == ["couple", "slot"]
