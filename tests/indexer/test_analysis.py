import unicodedata

import pytest

from indexer.analysis import Analyzer, KanaConverter, Token, normalize, pos_and_lemma, typed_in_kana


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


def test_kana_typed_without_conversion_is_converted_with_the_vocabularys_words(analyzer: Analyzer) -> None:
    converter = KanaConverter.of_texts(
        ["面接の日程を変更したい", "テンプレートの履歴", "紙の契約書を取り込む"], analyzer
    )
    assert converter.convert("めんせつ") == "面接"
    assert converter.convert("めんせつ にってい へんこう") == "面接 日程 変更"
    assert converter.convert("てんぷれーと りれき") == "テンプレート 履歴"  # katakana words, long-vowel marks too
    assert converter.convert("ﾃﾝﾌﾟﾚｰﾄ") == "テンプレート"  # half-width kana
    assert converter.convert("かみのけいやくしょ") == "紙の契約書"  # a compound whole, an unknown particle kept
    assert KanaConverter({"ツク": "付く"}).convert("つくる") == "つくる"  # る is no particle: 付くる is no word
    assert converter.convert("ぴよぴよ めんせつ") == "ぴよぴよ 面接"  # what matches nothing is kept as typed
    assert converter.convert("面接 にってい") == "面接 日程"
    assert converter.convert("面接にってい") == "面接にってい"  # a chunk with kanji was converted by its writer


def test_kana_conversion_leaves_out_affixes_alone_and_needs_a_vocabulary(analyzer: Analyzer) -> None:
    # 内 of 期間内 is a suffix: alone it would turn every ない into 内; with its noun it stays.
    converter = KanaConverter.of_texts(["期間内に"], analyzer)
    assert converter.convert("みれない") == "みれない"
    assert converter.convert("きかんない") == "期間内"
    assert KanaConverter({}).convert("めんせつ") == "めんせつ"
    assert KanaConverter.of_texts(["interview schedule"], analyzer).readings == {}


def test_surface_readings_pair_adjacent_words_so_compounds_stay_whole(analyzer: Analyzer) -> None:
    readings = analyzer.surface_readings("契約書を登録")
    assert (
        ("契約", "ケイヤク") in readings and ("契約書", "ケイヤクショ") in readings and ("登録", "トウロク") in readings
    )
    assert not any(surface == "を" for surface, _ in readings)  # particles are no words to convert to
    assert Analyzer(morphological=False).surface_readings("契約書") == []


def test_readings_and_surfaces_of_one_pass_are_those_of_each_alone(analyzer: Analyzer) -> None:
    if analyzer._tagger is None:
        pytest.skip("MeCab (fugashi + unidic-lite) is not installed")
    # A chunk with capitals (Slackで) is read lower-cased and kept as written: two parses, each used up in turn.
    for text in ["Slackで承認依頼を受け取る 契約書を登録", "給与明細 きゅうよめいさい", "password reset", ""]:
        assert analyzer.readings_and_surfaces(text) == (analyzer.reading_terms(text), analyzer.surface_readings(text))
    texts = ["面接の日程を変更したい", "Slackの通知", "interview"]
    vocabulary = KanaConverter.of_surface_readings(analyzer.readings_and_surfaces(t)[1] for t in texts)
    assert vocabulary.readings == KanaConverter.of_texts(texts, analyzer).readings
    assert vocabulary.convert("めんせつ つうち") == "面接 通知"


def test_an_extended_vocabulary_adds_words_and_keeps_its_own_spelling(analyzer: Analyzer) -> None:
    own = KanaConverter.of_texts(["面接の日程"], analyzer)
    extended = own.extended(["めん接の予定を変更", "面セツ"], analyzer)

    assert extended.convert("めんせつ へんこう") == "面接 変更"  # 変更 added, 面接 as the help center writes it
    assert own.convert("めんせつ へんこう") == "面接 へんこう"  # the original is left as it was


def test_tokens_without_names_leave_out_the_surname_of_a_self_introduction_not_its_nouns(analyzer: Analyzer) -> None:
    text = "ヘアサロン アンジュの店長、野口です。予約の変更です。"

    def surfaces(tokens: list[Token]) -> set[str]:
        return {text[token.start : token.end] for token in tokens}

    assert "野口" in surfaces(analyzer.tokens(text))
    without = surfaces(analyzer.tokens(text, without_names=True))
    assert "野口" not in without and {"予約", "変更", "店長"} <= without


def test_content_words_leave_out_the_words_that_name_nothing(analyzer: Analyzer) -> None:
    text = "こんにちは。この前の請求書がまだ届かないのですが、どこで見ればいいですか"

    def surfaces(tokens: list[Token]) -> set[str]:
        return {text[token.start : token.end] for token in tokens}

    assert {"こんにちは", "この", "まだ", "どこ", "いい"} <= surfaces(analyzer.tokens(text))  # search keeps them
    content = surfaces(analyzer.tokens(text, content_words=True))
    assert not {"こんにちは", "この", "まだ", "どこ", "いい"} & content
    assert {"請求", "届か", "見れ"} <= content


def test_content_words_carry_an_inflected_words_dictionary_form_in_its_writers_spelling(analyzer: Analyzer) -> None:
    text = "申し込んだカードが届かないので、やめたい"
    bases = {text[t.start : t.end]: t.base for t in analyzer.tokens(text, content_words=True)}
    assert bases == {"申し込ん": "申し込む", "カード": "", "届か": "届く", "やめ": "やめる"}
    assert all(not t.base for t in analyzer.tokens(text))  # search does not read them


def test_content_words_leave_out_the_contractions_of_words_search_leaves_out(analyzer: Analyzer) -> None:
    text = "we're trying to export what i'm paying"
    assert {"we'r", "i'm"} <= set(analyzer.terms(text))
    assert [t.term for t in analyzer.tokens(text, content_words=True)] == ["tri", "export", "pay"]
