from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from app.reports.gaps import report as gaps
from app.reports.gaps.live_topics import TopicSet
from app.reports.gaps.report import GapSettings, Inquiry, build_topics, cluster
from indexer.analysis import Analyzer, KanaConverter
from indexer.embedders import EmbedderPart
from retrieval.inquiry import LONG_MAIL_CHARS, core_question
from retrieval.topic_space import (
    CENTRED_TOPIC_SIMILARITY,
    FORM_CENTRED_TOPIC_SIMILARITY,
    JAPANESE_TOPIC_SIMILARITY,
    MIN_FORM_QUESTIONS,
    PLAIN_TOPIC_SIMILARITY,
    TopicSpace,
)


def _blobs(sizes: list[int], dim: int = 32, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.normal(size=(dim, dim)))[0][: len(sizes)]  # orthogonal topic directions
    rows, truth = [], []
    for topic, size in enumerate(sizes):
        rows.append(centres[topic] + rng.normal(0, 0.08, (size, dim)))
        truth += [topic] * size
    return np.vstack(rows).astype(np.float32), truth


def test_cluster_finds_the_number_of_topics_from_the_data() -> None:
    vectors, truth = _blobs([12, 8, 5])
    labels = cluster(vectors, similarity=0.55, min_size=2)
    assert len(set(labels.tolist()) - {-1}) == 3
    for topic in range(3):
        assert len({labels[i] for i, t in enumerate(truth) if t == topic}) == 1


def test_cluster_leaves_a_lone_question_as_noise() -> None:
    vectors, _ = _blobs([6, 1])
    labels = cluster(vectors, similarity=0.55, min_size=2)
    assert labels[-1] == -1 and len(set(labels[:6].tolist())) == 1


def test_cluster_large_inputs_through_leaders_gives_the_same_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors, truth = _blobs([40, 30, 30])
    monkeypatch.setattr(gaps, "DIRECT_CLUSTERING_LIMIT", 10)
    labels = cluster(vectors, similarity=0.55, min_size=2)
    assert len(set(labels.tolist()) - {-1}) == 3
    assert all(len({labels[i] for i, t in enumerate(truth) if t == topic}) == 1 for topic in range(3))


def test_build_topics_ranks_by_impact_and_labels_with_key_terms(analyzer: Analyzer) -> None:
    vectors, truth = _blobs([3, 5])
    texts = {0: "交通費の精算", 1: "phone support hours"}
    failing = [Inquiry(f"q{i}", texts[t], None, vectors[i], {"no_result"}) for i, t in enumerate(truth)]
    topics, _, _ = build_topics(failing, [], index=None, analyzer=analyzer, settings=GapSettings())
    assert [t.volume for t in topics] == [5, 3]
    assert "phone" in topics[0].label and "交通" in topics[1].label
    assert topics[0].verdict == "missing_article"
    assert topics[0].query_ids == [f"q{i}" for i in range(3, 8)]


def test_a_topic_of_mails_is_labelled_by_their_questions_not_their_courtesies(analyzer: Analyzer) -> None:
    vectors, truth = _blobs([3, 3])
    mails = {
        0: "お世話になっております。サロン花の田中です。ギフト券を販売したいのですが。よろしくお願いいたします。",
        1: "お世話になっております。サロン月の佐藤です。キャンセル待ちを受けたいのですが。よろしくお願いします。",
    }
    failing = [Inquiry(f"q{i}", mails[t], "ja", vectors[i], {"no_result"}) for i, t in enumerate(truth)]
    topics, _, _ = build_topics(failing, [], index=None, analyzer=analyzer, settings=GapSettings())
    labels = {t.query_ids[0]: t.label for t in topics}
    assert "ギフト" in labels["q0"] and "キャンセル" in labels["q3"]
    assert not any(word in label for label in labels.values() for word in ("よろしく", "願い", "世話", "田中"))


