"""What bench.helpcenter reports of a help center's answers (bench/helpcenter.py)."""

import json
from typing import Any

import httpx

from bench.datasets import Query
from bench.helpcenter import ask, lost_questions


def query(query_id: str, *relevant: str) -> Query:
    return Query(id=query_id, text=query_id, locale="ja", relevant=relevant, split="val")


def answer(*article_ids: str) -> dict[str, Any]:
    return {"results": [{"article_id": article_id} for article_id in article_ids]}


def test_lost_questions_are_answerable_ones_ranked_right_but_not_shown_right() -> None:
    queries = [query("hidden", "a"), query("shown", "a"), query("ranked-low", "a"), query("off-topic")]
    ranked = [(["b", "a"], 0.1), (["a"], 0.9), (["b", "c", "a"], 0.2), (["a"], 0.05)]
    answers = {"search": [answer(), answer("a"), answer("b", "c", "a"), answer()]}

    assert lost_questions(queries, answers, ranked, channel="search", top=2) == ["hidden"]


def test_a_mail_too_long_for_a_url_is_asked_in_the_search_box_by_post() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content) if request.content else dict(request.url.params)
        seen.append((request.method, sent))
        return httpx.Response(200, json={"results": []})

    client = httpx.Client(base_url="http://deflect", transport=httpx.MockTransport(respond))
    short, mail = (
        Query(id=i, text=t, locale="ja", relevant=("a",), split="val") for i, t in (("s", "料金"), ("m", "あ" * 1500))
    )
    ask(client, short, "search")
    ask(client, mail, "search")

    assert [method for method, _ in seen] == ["GET", "POST"]
    assert seen[1][1] == {"text": mail.text, "locale": "ja", "channel": "search", "limit": 10}
