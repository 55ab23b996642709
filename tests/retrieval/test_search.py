from pathlib import Path

import numpy as np
import pytest

from indexer import store
from indexer.analysis import Analyzer
from retrieval.calibration import FALLBACK
from retrieval.search import (
    DENSE_ONLY,
    LEXICAL_ONLY,
    Fusion,
    SearchFilters,
    SearchIndex,
    gather_evidence,
    question_vectors,
    rank_articles,
    search_articles,
)
from tests.fakes import HashingEmbedder


@pytest.fixture
def search_index(index_dir: Path, analyzer: Analyzer) -> SearchIndex:
    return SearchIndex(store.load_current(index_dir), analyzer)


def _ids(index: SearchIndex, text: str, locale: str | None = None, **kw: object) -> list[tuple[str, bool]]:
    outcome = search_articles(index, embedder=HashingEmbedder(), calibration=FALLBACK, text=text, locale=locale, **kw)  # type: ignore[arg-type]
    return [(hit.article.id, hit.fallback) for hit in outcome.hits]


def test_search_shows_a_translation_pair_once_in_the_callers_locale(search_index: SearchIndex) -> None:
    assert _ids(search_index, "パスワードを忘れた", "ja")[0] == ("reset-password", False)
    assert _ids(search_index, "パスワードを忘れた", "en")[0] == ("reset-password-en", False)
    ids = [article_id for article_id, _ in _ids(search_index, "password パスワード")]
    assert len({"reset-password", "reset-password-en"} & set(ids)) == 1


def test_search_marks_an_article_in_another_locale_as_fallback(search_index: SearchIndex) -> None:
    assert _ids(search_index, "webhook retries", "ja")[0] == ("webhook-setup", True)


def test_search_never_shows_internal_or_filtered_out_articles(search_index: SearchIndex) -> None:
    ids = [article_id for article_id, _ in _ids(search_index, "パスワード問い合わせ対応手順", "ja", limit=20)]
    assert "internal-runbook" not in ids
    leave_only = _ids(search_index, "パスワード 有給休暇", "ja", filters=SearchFilters(category="leave"), limit=20)
    assert leave_only == [("paid-leave", False)]


def test_search_snippet_highlights_matched_terms(search_index: SearchIndex) -> None:
    outcome = search_articles(
        search_index, embedder=HashingEmbedder(), calibration=FALLBACK, text="入社後の有給休暇の付与", locale="ja"
    )
    hit = outcome.hits[0]
    assert hit.article.id == "paid-leave"
    marked = {hit.snippet[start:end] for start, end in hit.highlights}
    assert {"入社", "有給休暇", "付与"} <= marked
    assert "<mark>" in hit.snippet_html


def test_search_snippet_html_escapes_article_text(search_index: SearchIndex) -> None:
    outcome = search_articles(
        search_index,
        embedder=HashingEmbedder(),
        calibration=FALLBACK,
        text="Settings > Integrations > Webhooks",
        locale="en",
    )
    assert "&gt;" in outcome.hits[0].snippet_html
    assert "> Integrations" not in outcome.hits[0].snippet_html


def test_one_questions_evidence_ranks_as_a_fresh_search_does_in_every_fusion(search_index: SearchIndex) -> None:
    embedder = HashingEmbedder()
    text = "パスワード 有給休暇 webhook"
    evidence = gather_evidence(search_index, embedder=embedder, text=text)
    leave = SearchFilters(category="leave")
    for fusion, filters in [(Fusion(), None), (Fusion("rrf"), None), (DENSE_ONLY, leave), (LEXICAL_ONLY, None)]:
        fresh = search_articles(
            search_index, embedder=embedder, calibration=FALLBACK, text=text, filters=filters, limit=10, fusion=fusion
        )
        reused = rank_articles(search_index, evidence, calibration=FALLBACK, filters=filters, limit=10, fusion=fusion)
        assert [(h.article.id, h.score, h.snippet) for h in reused.hits] == [
            (h.article.id, h.score, h.snippet) for h in fresh.hits
        ]
        assert reused.hits and reused.confidence == fresh.confidence
    dense_first = rank_articles(search_index, evidence, calibration=FALLBACK, limit=10, fusion=DENSE_ONLY)
    lexical_first = rank_articles(search_index, evidence, calibration=FALLBACK, limit=10, fusion=LEXICAL_ONLY)
    assert [h.article.id for h in dense_first.hits] != [h.article.id for h in lexical_first.hits]


def test_search_confidence_is_higher_for_a_matching_question_than_for_an_unrelated_one(
    search_index: SearchIndex,
) -> None:
    def confidence(text: str) -> float:
        return search_articles(search_index, embedder=HashingEmbedder(), calibration=FALLBACK, text=text).confidence

    assert confidence("パスワードを忘れた場合の再設定方法") > confidence("明日の天気は晴れですか") + 0.3