def test_build_topics_trend_counts_the_previous_periods_failing_inquiries_near_each_topic(analyzer: Analyzer) -> None:
    vectors, _ = _blobs([6, 3, 1])  # rows 0-5 one topic, 6-8 another, 9 a question near neither
    failing = [Inquiry(f"q{i}", "年末調整の書類", None, vectors[i], {"no_result"}) for i in (0, 1, 2, 3, 6, 7, 8)]
    previous = [Inquiry(f"p{i}", "年末調整の書類", None, vectors[i], {"no_result"}) for i in (4, 5, 9)]
    topics, _, _ = build_topics(failing, [], previous=previous, index=None, analyzer=analyzer, settings=GapSettings())
    trends = {t.volume: (t.trend.previous_volume, t.trend.change) for t in topics}
    assert trends == {4: (2, 1.0), 3: (0, None)}  # (4 - 2) / 2; none before: no change to speak of


def test_build_topics_merges_imported_tickets_into_topics_and_counts_them_apart(analyzer: Analyzer) -> None:
    vectors, _ = _blobs([4, 3])  # rows 0-3 one topic, 4-6 another
    failing = [Inquiry(f"q{i}", "年末調整の書類", None, vectors[i], {"no_result"}) for i in (0, 1)]
    failing += [
        Inquiry(f"t{i}", "年末調整の書類 — 作りたい", None, vectors[i], {"imported_ticket"}, "imported_ticket")
        for i in (2, 3)
    ]
    failing += [
        Inquiry(f"t{i}", "invoice address", None, vectors[i], {"imported_ticket"}, "imported_ticket") for i in (4, 5, 6)
    ]
    topics, _, _ = build_topics(failing, [], index=None, analyzer=analyzer, settings=GapSettings())
    mixed = next(t for t in topics if t.query_ids)
    tickets_only = next(t for t in topics if not t.query_ids)
    assert (mixed.query_ids, mixed.ticket_ids) == (["q0", "q1"], ["t2", "t3"])
    assert mixed.signals == {"no_result": 2, "imported_ticket": 2} and mixed.volume == 4
    assert tickets_only.ticket_ids == ["t4", "t5", "t6"] and tickets_only.signals == {"imported_ticket": 3}


def test_build_topics_in_the_index_topic_space_separates_topics_plain_cosine_merges(analyzer: Analyzer) -> None:
    blobs, truth = _blobs([6, 5, 4])
    shared = np.zeros(blobs.shape[1], dtype=np.float32)
    shared[-1], blobs[:, -1] = 1.0, 0.0  # the shared direction: an axis the topics leave alone
    vectors = 3 * shared + blobs  # what every support question shares dominates plain cosine
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    failing = [Inquiry(f"q{i}", "question", None, vectors[i], {"no_result"}) for i in range(len(truth))]
    space = TopicSpace(vectors.mean(axis=0), CENTRED_TOPIC_SIMILARITY)
    index = SimpleNamespace(
        topic_space=space,
        article_terms=[],
        article_locale=[],
        kana_converter=KanaConverter({}),
        build=SimpleNamespace(dense=SimpleNamespace(ntotal=0)),
    )

    plain, _, _ = build_topics(failing, [], index=None, analyzer=analyzer, settings=GapSettings())
    centred, labels, centroids = build_topics(failing, [], index=index, analyzer=analyzer, settings=GapSettings())  # type: ignore[arg-type]
    assert [t.volume for t in plain] == [15]
    assert sorted(t.volume for t in centred) == [4, 5, 6]
    assert all(len({labels[i] for i, t in enumerate(truth) if t == topic}) == 1 for topic in range(3))
    # New inquiries join the published centroids through the same projection, which the topic set keeps.
    published = TopicSet(1, 0.0, None, CENTRED_TOPIC_SIMILARITY, ("a", "b", "c"), centroids, space)
    ranked = {volume: topic_id for topic_id, volume in zip("abc", [t.volume for t in centred], strict=True)}
    assert published.nearest(vectors[0]) == ranked[6]
    unprojected = TopicSet(1, 0.0, None, CENTRED_TOPIC_SIMILARITY, ("a", "b", "c"), centroids)
    assert unprojected.nearest(vectors[0]) is None  # a raw vector is not comparable with topic-space centroids


