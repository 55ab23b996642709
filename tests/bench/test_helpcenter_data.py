"""The development and held-out help centers' labels point at articles that exist (bench/helpcenters, bench/holdout).

A relevant id that names no article silently turns an answerable question into one no ranking can get right.
"""

import pytest

from bench.datasets import helpcenter_names, holdout_names, load_helpcenter

KINDS = {"keyword", "sentence", "mail", "long_mail", "kana_typo", "cross_lingual"}


@pytest.mark.parametrize("name", [*helpcenter_names(), *holdout_names()])
def test_every_label_names_an_article_and_every_question_a_kind(name: str) -> None:
    dataset = load_helpcenter(name)
    article_ids = {article.id for article in dataset.articles}

    assert len(article_ids) == len(dataset.articles)
    assert len({query.id for query in dataset.queries}) == len(dataset.queries)
    for query in dataset.queries:
        assert set(query.relevant) <= article_ids, query.id
        assert set(query.grades) <= set(query.relevant), query.id
        assert query.kind in KINDS, query.id
        assert bool(query.relevant) != bool(query.gap_topic), query.id