def test_every_result_carries_the_questions_mean_dense_score_over_all_articles_whatever_the_filters(
    search_index: SearchIndex,
) -> None:
    evidence = gather_evidence(search_index, embedder=HashingEmbedder(), text="パスワードを忘れた")
    everything = rank_articles(search_index, evidence, calibration=FALLBACK, limit=10)
    filtered = rank_articles(
        search_index, evidence, calibration=FALLBACK, limit=10, filters=SearchFilters(category="leave")
    )

    mean = pytest.approx(float(evidence.dense_article.mean()))
    assert len(everything.hits) > len(filtered.hits) > 0
    assert all(hit.features["dense_mean"] == mean for hit in everything.hits + filtered.hits)


def test_search_ranks_an_article_whose_phrasings_agree_above_one_with_a_single_match(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    from indexer.articles import Article
    from indexer.build import build_from_articles

    refund = ("refund my order", "refund for my order please", "order refund", "get a refund for the order")
    articles = [
        Article(id="lone", title="Shipping", locale="en", body="Shipping", questions=("refund my order",)),
        Article(id="refunds", title="Refunds", locale="en", body="Refunds", questions=refund),
    ]
    build_from_articles(articles, index_dir=tmp_path, embedder=HashingEmbedder(), analyzer=analyzer)
    index = SearchIndex(store.load_current(tmp_path), analyzer)

    assert [article_id for article_id, _ in _ids(index, "refund my order")][:2] == ["refunds", "lone"]


def test_lexical_evidence_counts_words_spread_over_an_articles_phrasings(tmp_path: Path, analyzer: Analyzer) -> None:
    from indexer.articles import Article
    from indexer.build import build_from_articles

    # "partial" has the best single passage (three of the four words); "spread" has all four, over two phrasings.
    articles = [
        Article(id="partial", title="Plans", locale="en", body="Plans", questions=("cancel subscription refund",)),
        Article(id="spread", title="Fees", locale="en", body="Fees", questions=("cancel subscription", "refund fee")),
    ]
    build_from_articles(articles, index_dir=tmp_path, embedder=HashingEmbedder(), analyzer=analyzer)
    index = SearchIndex(store.load_current(tmp_path), analyzer)
    evidence = gather_evidence(index, embedder=HashingEmbedder(), text="cancel subscription refund fee")
    best_passage = [float(evidence.lexical_passage[rows].max()) for rows in index.article_passages]
    assert best_passage[index.article_ids.index("partial")] > best_passage[index.article_ids.index("spread")]

    outcome = rank_articles(index, evidence, calibration=FALLBACK, fusion=LEXICAL_ONLY)
    assert [hit.article.id for hit in outcome.hits] == ["spread", "partial"]
    # The same evidence, ranked by best passages alone (no share from the whole article): the order flips.
    best_passage_only = Fusion("rrf", dense_weight=0.0, lexical_weight=1.0, whole_article=0.0)
    outcome = rank_articles(index, evidence, calibration=FALLBACK, fusion=best_passage_only)
    assert [hit.article.id for hit in outcome.hits] == ["partial", "spread"]


@pytest.mark.parametrize(
    ("text", "expected"), [("ぱすわーど わすれた", "reset-password"), ("ゆうきゅう きゅうか", "paid-leave")]
)
def test_search_finds_the_article_for_kana_typed_without_conversion(
    search_index: SearchIndex, text: str, expected: str
) -> None:
    if search_index.analyzer._tagger is None:
        pytest.skip("MeCab (fugashi + unidic-lite) is not installed")
    outcome = search_articles(
        search_index, embedder=HashingEmbedder(), calibration=FALLBACK, text=text, locale="ja", fusion=LEXICAL_ONLY
    )

    assert outcome.hits[0].article.id == expected
    assert outcome.hits[0].features["coverage"] > 0.5  # the reading carries the question's terms


def test_kana_typed_without_conversion_is_searched_and_embedded_in_the_help_centers_words(
    search_index: SearchIndex,
) -> None:
    if search_index.analyzer._tagger is None:
        pytest.skip("MeCab (fugashi + unidic-lite) is not installed")
    embedder = HashingEmbedder()
    converted = search_index.searched_text("ぱすわーど わすれた")

    assert converted == "パスワード 忘れた"
    assert search_index.searched_text("パスワードを忘れた") == "パスワードを忘れた"  # written with kanji: as typed
    evidence = gather_evidence(search_index, embedder=embedder, text="ぱすわーど わすれた")
    assert evidence.vector is not None
    assert np.allclose(evidence.vector, embedder.embed_queries([converted])[0])
    assert np.allclose(question_vectors(embedder, ["ぱすわーど わすれた"], search_index)[0], evidence.vector)
    assert evidence.kana_only and evidence.readings  # the reading of what was typed still counts