def test_japanese_among_the_failing_holds_a_plain_topic_together_at_a_lower_cosine(analyzer: Analyzer) -> None:
    # Two askings of one need at cosine 0.47: kana or the other language sit this far apart, English rewordings not.
    near, far = (
        np.array([1.0, 0.0, 0.0], dtype=np.float32),
        np.array([0.47, np.sqrt(1 - 0.47**2), 0.0], dtype=np.float32),
    )
    english = [Inquiry("e1", "claim travel expenses", None, near), Inquiry("e2", "travel reimbursement", None, far)]
    japanese = [Inquiry("j1", "交通費を精算したい", None, near), Inquiry("j2", "こうつうひ せいさん", None, far)]
    whole = TopicSpace.plain(3)
    single_model = SimpleNamespace(embedder=[EmbedderPart("a-single-model", 3, reads_japanese=True)])
    build = SimpleNamespace(dense=SimpleNamespace(ntotal=0), manifest=single_model)
    index = SimpleNamespace(
        topic_space=whole, article_terms=[], article_locale=[], kana_converter=KanaConverter({}), build=build
    )

    assert gaps.topic_space(index, dim=3, failing=english) is whole  # type: ignore[arg-type]
    mixed = gaps.topic_space(index, dim=3, failing=japanese)  # type: ignore[arg-type]
    assert mixed.topic_similarity == JAPANESE_TOPIC_SIMILARITY < PLAIN_TOPIC_SIMILARITY and not mixed.mean.any()
    topics, _, _ = build_topics(japanese, [], index=index, analyzer=analyzer, settings=GapSettings())  # type: ignore[arg-type]
    assert [sorted(t.query_ids) for t in topics] == [["j1", "j2"]]
    english_only, _, _ = build_topics(english, [], index=index, analyzer=analyzer, settings=GapSettings())  # type: ignore[arg-type]
    assert english_only == []  # two English questions this far apart are two needs


MAIL = (
    "いつもお世話になっております。株式会社サンプルの佐藤です。"
    "商品をギフト包装で送ることはできますか。よろしくお願いいたします。"
)


def test_a_topics_representative_question_is_its_most_central_member_in_the_teams_language(analyzer: Analyzer) -> None:
    members = [
        Inquiry("e", "How do I wrap a gift?", "en", np.zeros(3, dtype=np.float32)),
        Inquiry("j", MAIL, "ja", np.zeros(3, dtype=np.float32)),
        Inquiry("k", "ぎふと ほうそう", "ja", np.zeros(3, dtype=np.float32)),
    ]
    closeness = np.array([0.9, 0.8, 0.7], dtype=np.float32)

    in_japanese = gaps.representative_question(members, closeness, "ja", analyzer)
    assert in_japanese == "商品をギフト包装で送ることはできますか。"  # without the courtesies
    assert gaps.representative_question(members, closeness, "en", analyzer) == "How do I wrap a gift?"
    assert (
        gaps.representative_question(members, closeness, "ko", analyzer) == "How do I wrap a gift?"
    )  # none in it: the nearest


def test_a_representative_question_leaves_out_its_writers_self_introduction(analyzer: Analyzer) -> None:
    mail = "お世話になっております。ベーシックプランを使っている大西です。余ったデータは翌月に繰り越せますか。"
    members = [Inquiry("m", mail, "ja", np.zeros(3, dtype=np.float32))]
    closeness = np.array([0.9], dtype=np.float32)

    assert "大西" in core_question(mail)  # no company names the writer: the courtesies' cut keeps it
    assert gaps.representative_question(members, closeness, "ja", analyzer) == "余ったデータは翌月に繰り越せますか。"


def test_a_label_leaves_out_the_help_centers_own_words(analyzer: Analyzer) -> None:
    members = [gaps.AnalysedText.of(text, analyzer) for text in ("SignDesk gift wrapping", "SignDesk gift wrap please")]
    corpus = Counter(term for member in members for term in {t.term for t in member.tokens})

    assert "signdesk" in gaps.key_terms(members, corpus, 10)
    assert "signdesk" not in gaps.key_terms(members, corpus, 10, shared=frozenset({"signdesk"}))


def test_the_long_tail_lists_every_inquiry_in_no_topic_with_its_verdict() -> None:
    alone = [
        Inquiry(
            "q1", "Hi team, can I print shipping labels? Thanks, Sam", "en", np.ones(3, dtype=np.float32), {"no_result"}
        ),
        Inquiry("t1", "label printer", "en", np.ones(3, dtype=np.float32), {"imported_ticket"}, gaps.IMPORTED_TICKET),
    ]

    tail = gaps.long_tail(alone, index=None, settings=GapSettings())

    assert [(q.query_id, q.ticket_id) for q in tail] == [("q1", None), (None, "t1")]
    assert tail[0].signals == ["no_result"] and tail[0].verdict == "missing_article"
    assert tail[0].closest_article.article_id is None


