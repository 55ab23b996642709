"""Suggest (app/suggestions.py): labels, question checks, locales, search intents, and the recorded suggestion set."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from app.db.models import SuggestedArticle, SuggestionSet
from app.privacy import Redactor
from app.suggestions import (
    IndexUnavailableError,
    InvalidQueryError,
    Suggester,
    SuggestPolicy,
    SuggestRequest,
    check_query,
    is_edit_chain,
    resolve_locale,
    suggest,
)
from indexer import store
from indexer.analysis import Analyzer
from retrieval.calibration import FALLBACK
from retrieval.search import SearchIndex
from retrieval.vocabulary import Channel, Label
from tests.fakes import HashingEmbedder

PASSWORD = "パスワードを忘れた場合の再設定方法"
# Thresholds that make every found article "answered", and ones that nothing reaches.
EVERYTHING, NOTHING = (0.0, 0.0), (1.01, 1.01)


def _policy(thresholds: tuple[float, float] = EVERYTHING, **fields: object) -> SuggestPolicy:
    return SuggestPolicy(("ja", "en"), 2, 200, {"default": thresholds}, **fields)  # type: ignore[arg-type]


def _suggester(policy: SuggestPolicy) -> Suggester:
    return Suggester(embedder=HashingEmbedder(), calibration=FALLBACK, redactor=Redactor(), policy=policy)


@pytest.fixture
def search_index(index_dir: Path, analyzer: Analyzer) -> SearchIndex:
    return SearchIndex(store.load_current(index_dir), analyzer)


def _sets(session: Session) -> list[SuggestionSet]:
    return list(session.exec(select(SuggestionSet).order_by(col(SuggestionSet.created_epoch))))


def test_check_query_returns_the_question_normalised() -> None:
    assert check_query("  How do I\tRESET my  Ｐａｓｓｗｏｒｄ? ", policy=_policy()) == "how do i reset my password?"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x" * 201, "longer than 200 characters"),
        (" \n\t ", "text is empty"),
        ("pass\x00word", "NUL"),
        ("pass\ufffdword", "not valid UTF-8"),
    ],
)
def test_check_query_refuses_a_question_that_cannot_be_searched(text: str, reason: str) -> None:
    with pytest.raises(InvalidQueryError, match=reason):
        check_query(text, policy=_policy())


@pytest.mark.parametrize(
    ("asked", "resolved"),
    [(None, None), ("ja", "ja"), ("EN", "en"), ("ja-JP", "ja"), ("en_GB", "en"), (" en-us ", "en")],
)
def test_resolve_locale_names_the_help_centers_own_locale(asked: str | None, resolved: str | None) -> None:
    assert resolve_locale(asked, ("ja", "en")) == resolved


@pytest.mark.parametrize("asked", ["fr", "fr-JA", "", "jap"])
def test_resolve_locale_refuses_a_locale_the_help_center_does_not_have(asked: str) -> None:
    with pytest.raises(InvalidQueryError, match="is not one of ja, en"):
        resolve_locale(asked, ("ja", "en"))


@pytest.mark.parametrize(
    ("previous", "current"),
    [("パスワ", "パスワード"), ("password reset", "password res"), ("passwrd", "password"), ("a", "ab")],
)
def test_typing_on_or_correcting_a_few_characters_is_one_edit_chain(previous: str, current: str) -> None:
    assert is_edit_chain(previous, current)


@pytest.mark.parametrize(
    ("previous", "current"),
    [("invoice address", "password reset"), ("請求書の宛名", "請求額の確認"), ("", "a"), ("abc", "xbc")],
)
def test_a_question_that_shares_no_more_than_a_short_start_is_not_an_edit_chain(previous: str, current: str) -> None:
    assert not is_edit_chain(previous, current)


def test_suggest_records_the_set_redacted_with_what_it_showed(session: Session, search_index: SearchIndex) -> None:
    request = SuggestRequest(
        text=f"{PASSWORD} taro@example.com", channel=Channel.FORM, locale="JA", client_id="taro@example.com"
    )
    result = suggest(session, index=search_index, suggester=_suggester(_policy()), request=request)

    assert result.recorded and result.label == Label.ANSWERED and result.hits
    assert result.hits[0][0].article.id == "reset-password"
    assert all(label == Label.ANSWERED for _, label in result.hits)
    [stored] = _sets(session)
    assert stored.id == result.query_id and stored.intent_id == result.query_id
    assert stored.text == f"{PASSWORD} [EMAIL]" and stored.locale == "ja" and stored.channel == "form"
    assert stored.client_id is not None and stored.client_id.startswith("h:")  # an email is stored hashed
    assert stored.result_count == len(result.hits) and stored.first_article == "reset-password"
    assert stored.vector is not None and not stored.superseded
    shown = session.exec(select(SuggestedArticle.article_id).order_by(col(SuggestedArticle.position))).all()
    assert shown == [hit.article.id for hit, _ in result.hits]


def test_suggest_shows_nothing_below_the_low_confidence_line(session: Session, search_index: SearchIndex) -> None:
    result = suggest(
        session, index=search_index, suggester=_suggester(_policy(NOTHING)), request=SuggestRequest(text=PASSWORD)
    )
    assert (result.label, result.hits, result.recorded) == (Label.NO_ANSWER, [], True)
    assert [s.result_count for s in _sets(session)] == [0]


def test_a_confident_only_form_gets_only_answered_articles(session: Session, search_index: SearchIndex) -> None:
    policy = _policy((0.5, 0.0))
    loose = suggest(session, index=search_index, suggester=_suggester(policy), request=SuggestRequest(text=PASSWORD))
    strict = suggest(
        session,
        index=search_index,
        suggester=_suggester(policy),
        request=SuggestRequest(text=PASSWORD, confident_only=True),
    )
    assert any(label == Label.LOW_CONFIDENCE for _, label in loose.hits)  # the planted case is there
    assert strict.hits and all(label == Label.ANSWERED for _, label in strict.hits)
    assert [hit.article.id for hit, _ in strict.hits] == [
        hit.article.id for hit, label in loose.hits if label == Label.ANSWERED
    ]


def test_a_question_shorter_than_the_minimum_is_answered_with_nothing_and_still_recorded(
    session: Session, search_index: SearchIndex
) -> None:
    result = suggest(session, index=search_index, suggester=_suggester(_policy()), request=SuggestRequest(text="a"))
    assert (result.label, result.hits) == (Label.NO_ANSWER, [])
    [stored] = _sets(session)
    assert stored.text == "a" and stored.vector is None


def test_suggest_refuses_a_bad_question_or_locale_and_records_nothing(
    session: Session, search_index: SearchIndex
) -> None:
    suggester = _suggester(_policy())
    for request in (SuggestRequest(text=""), SuggestRequest(text=PASSWORD, locale="fr")):
        with pytest.raises(InvalidQueryError):
            suggest(session, index=search_index, suggester=suggester, request=request)
    assert _sets(session) == []


def test_suggest_without_an_index_is_unavailable(session: Session) -> None:
    with pytest.raises(IndexUnavailableError):
        suggest(session, index=None, suggester=_suggester(_policy()), request=SuggestRequest(text=PASSWORD))
    assert _sets(session) == []


def test_keystrokes_of_one_client_on_one_edit_chain_are_one_search_intent(
    session: Session, search_index: SearchIndex
) -> None:
    suggester = _suggester(_policy())

    def ask(text: str, client_id: str = "c1", channel: Channel = Channel.SEARCH) -> str:
        request = SuggestRequest(text=text, channel=channel, client_id=client_id)
        return suggest(session, index=search_index, suggester=suggester, request=request).query_id

    first, second = ask("パスワード"), ask("パスワードを忘れた")
    other_client = ask("パスワードを忘れた場合", "c2")
    other_channel = ask("パスワードを忘れた場合", channel=Channel.FORM)
    new_question = ask("有給休暇の付与日数")

    stored = {s.id: s for s in _sets(session)}
    assert stored[first].superseded and not stored[second].superseded
    assert stored[second].intent_id == first  # the intent is named after its first keystroke
    assert stored[other_client].intent_id == other_client and stored[other_channel].intent_id == other_channel
    assert stored[new_question].intent_id == new_question


def test_a_later_keystroke_outside_the_intent_window_starts_a_new_intent(
    session: Session, search_index: SearchIndex
) -> None:
    suggester = _suggester(_policy(intent_window_seconds=1e-6))
    ids = [
        suggest(session, index=search_index, suggester=suggester, request=SuggestRequest(text=t, client_id="c1"))
        for t in ("パスワード", "パスワードを忘れた")
    ]
    stored = {s.id: s for s in _sets(session)}
    assert [stored[r.query_id].intent_id for r in ids] == [r.query_id for r in ids]
    assert not any(s.superseded for s in stored.values())


def test_a_composing_keystroke_is_answered_but_never_continues_or_starts_an_intent(
    session: Session, search_index: SearchIndex
) -> None:
    suggester = _suggester(_policy())
    composing = SuggestRequest(text="パスワードをわす", client_id="c1", composing=True)
    first = suggest(session, index=search_index, suggester=suggester, request=composing)
    final = suggest(
        session, index=search_index, suggester=suggester, request=SuggestRequest(text=PASSWORD, client_id="c1")
    )
    assert first.hits
    stored = {s.id: s for s in _sets(session)}
    assert stored[first.query_id].composing and stored[first.query_id].vector is None
    assert not stored[first.query_id].superseded and stored[final.query_id].intent_id == final.query_id
