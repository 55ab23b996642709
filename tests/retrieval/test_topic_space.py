from dataclasses import replace

import numpy as np

from app.reports.gaps.live_topics import TopicSet
from indexer.embedders import EmbedderPart
from retrieval.topic_space import (
    CENTRED_TOPIC_SIMILARITY,
    FORM_CENTRED_TOPIC_SIMILARITY,
    MIN_ARTICLES,
    MIN_FORM_QUESTIONS,
    MIN_QUESTIONS_PER_ARTICLE,
    PLAIN_TOPIC_SIMILARITY,
    TopicSpace,
)


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_centring_on_the_help_center_questions_tells_topics_apart_that_plain_cosine_bunches() -> None:
    # Every question leans on direction 0 (what support questions share); topics differ in the others.
    phrasings = [_unit(3, 1, 0, 0), _unit(3, 0, 1, 0), _unit(3, 0, 0, 1), _unit(3, 0, 0.5, 0.5)]
    questions = np.vstack(phrasings * MIN_ARTICLES * MIN_QUESTIONS_PER_ARTICLE)
    space = TopicSpace.of_questions(questions, articles=MIN_ARTICLES)
    assert space.topic_similarity == CENTRED_TOPIC_SIMILARITY
    new_topic_a, new_topic_b = _unit(3, 1, 1, 0), _unit(3, 0, 1, 1)
    plain = float(new_topic_a @ new_topic_b)
    points = space.project(np.vstack([new_topic_a, new_topic_b]))
    assert plain > 0.9
    assert float(points[0] @ points[1]) < 0.5
    assert np.allclose(np.linalg.norm(points, axis=1), 1.0, atol=1e-6)


def test_a_small_or_titles_only_help_center_gives_plain_cosine_with_its_own_threshold() -> None:
    questions = np.vstack([_unit(3, 1, 0), _unit(3, 0, 1)] * MIN_ARTICLES * MIN_QUESTIONS_PER_ARTICLE)
    for space in (
        TopicSpace.of_questions(questions, articles=MIN_ARTICLES - 1),  # few articles, many phrasings
        TopicSpace.of_questions(questions[: 2 * MIN_ARTICLES], articles=MIN_ARTICLES * 2),  # one title each
        TopicSpace.of_questions(np.zeros((0, 3), dtype=np.float32), articles=0),
    ):
        assert space.dim == 3 and not space.mean.any() and space.topic_similarity == PLAIN_TOPIC_SIMILARITY
        vector = _unit(1, 2, 2)
        assert np.allclose(space.project_one(vector), vector)


def test_a_topic_set_projects_a_new_inquiry_into_the_space_its_topics_were_found_in() -> None:
    # In plain cosine the inquiry is nearest "b"; once the shared direction is removed it is "a".
    space = TopicSpace(np.array([0, 0, 1], dtype=np.float32), CENTRED_TOPIC_SIMILARITY)
    centroids = np.array([[1, 0, 0], [0, 0, 1]], dtype=np.float32)
    inquiry = np.array([0.6, 0, 0.8], dtype=np.float32)
    assert TopicSet(1, 0.0, None, 0.5, ("a", "b"), centroids).nearest(inquiry) == "b"
    assert TopicSet(1, 0.0, None, 0.5, ("a", "b"), centroids, space).nearest(inquiry) == "a"


def _bridged_space() -> TopicSpace:
    # A pair of 2 + 2 dims: the multilingual half first; the bridge swaps its two axes into the other half.
    bridge = np.array([[0, 1], [1, 0]], dtype=np.float32)
    return TopicSpace(np.zeros(4, dtype=np.float32), 0.4, None, bridge, (0, 2))


def test_a_bridged_space_compares_english_as_japanese_is_compared() -> None:
    space = _bridged_space()
    japanese = _unit(1, 0, 0, 1)  # its English-only half is already the bridge's estimate
    english = _unit(1, 0, 1, 0)  # the model's own half sits apart from the estimate
    assert np.allclose(space.project_one(japanese), japanese)
    assert float(space.project_one(english) @ space.project_one(japanese)) > 0.99
    assert float(TopicSpace.plain(4).project_one(english) @ japanese) < 0.6


def test_a_space_survives_bytes_with_its_bridge_and_a_bare_mean_reads_as_before() -> None:
    space = _bridged_space()
    again = TopicSpace.from_bytes(space.to_bytes(), topic_similarity=0.4, dims=None, dim=4)
    assert again.reader == (0, 2) and again.bridge is not None and space.bridge is not None
    np.testing.assert_array_equal(again.bridge, space.bridge)
    np.testing.assert_array_equal(again.mean, space.mean)
    mean = np.array([0, 0, 1], dtype=np.float32)
    bare = TopicSpace.from_bytes(mean.tobytes(), topic_similarity=0.35, dims=None, dim=3)
    assert bare.bridge is None and bare.mean.tolist() == [0, 0, 1]
    assert TopicSpace.from_bytes(mean.tobytes(), topic_similarity=0.35, dims=(0, 2), dim=2).mean.tolist() == [0, 0, 1]