def test_a_representative_question_prefers_a_member_converted_to_kanji(analyzer: Analyzer) -> None:
    members = [
        Inquiry("k", "めんせつ にってい へんこう", "ja", np.zeros(3, dtype=np.float32)),
        Inquiry("j", "面接の日程を変更したい", "ja", np.zeros(3, dtype=np.float32)),
    ]

    assert (
        gaps.representative_question(members, np.array([0.9, 0.5], dtype=np.float32), "ja", analyzer)
        == "面接の日程を変更したい"
    )


def test_a_label_leaves_out_words_that_name_nothing(analyzer: Analyzer) -> None:
    texts = ("ソファはどこに捨てればいいですか", "ソファを捨てたいのですが、どこに出せばいいですか", "ソファ どこ")
    members = [gaps.AnalysedText.of(text, analyzer) for text in texts]
    corpus = Counter(term for member in members for term in {t.term for t in member.tokens})

    terms = gaps.key_terms(members, corpus, 10, k=10)
    assert "ソファ" in terms and not {"どこ", "いい"} & set(terms)


def test_a_label_shows_japanese_verbs_in_their_dictionary_form_as_written(analyzer: Analyzer) -> None:
    texts = ("父が亡くなった後の手続き", "母が亡くなったので葬儀の相談", "葬儀をやめたい")
    members = [gaps.AnalysedText.of(text, analyzer) for text in texts]
    corpus = Counter(term for member in members for term in {t.term for t in member.tokens})

    terms = gaps.key_terms(members, corpus, 10, k=10)
    # 亡くなっ is a fragment of 亡くなった; やめ is shown as written, not as the lemma 止める.
    assert {"亡くなる", "葬儀", "やめる"} <= set(terms)
    assert not {"亡くなっ", "やめ", "止める"} & set(terms)


def test_a_label_shows_no_empty_brackets_when_the_other_language_names_nothing(analyzer: Analyzer) -> None:
    texts = ("scorecard export", "scorecard template", "どこですか")
    members = [gaps.AnalysedText.of(text, analyzer) for text in texts]
    corpus = Counter(term for member in members for term in {t.term for t in member.tokens})

    label = gaps.topic_label(members, corpus, 10)
    assert label.startswith("scorecard") and "(" not in label


def test_a_label_leaves_out_mecabs_guesses_at_unconverted_kana(analyzer: Analyzer) -> None:
    members = [gaps.AnalysedText.of(text, analyzer) for text in ("めんせつ にってい へんこう", "面接 日程 変更")]
    corpus = Counter(term for member in members for term in {t.term for t in member.tokens})

    terms = gaps.key_terms(members, corpus, 10, k=10)
    assert terms and not any(len(t) <= 3 and all("\u3041" <= c <= "\u3096" or c == "ー" for c in t) for t in terms)


