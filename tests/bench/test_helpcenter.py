"""What bench.helpcenter reports of a help center's answers (bench/helpcenter.py)."""

from typing import Any

from bench.datasets import Query
from bench.helpcenter import lost_questions


def query(query_id: str, *relevant: str) -> Query:
    return Query(id=query_id, text=query_id, locale="ja", relevant=relevant, split="val")


def answer(*article_ids: str) -> dict[str, Any]:
    return {"results": [{"article_id": article_id} for article_id in article_ids]}


def test_lost_questions_are_answerable_ones_ranked_right_but_not_shown_right() -> None:
    queries = [query("hidden", "a"), query("shown", "a"), query("ranked-low", "a"), query("off-topic")]
    ranked = [(["b", "a"], 0.1), (["a"], 0.9), (["b", "c", "a"], 0.2), (["a"], 0.05)]
    answers = {"search": [answer(), answer("a"), answer("b", "c", "a"), answer()]}

    assert lost_questions(queries, answers, ranked, channel="search", top=2) == ["hidden"]
