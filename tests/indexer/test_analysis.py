import unicodedata

import pytest

from indexer.analysis import Analyzer, normalize, pos_and_lemma, typed_in_kana


def test_normalize_folds_full_width_and_case() -> None:
    assert normalize("  ＩＣカード　ＰＡＳＳＷＯＲＤ ") == "icカード password"


def test_terms_meet_across_conjugation_and_kana_kanji_spelling(analyzer: Analyzer) -> None:
    assert "忘れる" in analyzer.terms("パスワードを忘れました")
    assert "忘れる" in analyzer.terms("パスワードを忘れた")
    assert "出来る" in analyzer.terms("ログインできない")
    assert "出来る" in analyzer.terms("ログイン出来ない")


def test_terms_fold_katakana_long_vowel_and_half_width(analyzer: Analyzer) -> None:
    assert analyzer.terms("サーバー") == analyzer.terms("サーバ") == analyzer.terms("ｻｰﾊﾞｰ")


def test_terms_drop_particles_and_stem_english(analyzer: Analyzer) -> None:
    assert analyzer.terms("有給休暇の申請") == ["有給", "休暇", "申請"]
    assert analyzer.terms("Resetting passwords") == ["reset", "password"]


def test_terms_keep_error_codes_whole(analyzer: Analyzer) -> None:
    assert "e1023" in analyzer.terms("エラーE-1023が出ます")
    assert "e1023" in analyzer.terms("error Ｅ－１０２３")


def test_tokens_carry_offsets_into_the_text(analyzer: Analyzer) -> None:
    text = "打刻を修正する"
    assert [(t.term, text[t.start : t.end]) for t in analyzer.tokens(text)] == [("打刻", "打刻"), ("修正", "修正")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Can't  log in:\tRESET passwords?",
            [("can't", "can't"), ("log", "log"), ("reset", "reset"), ("password", "passwords")],
        ),
        ("Ｒｅｓｅｔ  my   Password", [("reset", "reset"), ("password", "password")]),
        ("reset パスワード again", [("reset", "reset"), ("パスワード", "パスワード"), ("again", "again")]),
    ],
)
def test_tokens_carry_offsets_in_english_and_mixed_text(
    analyzer: Analyzer, text: str, expected: list[tuple[str, str]]
) -> None:
    folded = unicodedata.normalize("NFKC", text).lower()
    assert [(t.term, folded[t.start : t.end]) for t in analyzer.tokens(text)] == expected


@pytest.mark.parametrize("text", ["有給休暇", "申請"])
def test_bigram_fallback_when_no_morphological_analyser(text: str) -> None:
    bigrams = Analyzer(morphological=False)
    assert bigrams.name.startswith("ja-bigram")
    assert bigrams.terms(text) == [text[i : i + 2] for i in range(len(text) - 1)]


def test_part_of_speech_and_lemma_read_from_raw_fields_match_fugashis_parse(analyzer: Analyzer) -> None:
    tagger = analyzer._tagger
    if tagger is None:
        pytest.skip("MeCab (fugashi + unidic-lite) is not installed")
    # Known words, a loanword, an unknown word, full-width punctuation and a quoted comma in a later field.
    text = 'パスワードを忘れた場合は、ＩＣカード「Kumo」で打刻できませんでした。ぴえん草 1,000円 "引用"'
    words = list(tagger(text))
    assert any(len(word.feature_raw.split(",")) < 8 for word in words)  # the unknown word is among them
    assert [pos_and_lemma(word) for word in words] == [(word.feature.pos1, word.feature.lemma) for word in words]


@pytest.mark.parametrize(
    ("text", "typed_in_kana_"),
    [
        ("ぱすわーど わすれた", True),
        ("ｹｲﾔｸ ｻｸｼﾞｮ", True),  # half-width katakana, NFKC-folded first
        ("パスワードを忘れた", False),
        ("有給の申請", False),
        ("how do I reset my password", False),
    ],
)
def test_typed_in_kana_tells_unconverted_japanese(text: str, typed_in_kana_: bool) -> None:
    assert typed_in_kana(text) is typed_in_kana_


def test_readings_of_kanji_and_of_kana_typed_for_them_meet(analyzer: Analyzer) -> None:
    if analyzer._tagger is None:
        pytest.skip("MeCab (fugashi + unidic-lite) is not installed")
    assert analyzer.reading_terms("給与明細") == analyzer.reading_terms("きゅうよめいさい")
    # Long-vowel marks are dropped: サーバー and さーば read alike.
    assert analyzer.reading_terms("サーバー") == analyzer.reading_terms("さーば")
    assert analyzer.reading_terms("password reset") == []