class _RecordingEmbedder:
    """Embeds each text as a vector of its own and remembers what it was asked to embed."""

    name, dim = "recording", 3

    def __init__(self) -> None:
        self.asked: list[str] = []

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self.embed_queries(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return np.tile(np.array([0, 0, 1], dtype=np.float32), (len(texts), 1))


def test_questions_typed_in_kana_are_re_embedded_as_converted_with_the_periods_words(analyzer: Analyzer) -> None:
    vector = np.array([1, 0, 0], dtype=np.float32)
    failing = [
        Inquiry("k", "めんせつ にってい へんこう", "ja", vector),
        Inquiry("w", "面接の日程を変更したい", "ja", vector),
        Inquiry("e", "reschedule an interview", "en", vector),
        Inquiry("u", "ぴよぴよ", "ja", vector),  # no word of the period reads so: kept as typed, not re-embedded
    ]
    embedder = _RecordingEmbedder()
    converted = gaps.kana_converted(
        failing, vocabulary=[i.text for i in failing], index=None, analyzer=analyzer, embedder=embedder
    )
    assert embedder.asked == ["面接 日程 変更"]
    assert [i.query_id for i in converted] == ["k", "w", "e", "u"]
    assert converted[0].vector.tolist() == [0, 0, 1] and converted[0].text == failing[0].text
    assert converted[0].read_as == "面接 日程 変更"
    assert all(a is b for a, b in zip(converted[1:], failing[1:], strict=True))


def test_a_topic_of_kana_typed_questions_is_labelled_with_the_words_they_were_read_as(analyzer: Analyzer) -> None:
    vectors, _ = _blobs([3])
    typed = ["めんせつ にってい へんこう", "めんせつ にってい", "めんせつ へんこう"]
    failing = [
        Inquiry(f"q{i}", text, "ja", vectors[i], {"no_result"}, read_as=text.replace("めんせつ", "面接"))
        for i, text in enumerate(typed)
    ]

    topics, _, _ = build_topics(failing, [], index=None, analyzer=analyzer, settings=GapSettings())

    assert len(topics) == 1 and "面接" in topics[0].label
    assert topics[0].examples[0] in typed  # the examples keep what the customers typed


def test_a_sentence_with_kana_in_it_is_not_converted(analyzer: Analyzer) -> None:
    # Its kana is grammar (でしょうか), not a word typed without conversion.
    sentence = "めんせつのにっていをへんこうしたいのですが、どうすればよいでしょうか"
    failing = [Inquiry("s", sentence, "ja", np.array([1, 0, 0], dtype=np.float32))]
    embedder = _RecordingEmbedder()
    converted = gaps.kana_converted(
        failing, vocabulary=["面接の日程を変更"], index=None, analyzer=analyzer, embedder=embedder
    )
    assert converted is failing and embedder.asked == []


def test_a_period_without_kana_typed_questions_embeds_nothing(analyzer: Analyzer) -> None:
    failing = [Inquiry("w", "面接の日程を変更したい", "ja", np.array([1, 0, 0], dtype=np.float32))]
    embedder = _RecordingEmbedder()
    assert gaps.kana_converted(failing, vocabulary=[], index=None, analyzer=analyzer, embedder=embedder) is failing
    assert embedder.asked == []


def test_a_japanese_period_with_enough_keywords_and_sentences_centres_each_form() -> None:
    single_model = SimpleNamespace(embedder=[EmbedderPart("a-single-model", 3, reads_japanese=True)])
    build = SimpleNamespace(dense=SimpleNamespace(ntotal=0), manifest=single_model)
    index = SimpleNamespace(
        topic_space=TopicSpace.plain(3),
        article_terms=[],
        article_locale=[],
        kana_converter=KanaConverter({}),
        build=build,
    )
    vector = np.array([1, 0, 0], dtype=np.float32)
    keywords = [Inquiry(f"k{n}", "面接 日程", "ja", vector) for n in range(MIN_FORM_QUESTIONS)]
    sentence = "面接の日程を候補者の都合に合わせて変更したいのですが"
    sentences = [Inquiry(f"s{n}", sentence, "ja", vector) for n in range(MIN_FORM_QUESTIONS)]
    space = gaps.topic_space(index, dim=3, failing=keywords, answered=sentences)  # type: ignore[arg-type]
    assert space.offsets is not None and space.offsets.shape == (2, 3)
    assert space.topic_similarity == FORM_CENTRED_TOPIC_SIMILARITY
    few = gaps.topic_space(index, dim=3, failing=keywords, answered=sentences[:5])  # type: ignore[arg-type]
    assert few.offsets is None and few.topic_similarity == JAPANESE_TOPIC_SIMILARITY
    # A long mail, told around its question, is a third form once the period has enough of them.
    story = "いつも大変お世話になっております。" + "面接の日程を変更したいのですが、" * 9 + "可能でしょうか。"
    assert len(core_question(story)) >= LONG_MAIL_CHARS > len(core_question(sentence))
    mails = [Inquiry(f"m{n}", story, "ja", vector) for n in range(MIN_FORM_QUESTIONS)]
    three = gaps.topic_space(index, dim=3, failing=keywords + mails, answered=sentences)  # type: ignore[arg-type]
    assert three.offsets is not None and three.offsets.shape == (3, 3)


def test_the_help_centers_own_words_are_counted_in_each_language_of_enough_articles() -> None:
    english = [{"kumo", "clock", f"word{n}"} for n in range(gaps.MIN_LANGUAGE_ARTICLES)]
    japanese = [{"勤怠", f"語{n}"} for n in range(2 * gaps.MIN_LANGUAGE_ARTICLES)]
    french = [{"kumo", "pointage"}] * (gaps.MIN_LANGUAGE_ARTICLES - 1)
    index = SimpleNamespace(
        article_terms=english + japanese + french,
        article_locale=["en-US"] * len(english) + ["ja"] * len(japanese) + ["fr"] * len(french),
    )
    # "kumo" is in a third of all articles but in every English one: the product's name, spelled in English.
    shared = gaps.help_center_terms(index)  # type: ignore[arg-type]
    assert {"kumo", "clock", "勤怠"} <= shared
    # Nine French articles are too few to speak for their language; "pointage" is in a fifth of all.
    assert "pointage" not in shared and "word1" not in shared


def _unit_rows(*rows: tuple[float, ...]) -> np.ndarray:
    points = np.array(rows, dtype=np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_a_fragment_joins_the_large_topic_it_is_close_to_and_a_far_one_stays_its_own() -> None:
    anchor = [(1.0, 0.1 * i, 0.0, 0.0) for i in range(2 * gaps.FRAGMENT_SIZE)]
    near = [(0.5, 0.0, 1.0, 0.0), (0.5, 0.0, 1.2, 0.0)]  # one need asked otherwise: cosine ~0.4 to the anchor
    far = [(0.0, 0.0, 0.0, 1.0), (0.0, 0.1, 0.0, 1.0)]
    points = _unit_rows(*anchor, *near, *far)
    labels = np.array([0] * len(anchor) + [1, 1] + [2, 2], dtype=np.int64)

    joined = gaps.fragments_joined(points, labels, similarity=0.3)

    assert joined.tolist() == [0] * len(anchor) + [0, 0] + [2, 2]
    assert gaps.fragments_joined(points, labels, similarity=0.5).tolist() == labels.tolist()


def test_fragments_never_join_each_other_nor_a_topic_too_small_to_anchor_them() -> None:
    middle = [(1.0, 0.1 * i, 0.0) for i in range(gaps.FRAGMENT_SIZE + 1)]  # neither a fragment nor an anchor
    points = _unit_rows(*middle, (1.0, 0.0, 0.1), (1.0, 0.0, 0.2), (1.0, 0.1, 0.1), (1.0, 0.2, 0.1))
    labels = np.array([0] * len(middle) + [1, 1, 2, 2], dtype=np.int64)

    assert gaps.fragments_joined(points, labels, similarity=0.1).tolist() == labels.tolist()


def test_build_topics_keeps_one_topic_for_a_need_whose_other_language_split_off(analyzer: Analyzer) -> None:
    vectors, truth = _blobs([8, 2])
    vectors[8:] = 0.6 * vectors[0] + 0.8 * vectors[8:]  # the two stray askings lean towards the larger topic
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = ["ギフト券 販売"] * 8 + ["sell gift cards"] * 2
    failing = [Inquiry(f"q{i}", texts[i], None, vectors[i], {"no_result"}) for i in range(len(truth))]
    topics, _, _ = build_topics(failing, [], index=None, analyzer=analyzer, settings=GapSettings(topic_similarity=0.6))
    assert [t.volume for t in topics] == [10]


def test_a_long_mails_representative_question_is_what_it_asks(analyzer: Analyzer) -> None:
    story = (
        "お世話になっております。先月から新しい拠点が増え、アルバイトのスタッフも五名ほど採用しました。"
        "拠点の設定は管理者の方で済ませ、スタッフにはメールで招待を送りました。ほとんどのスタッフは問題なく登録できました。"
        "一名だけ登録直後にパスワードを忘れてしまい、再設定のメールも届かないそうです。"
        "パスワードの再設定はどうすればよいでしょうか。よろしくお願いいたします。"
    )
    members = [Inquiry("m", story, "ja", np.zeros(3, dtype=np.float32)), Inquiry("s", "勤怠 締め", "ja", np.zeros(3))]

    # Still the member nearest the centre, shown by the sentences that ask, with the one before.
    assert gaps.representative_question(members, np.array([0.9, 0.5], dtype=np.float32), "ja", analyzer) == (
        "一名だけ登録直後にパスワードを忘れてしまい、再設定のメールも届かないそうです。 "
        "パスワードの再設定はどうすればよいでしょうか。"
    )