def test_a_space_is_bridged_only_for_a_pair_that_has_a_bridge() -> None:
    space = TopicSpace.plain(4)
    assert space.bridged([EmbedderPart("a-single-model", 4, reads_japanese=True)]) is space
    pair = [EmbedderPart("use-multilingual-v3", 512, True), EmbedderPart("all-MiniLM-L6-v2-int8", 384, False)]
    assert space.bridged(pair) is space  # these are not its vectors
    assert TopicSpace.plain(896).bridged(pair).bridge is not None


def _forms() -> list[np.ndarray]:
    # Keywords share direction 1, sentences direction 0; needs X and Y lie on directions 2 and 3.
    keywords = [_unit(0, 2, 1, 0), _unit(0, 2, 0, 1)] * MIN_FORM_QUESTIONS
    sentences = [_unit(2, 0, 1, 0), _unit(2, 0, 0, 1)] * MIN_FORM_QUESTIONS
    return [np.vstack(keywords), np.vstack(sentences)]


def test_centring_on_each_forms_mean_brings_a_keyword_closer_to_its_needs_sentence_than_to_its_form() -> None:
    keyword_x, sentence_x, sentence_y = _unit(0, 2, 1, 0), _unit(2, 0, 1, 0), _unit(2, 0, 0, 1)
    plain = TopicSpace.plain(4)
    assert float(sentence_x @ sentence_y) > float(keyword_x @ sentence_x)  # as stored: form before need
    space = plain.centred_by_form(_forms())
    assert space.offsets is not None and space.topic_similarity == FORM_CENTRED_TOPIC_SIMILARITY
    points = space.project(np.vstack([keyword_x, sentence_x, sentence_y]))
    assert float(points[0] @ points[1]) > float(points[1] @ points[2])
    assert np.allclose(np.linalg.norm(points, axis=1), 1.0, atol=1e-6)


def test_a_form_with_few_questions_centres_nothing() -> None:
    keywords, sentences = _forms()
    plain = TopicSpace.plain(4)
    assert plain.centred_by_form([keywords, sentences[: MIN_FORM_QUESTIONS - 1]]) is plain
    assert plain.centred_by_form([keywords]) is plain


def test_a_form_of_few_questions_is_counted_with_the_next_shorter_form() -> None:
    keywords, sentences = _forms()
    mails = np.vstack([_unit(1, 1, 1, 0), _unit(1, 1, 0, 1)] * MIN_FORM_QUESTIONS)
    plain = TopicSpace.plain(4)
    assert plain.centred_by_form([keywords, sentences, mails]).offsets.shape == (3, 4)  # type: ignore[union-attr]
    few_mails = plain.centred_by_form([keywords, sentences, mails[:4]])
    with_sentences = plain.centred_by_form([keywords, np.vstack([sentences, mails[:4]])])
    assert few_mails.offsets is not None and with_sentences.offsets is not None
    np.testing.assert_allclose(few_mails.offsets, with_sentences.offsets, atol=1e-6)
    # Too few keywords join the sentences, the next longer form; no mails at all is no form.
    few_keywords = plain.centred_by_form([keywords[:4], sentences, mails])
    np.testing.assert_allclose(
        few_keywords.offsets,  # type: ignore[arg-type]
        plain.centred_by_form([np.vstack([keywords[:4], sentences]), mails]).offsets,  # type: ignore[arg-type]
        atol=1e-6,
    )
    assert plain.centred_by_form([keywords, sentences, mails[:0]]).offsets.shape == (2, 4)  # type: ignore[union-attr]


def test_a_space_survives_bytes_with_its_form_offsets_and_its_bridge() -> None:
    centred = TopicSpace.plain(4).centred_by_form(_forms())
    for space in (centred, replace(_bridged_space(), offsets=centred.offsets)):
        again = TopicSpace.from_bytes(space.to_bytes(), topic_similarity=0.2, dims=None, dim=4)
        assert again.offsets is not None and space.offsets is not None
        np.testing.assert_array_equal(again.offsets, space.offsets)
        assert again.reader == space.reader
        vectors = np.vstack(_forms())
        np.testing.assert_allclose(again.project(vectors), space.project(vectors), atol=1e-6)
