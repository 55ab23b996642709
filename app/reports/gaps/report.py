"""Gap report: what customers ask that the help center cannot answer, grouped into topics across languages.

Failing inquiries of a period (no result, low confidence, a ticket after the suggestions, a
not-helpful vote, imported helpdesk tickets) are clustered by meaning with their stored query
embeddings, so one topic can hold Japanese and English questions, and suggestion sets and helpdesk
tickets (app/tickets.py). Each signal is counted apart. Each topic gets key-term labels, volume,
trend, examples, the closest article and a verdict, ranked by impact (volume x failure rate).

A report whose period reaches the present publishes its topics, with stable ids and centroids, as
the live topics that new failing inquiries join at write time (app/reports/gaps/live_topics.py). A period that cannot be
reported is app/reports/period.py's `InvalidPeriodError`; the gap report raises no errors of its own.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.db.models import unpacked_vector
from app.reports.deflection import CLASSIFIED_SETS_SQL, DeflectionPolicy, deflection_report
from app.reports.gaps.english import need_weight
from app.reports.gaps.live_topics import publish_topics, ticket_summary
from app.reports.gaps.spelling import Misspellings
from app.reports.period import Period
from app.reports.schemas import (
    ArticleShownButFailing,
    ClosestArticle,
    GapReport,
    GapReportTopic,
    LongTailQuestion,
    NeverShownArticle,
    TopicTrend,
    UnansweredQuestion,
    UnansweredQuestions,
    Verdict,
)
from indexer.analysis import Analyzer, KanaConverter, Token, has_japanese, kana_only, typed_in_kana
from indexer.embedders import Embedder, is_japanese_text, unit_rows
from retrieval.inquiry import (
    LONG_MAIL_CHARS,
    SENTENCE_CHARS,
    core_question,
    kana_keywords,
    what_it_asks,
    without_self_introduction,
)
from retrieval.search import SearchIndex, question_vectors
from retrieval.topic_space import JAPANESE_TOPIC_SIMILARITY, TopicSpace
from retrieval.vocabulary import Label

Vectors = npt.NDArray[np.float32]
logger = logging.getLogger("deflect.gaps")
SUGGESTION_SET, IMPORTED_TICKET = "suggestion_set", "imported_ticket"
# Lemmas too generic to name a topic ("how to", "can", "want", "come", "have it done"). Words that name nothing at
# all (どこ, いい, ほしい) are not among a label's tokens: AnalysedText.of.
_LABEL_STOPWORDS = frozenset(
    {"遣る", "出来る", "知る", "思う", "来る", "貰う", "呉れる", "can", "do", "doe", "want", "need"}
)
# MeCab's guesses at kana typed without conversion (ぼー, しゅ, こう from めんせつ にってい): no word a team reads.
_KANA_SCRAP = re.compile(r"[\u3041-\u3096ー]{1,3}")
# Above this many inquiries, leader clustering first shrinks the problem for agglomerative clustering.
# Why: docs/decisions/0015-gap-topic-clustering.md
DIRECT_CLUSTERING_LIMIT = 3000
# Fewer articles in a language than this: half of them is no sign of the help center's own vocabulary.
MIN_LANGUAGE_ARTICLES = 10
# A topic of this many members or fewer is a fragment when a topic twice that size is near it: one need asked in
# another language or form, split off. Why: docs/decisions/0035-gap-topic-fragments.md
FRAGMENT_SIZE = 3
# Where a question's length (without a mail's courtesies) turns keywords into a sentence, and a sentence into a mail:
# the forms the topic space centres apart.
FORM_CHARS = (SENTENCE_CHARS, LONG_MAIL_CHARS)


@dataclass(frozen=True)
class GapSettings:
    # Average-linkage cosine inside a topic; None: the topic space's own (retrieval/topic_space.py), chosen on val.
    topic_similarity: float | None = None
    # A question left alone joins the nearest topic this much less similar (stragglers are still that topic).
    straggler_margin: float = 0.1
    article_similarity: float = 0.55  # a topic whose centroid is at least this close to an article: "article fails"
    min_topic_size: int = 2
    examples: int = 5
    # An article shown at least this often whose CTR or deflection rate is below these is "shown but failing".
    weak_article_min_shown: int = 10
    weak_article_ctr: float = 0.05
    weak_article_deflection: float = 0.05
    # A recomputed topic keeps a previous topic's id when their centroids are this close (the same topic, moved).
    topic_id_similarity: float = 0.8

    def similarity_in(self, space: TopicSpace) -> float:
        return space.topic_similarity if self.topic_similarity is None else self.topic_similarity


@dataclass
class Inquiry:
    query_id: str
    text: str
    locale: str | None
    vector: Vectors
    signals: set[str] = field(default_factory=set)
    source: str = SUGGESTION_SET  # or IMPORTED_TICKET, whose query_id is the ticket id
    # Kana typed without conversion, as converted to the help center's words (kana_converted): what its vector
    # and its topic's label are made of. None where the text is read as typed.
    read_as: str | None = None


_FAILING = (
    CLASSIFIED_SETS_SQL
    + """
SELECT j.id, s.text, s.locale, s.vector, j.outcome, j.result_count, j.label, j.not_helpful
FROM judged j JOIN suggestion_set s ON s.id = j.id
WHERE s.vector IS NOT NULL
"""
)


def inquiries(session: Session, *, period: Period, window: dt.timedelta) -> tuple[list[Inquiry], list[Inquiry]]:
    """(failing, answered) search intents of the period, with their vectors and failure signals."""
    params = {
        "start": period.start.timestamp(),
        "end": period.end.timestamp(),
        "window": window.total_seconds(),
        "now": time.time(),
        "no": False,
    }
    failing: list[Inquiry] = []
    answered: list[Inquiry] = []
    for row in session.execute(text(_FAILING), params):
        signals = set()
        if row.result_count == 0:
            signals.add("no_result")
        if row.label == Label.LOW_CONFIDENCE:
            signals.add("low_confidence")
        if row.outcome == "not_deflected":
            signals.add("ticket_after_suggestions")
        if row.not_helpful:
            signals.add("not_helpful")
        vector = unpacked_vector(row.vector)
        inquiry = Inquiry(row.id, row.text or "", row.locale, vector, signals)
        (failing if signals else answered).append(inquiry)
    return failing, answered


_TICKETS = """
SELECT t.id, t.subject, t.body, t.locale, t.vector
FROM helpdesk_ticket t
WHERE t.created_epoch >= :start AND t.created_epoch < :end AND t.vector IS NOT NULL
"""


def imported_tickets(session: Session, *, period: Period) -> list[Inquiry]:
    """Helpdesk tickets written in the period: each one is failing (the customer wrote in)."""
    rows = session.execute(text(_TICKETS), {"start": period.start.timestamp(), "end": period.end.timestamp()})
    return [
        Inquiry(
            row.id,
            ticket_summary(row.subject, row.body),
            row.locale,
            unpacked_vector(row.vector),
            {IMPORTED_TICKET},
            IMPORTED_TICKET,
        )
        for row in rows
    ]


def cluster(vectors: Vectors, *, similarity: float, min_size: int) -> npt.NDArray[np.int64]:
    """Topic label per row (-1: noise); the number of topics comes from the data, not a parameter."""
    from sklearn.cluster import AgglomerativeClustering

    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.array([-1 if min_size > 1 else 0])
    normalised = unit_rows(vectors)
    if n <= DIRECT_CLUSTERING_LIMIT:
        micro = np.arange(n)
        centroids = normalised
    else:
        micro, centroids = _leaders(normalised, similarity=min(0.95, similarity + 0.2))
    if len(centroids) == 1:
        labels_of_micro = np.zeros(1, dtype=np.int64)
    else:
        model = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=1.0 - similarity
        )
        labels_of_micro = model.fit_predict(centroids).astype(np.int64)
    labels = labels_of_micro[micro]
    sizes = Counter(labels.tolist())
    return np.array([label if sizes[label] >= min_size else -1 for label in labels.tolist()], dtype=np.int64)


def fragments_joined(points: Vectors, labels: npt.NDArray[np.int64], *, similarity: float) -> npt.NDArray[np.int64]:
    """Labels with each topic of FRAGMENT_SIZE members or fewer joined to the topic of twice that many or more it is
    closest to, by the average cosine of their members (unit `points`), where that is at least `similarity`.

    Topics are compared as they came from clustering; a fragment never joins another fragment.
    """
    topics, sizes = np.unique(labels[labels >= 0], return_counts=True)
    anchors = topics[sizes >= 2 * FRAGMENT_SIZE]
    fragments = topics[sizes <= FRAGMENT_SIZE]
    if not len(anchors) or not len(fragments):
        return labels
    clustered = labels >= 0
    sums = _sums_by_group(points[clustered], labels[clustered], int(topics.max()) + 1)
    counts = np.bincount(labels[clustered], minlength=len(sums)).astype(np.float64)
    # The average cosine between two groups of unit vectors is the product of their sums over their sizes.
    closeness = (sums[fragments] @ sums[anchors].T) / np.outer(counts[fragments], counts[anchors])
    best = closeness.argmax(axis=1)
    joins = {
        int(fragment): int(anchors[b])
        for fragment, b, close in zip(fragments, best, closeness[np.arange(len(fragments)), best], strict=True)
        if close >= similarity
    }
    return np.array([joins.get(label, label) for label in labels.tolist()], dtype=np.int64)


def _sums_by_group(vectors: Vectors, groups: npt.NDArray[np.int64], n_groups: int) -> npt.NDArray[np.float32]:
    """Each group's sum of vectors, as one sparse product rather than np.add.at.
    Why: docs/decisions/0015-gap-topic-clustering.md"""
    members = scipy.sparse.csr_matrix(
        (np.ones(len(vectors), dtype=np.float32), (groups, np.arange(len(vectors)))), shape=(n_groups, len(vectors))
    )
    return np.asarray(members @ vectors, dtype=np.float32)


def _leaders(vectors: Vectors, *, similarity: float) -> tuple[npt.NDArray[np.int64], Vectors]:
    """One pass of leader clustering: each vector joins the nearest leader this close, or leads anew."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    assignment = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), 64):
        block = np.ascontiguousarray(vectors[start : start + 64])
        searched = index.ntotal > 0
        if searched:
            found, rows = index.search(block, 1)
        for i, vector in enumerate(block):
            if searched and found[i, 0] >= similarity:
                assignment[start + i] = rows[i, 0]
            else:
                # A leader made earlier in this block is not in `found`; near-twins merge in the next step.
                assignment[start + i] = index.ntotal
                index.add(vector.reshape(1, -1))
    leaders = index.ntotal
    counts = np.bincount(assignment, minlength=leaders).astype(np.float32)
    return assignment, _sums_by_group(vectors, assignment, leaders) / counts[:, None]


@dataclass(frozen=True)
class AnalysedText:
    """An inquiry's text NFKC-folded and lower-cased, with its tokens (offsets into `folded`)."""

    folded: str
    tokens: list[Token]

    @classmethod
    def of(cls, text: str, analyzer: Analyzer) -> AnalysedText:
        """Its tokens without people's names, since a mail's self-introduction (サロン花の田中です) names no need, nor
        the words that name nothing (どこ, いい)."""
        folded = unicodedata.normalize("NFKC", text).lower()
        return cls(folded, analyzer.tokens(folded, without_names=True, content_words=True))


def key_terms(
    members: list[AnalysedText],
    corpus_counts: Counter[str],
    corpus_docs: int,
    k: int = 3,
    shared: frozenset[str] = frozenset(),
    misspelt: Callable[[str, str], bool] | None = None,
) -> list[str]:
    """The terms that set these texts apart from all failing inquiries (class-based TF-IDF), as customers wrote them.

    `shared` terms are the help center's own (its product's name, say), which name no need. A term of one question
    that `misspelt` says misspells another word (uplaod) is that customer's typo, no need's.
    """
    counts: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = {}
    # A Japanese verb is shown in its dictionary form, as its writer spelt it: 送る, not the 送っ of 送った.
    shown_as: dict[str, str] = {}
    for member in members:
        counts.update({token.term for token in member.tokens})
        for token in member.tokens:
            surface = member.folded[token.start : token.end]
            surfaces.setdefault(token.term, Counter())[surface] += 1
            if token.base:
                shown_as[surface] = token.base
    # The words all English uses weigh less (one, get, same): they set a small topic apart as much as its need's do.
    scored = [
        (count * math.log(1 + corpus_docs / max(1, corpus_counts[term])) * _need_weight(surfaces[term]), term)
        for term, count in counts.items()
        if len(term) > 1
        and not term.startswith("[")
        and term not in _LABEL_STOPWORDS
        and term not in shared
        and not _KANA_SCRAP.fullmatch(term)
    ]
    chosen: list[str] = []
    for _, term in sorted(scored, reverse=True):
        surface = surfaces[term].most_common(1)[0][0]
        if misspelt is not None and corpus_counts[term] <= 1 and misspelt(term, surface):
            continue
        chosen.append(shown_as.get(surface, surface))
        if len(chosen) == k:
            break
    return chosen


def _need_weight(surfaces: Counter[str]) -> float:
    surface = surfaces.most_common(1)[0][0]
    return need_weight(surface) if surface.isascii() else 1.0


def topic_label(
    members: list[AnalysedText],
    corpus_counts: Counter[str],
    corpus_docs: int,
    shared: frozenset[str] = frozenset(),
    misspelt: Callable[[str, str], bool] | None = None,
) -> str:
    """Key terms in the dominant language, with the other language's when the topic is mixed."""
    japanese = [m for m in members if has_japanese(m.folded)]
    other = [m for m in members if not has_japanese(m.folded)]
    dominant, minority = (japanese, other) if len(japanese) >= len(other) else (other, japanese)
    label = " / ".join(key_terms(dominant, corpus_counts, corpus_docs, shared=shared, misspelt=misspelt))
    minority_terms = key_terms(minority, corpus_counts, corpus_docs, k=2, shared=shared, misspelt=misspelt)
    if minority_terms:
        label += " (" + " / ".join(minority_terms) + ")"
    return label


def help_center_terms(index: SearchIndex | None, *, parts: int = 2) -> frozenset[str]:
    """Terms in half (one in `parts`) of the help center's articles, or of one language's: its own vocabulary (the
    product's name), no need's.

    A bilingual help center spells its name in Latin letters in its English articles only, which may be a third of
    all; a language of a handful of articles is counted with the rest alone.
    """
    if index is None or not index.article_terms:
        return frozenset()
    by_language: dict[str, list[set[str]]] = {}
    for terms, locale in zip(index.article_terms, index.article_locale, strict=True):
        by_language.setdefault(locale.split("-")[0], []).append(terms)
    populations = [index.article_terms, *(a for a in by_language.values() if len(a) >= MIN_LANGUAGE_ARTICLES)]
    shared: set[str] = set()
    for articles in populations:
        counts = Counter(term for terms in articles for term in terms)
        shared.update(term for term, n in counts.items() if n * parts >= len(articles))
    return frozenset(shared)


def misspellings(index: SearchIndex | None, corpus_counts: Counter[str], analyzer: Analyzer) -> Misspellings:
    """Misspellings of the words the help center's articles use, or that more than one failing question does."""
    known = {term for term, n in corpus_counts.items() if n > 1}
    if index is not None:
        known.update(*index.article_terms)
    readings = index.kana_converter.readings if index is not None else {}
    return Misspellings(known=known, readings=readings, analyzer=analyzer)


def team_locale(index: SearchIndex | None) -> str | None:
    """The language most of the help center's articles are written in: the content team's."""
    if index is None or not index.article_locale:
        return None
    return Counter(index.article_locale).most_common(1)[0][0]


def representative_question(members: list[Inquiry], closeness: Vectors, locale: str | None, analyzer: Analyzer) -> str:
    """The member closest to the topic's centre, in the team's language and converted to kanji where a member is,
    without courtesies, nor a self-introduction whose name the `analyzer` reads as a person's."""
    order = np.argsort(-closeness, kind="stable").tolist()
    # A member written with kanji reads better than one typed in kana without conversion.
    order = [i for i in order if not kana_only(members[i].text)] + [i for i in order if kana_only(members[i].text)]
    in_team_language = [i for i in order if _language(members[i]) == locale]
    # A long mail's situation is no headline: what it asks is (the member is still the one nearest the centre).
    question = what_it_asks(core_question(members[(in_team_language or order)[0]].text))
    return without_self_introduction(question, analyzer)


def _language(inquiry: Inquiry) -> str:
    return (inquiry.locale or ("ja" if has_japanese(inquiry.text) else "en")).split("-")[0]


def closest_article(index: SearchIndex | None, centroid: Vectors) -> tuple[str | None, float]:
    return closest_articles(index, centroid.reshape(1, -1))[0]


def closest_articles(index: SearchIndex | None, vectors: Vectors) -> list[tuple[str | None, float]]:
    """Each vector's closest public article and its cosine, in one search."""
    if index is None or index.build.dense.ntotal == 0 or not len(vectors):
        return [(None, 0.0)] * len(vectors)
    found, rows = index.build.dense.search(
        np.ascontiguousarray(vectors, dtype=np.float32), min(20, index.build.dense.ntotal)
    )
    closest: list[tuple[str | None, float]] = []
    for scores, passages in zip(found, rows, strict=True):
        best: dict[str, float] = {}
        for score, row in zip(scores, passages, strict=True):
            if row < 0:
                continue
            article = index.build.articles[index.build.passages[row].article_id]
            if article.visibility == "public":
                best[article.id] = max(best.get(article.id, -1.0), float(score))
        article_id = max(best, key=lambda a: best[a]) if best else None
        closest.append((article_id, best[article_id] if article_id else 0.0))
    return closest


def verdict_for(article_id: str | None, similarity: float, settings: GapSettings) -> Verdict:
    """`article_fails` when an article is close enough to be the one that should have answered."""
    return "article_fails" if article_id and similarity >= settings.article_similarity else "missing_article"


def long_tail(alone: list[Inquiry], *, index: SearchIndex | None, settings: GapSettings) -> list[LongTailQuestion]:
    """The failing inquiries that joined no topic, each with its closest article and verdict: none is dropped."""
    if not alone:
        return []
    closest = closest_articles(index, np.vstack([inquiry.vector for inquiry in alone]))
    return [
        LongTailQuestion(
            query_id=inquiry.query_id if inquiry.source == SUGGESTION_SET else None,
            ticket_id=inquiry.query_id if inquiry.source == IMPORTED_TICKET else None,
            text=core_question(inquiry.text),
            signals=sorted(inquiry.signals),
            closest_article=ClosestArticle(article_id=article_id, similarity=round(similarity, 4)),
            verdict=verdict_for(article_id, similarity, settings),
        )
        for inquiry, (article_id, similarity) in zip(alone, closest, strict=True)
    ]


def build_topics(
    failing: list[Inquiry],
    answered: list[Inquiry],
    *,
    index: SearchIndex | None,
    analyzer: Analyzer,
    settings: GapSettings,
    previous: Sequence[Inquiry] = (),
    space: TopicSpace | None = None,
) -> tuple[list[GapReportTopic], npt.NDArray[np.int64], Vectors]:
    """Topics of the failing inquiries, ranked by impact; also each inquiry's label and the centroids.

    Each topic's trend counts the `previous` period's failing inquiries that fall near it. They are found in
    `space`, or in `topic_space` of these inquiries when none is given.
    """
    if not failing:
        return [], np.zeros(0, dtype=np.int64), np.zeros((0, 1), dtype=np.float32)
    vectors = np.vstack([inquiry.vector for inquiry in failing])
    space = space or topic_space(index, dim=vectors.shape[1], failing=failing, answered=answered)
    similarity_inside = settings.similarity_in(space)
    points = space.project(vectors)
    labels = cluster(points, similarity=similarity_inside, min_size=settings.min_topic_size)
    labels = fragments_joined(points, labels, similarity=similarity_inside - settings.straggler_margin)
    topic_ids = sorted(set(labels.tolist()) - {-1})
    centroids = (
        np.vstack([_unit(points[labels == t].mean(axis=0)) for t in topic_ids])
        if topic_ids
        else np.zeros((0, points.shape[1]), dtype=np.float32)
    )
    noise = np.flatnonzero(labels == -1)
    if len(noise) and topic_ids:
        similarity = points[noise] @ centroids.T
        nearest = similarity.argmax(axis=1)
        close = similarity[np.arange(len(noise)), nearest] >= similarity_inside - settings.straggler_margin
        labels[noise[close]] = np.array(topic_ids)[nearest[close]]
    answered_per_topic = _near_topics(answered, space=space, centroids=centroids, similarity=similarity_inside)
    previous_per_topic = _near_topics(previous, space=space, centroids=centroids, similarity=similarity_inside)
    # Each failing text is analysed once, for these counts and for its topic's label.
    # A mail's greeting and signature (よろしくお願いします, Thanks) are every mail's words, no need's.
    analysed = [AnalysedText.of(core_question(inquiry.read_as or inquiry.text), analyzer) for inquiry in failing]
    corpus_counts: Counter[str] = Counter()
    for member in analysed:
        corpus_counts.update({token.term for token in member.tokens})
    shared, locale = help_center_terms(index), team_locale(index)
    misspelt = misspellings(index, corpus_counts, analyzer)
    topics: list[GapReportTopic] = []
    for position, topic in enumerate(topic_ids):
        rows = np.flatnonzero(labels == topic)
        members = [failing[i] for i in rows]
        volume, before = len(members), previous_per_topic[position]
        failure_rate = volume / (volume + answered_per_topic[position])
        # Articles are embedded in the model's space, not the topic space: compare the members' raw mean.
        article_id, article_similarity = closest_article(index, _unit(vectors[rows].mean(axis=0)))
        closeness = points[rows] @ centroids[position]
        topics.append(
            GapReportTopic(
                label=topic_label([analysed[i] for i in rows], corpus_counts, len(failing), shared, misspelt),
                representative_question=representative_question(members, closeness, locale, analyzer),
                volume=volume,
                share=round(volume / len(failing), 4),
                failure_rate=round(failure_rate, 4),
                impact=round(volume * failure_rate, 3),
                locales=Counter(_language(m) for m in members),
                signals=Counter(signal for m in members for signal in m.signals),
                examples=_examples([m.text for m in members], closeness, settings.examples),
                query_ids=[m.query_id for m in members if m.source == SUGGESTION_SET],
                ticket_ids=[m.query_id for m in members if m.source == IMPORTED_TICKET],
                closest_article=ClosestArticle(article_id=article_id, similarity=round(article_similarity, 4)),
                verdict=verdict_for(article_id, article_similarity, settings),
                trend=TopicTrend(
                    previous_volume=before, change=round((volume - before) / before, 4) if before else None
                ),
            )
        )
    order = sorted(range(len(topics)), key=lambda i: -topics[i].impact)
    return [topics[i] for i in order], labels, centroids[order] if topic_ids else centroids


def kana_converted(
    failing: list[Inquiry],
    *,
    vocabulary: Sequence[str],
    index: SearchIndex | None,
    analyzer: Analyzer,
    embedder: Embedder,
) -> list[Inquiry]:
    """The failing inquiries, keywords typed in kana without conversion re-embedded as converted to kanji.

    The words are the help center's (the converter search uses) and the period's other inquiries' (customers who
    converted wrote the kanji of the same need): the models cannot read unconverted kana, which would otherwise
    gather into one topic whatever the need. Why: docs/decisions/0028-gap-topics-of-kana-and-languages.md
    """
    typed = [i for i, inquiry in enumerate(failing) if kana_keywords(core_question(inquiry.text))]
    if not typed:
        return failing
    own = index.kana_converter if index is not None else KanaConverter({})
    converter = own.extended((text for text in vocabulary if not typed_in_kana(text)), analyzer)
    converted = {i: converter.convert(failing[i].text) for i in typed}
    changed = [i for i in typed if converted[i] != unicodedata.normalize("NFKC", failing[i].text)]
    if not changed:
        return failing
    vectors = question_vectors(embedder, [converted[i] for i in changed])
    result = list(failing)
    for i, vector in zip(changed, vectors, strict=True):
        result[i] = replace(failing[i], vector=vector, read_as=converted[i])
    return result


def _near_topics(
    inquiries: Sequence[Inquiry], *, space: TopicSpace, centroids: Vectors, similarity: float
) -> Counter[int]:
    """Per topic (its row in `centroids`), the inquiries whose nearest topic it is, at least `similarity` close."""
    counts = Counter[int]()
    if inquiries and len(centroids):
        closeness = space.project(np.vstack([inquiry.vector for inquiry in inquiries])) @ centroids.T
        nearest = closeness.argmax(axis=1)
        for row, topic in enumerate(nearest.tolist()):
            if closeness[row, topic] >= similarity:
                counts[topic] += 1
    return counts


def _examples(texts: list[str], closeness: Vectors, k: int) -> list[str]:
    """The members closest to the topic's centre, distinct, already redacted at write time."""
    ranked = [texts[i] for i in np.argsort(-closeness, kind="stable")]
    return list(dict.fromkeys(ranked))[:k]


def topic_space(
    index: SearchIndex | None, *, dim: int, failing: list[Inquiry], answered: Sequence[Inquiry] = ()
) -> TopicSpace:
    """The live index's topic space for these failing inquiries, or plain cosine when there is none of this size.

    In plain cosine, a period whose failing inquiries include Japanese holds a topic together at a lower
    cosine: kana typed without conversion and the other language sit further from a need's other askings
    than English rewordings do; and it compares them through the pair's bridge, if any, each centred on the
    mean of the period's questions of its form: keywords, sentences or long mails (retrieval/topic_space.py).
    """
    space = index.topic_space if index is not None else None
    if space is None or space.dim != dim:
        space = TopicSpace.plain(dim)
    if not space.mean.any() and any(is_japanese_text(inquiry.text) for inquiry in failing):
        space = replace(space, topic_similarity=JAPANESE_TOPIC_SIMILARITY)
        space = space.bridged(index.build.manifest.embedder) if index is not None else space
        asked = [*failing, *answered]
        by_form: list[list[Vectors]] = [[] for _ in range(len(FORM_CHARS) + 1)]
        for inquiry in asked:
            by_form[bisect.bisect_right(FORM_CHARS, len(core_question(inquiry.text)))].append(inquiry.vector)
        return space.centred_by_form(
            [np.vstack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32) for vectors in by_form]
        )
    return space


def _unit(vector: Vectors) -> Vectors:
    return (vector / max(float(np.linalg.norm(vector)), 1e-9)).astype(np.float32)


def gap_report(
    session: Session,
    *,
    period: Period,
    index: SearchIndex | None,
    analyzer: Analyzer,
    policy: DeflectionPolicy | None = None,
    settings: GapSettings | None = None,
    embedder: Embedder | None = None,
) -> GapReport:
    """The content team's report: ranked topics, trend against the previous period, and weak articles.

    With the `embedder`, questions typed in kana without conversion are clustered as converted to kanji.
    """
    policy, settings = policy or DeflectionPolicy(), settings or GapSettings()
    computed = time.time()
    failing, answered = inquiries(session, period=period, window=policy.attribution_window)
    failing += imported_tickets(session, period=period)
    previous = Period(period.start - (period.end - period.start), period.start)
    previous_failing, _ = inquiries(session, period=previous, window=policy.attribution_window)
    previous_failing += imported_tickets(session, period=previous)
    # Inquiries embedded by a model used before this index's cannot be compared with the rest: set aside, counted.
    dim = index.build.dense.d if index is not None else _commonest_dim(failing)
    other_model = sum(i.vector.shape[0] != dim for i in failing)
    failing, answered, previous_failing = (
        [i for i in group if i.vector.shape[0] == dim] for group in (failing, answered, previous_failing)
    )
    if embedder is not None and embedder.dim == dim:
        vocabulary = [inquiry.text for inquiry in (*failing, *answered)]
        failing = kana_converted(failing, vocabulary=vocabulary, index=index, analyzer=analyzer, embedder=embedder)
    # Made once: the live topics are published in the space the topics were found in.
    space = topic_space(index, dim=dim, failing=failing, answered=answered)
    topics, _labels, centroids = build_topics(
        failing, answered, previous=previous_failing, index=index, analyzer=analyzer, settings=settings, space=space
    )
    live_ids = _live_topic_ids(
        session,
        topics,
        centroids,
        period=period,
        computed=computed,
        space=space,
        similarity=settings.similarity_in(space),
        keep_id_similarity=settings.topic_id_similarity,
    )
    topics = [
        topic.model_copy(update={"topic_id": topic_id, "new_inquiries": 0}) if topic_id else topic
        for topic, topic_id in zip(topics, live_ids, strict=True)
    ]
    articles = deflection_report(session, period=period, group_by="article", policy=policy).groups
    weak = [
        ArticleShownButFailing(
            article_id=row.key,
            title=_title(index, row.key),
            shown=row.shown,
            ctr=row.ctr,
            deflection_rate=row.deflection_rate,
            not_helpful=row.not_helpful,
        )
        for row in articles
        if row.shown >= settings.weak_article_min_shown
        and (
            (row.ctr or 0) < settings.weak_article_ctr or (row.deflection_rate or 0) < settings.weak_article_deflection
        )
    ]
    shown_ids = {row.key for row in articles}
    never_shown = (
        sorted(
            (a for a in index.build.articles.values() if a.visibility == "public" and a.id not in shown_ids),
            key=lambda article: article.id,
        )
        if index
        else []
    )
    in_topics = {q for t in topics for q in (*t.query_ids, *t.ticket_ids)}
    alone = [i for i in failing if i.query_id not in in_topics]
    return GapReport(
        from_=period.start,
        to=period.end,
        computed_at=dt.datetime.fromtimestamp(computed, dt.UTC),
        failing_inquiries=len(failing),
        failing_inquiries_of_another_model=other_model,
        imported_tickets=sum(i.source == IMPORTED_TICKET for i in failing),
        signals=Counter(signal for i in failing for signal in i.signals),
        clustered=sum(topic.volume for topic in topics),
        new_inquiries=0 if any(live_ids) else None,
        unclustered_query_ids=sorted(
            i.query_id for i in failing if i.source == SUGGESTION_SET and i.query_id not in in_topics
        ),
        unclustered_ticket_ids=sorted(
            i.query_id for i in failing if i.source == IMPORTED_TICKET and i.query_id not in in_topics
        ),
        topics=topics,
        long_tail=long_tail(alone, index=index, settings=settings),
        articles_shown_but_failing=sorted(weak, key=lambda row: -row.shown),
        articles_never_shown=[article.id for article in never_shown],
        # The same articles as the content team reads them: by title, with where they live.
        articles_never_shown_detail=[
            NeverShownArticle(article_id=a.id, title=a.title, locale=a.locale, category=a.category, url=a.url)
            for a in never_shown
        ],
    )


def _live_topic_ids(
    session: Session,
    topics: list[GapReportTopic],
    centroids: Vectors,
    *,
    period: Period,
    computed: float,
    space: TopicSpace,
    similarity: float,
    keep_id_similarity: float,
) -> list[str | None]:
    """Each topic's live `topic_id` when the period reaches the present, else None.

    Those topics become the live ones that new failing inquiries join at write time; a report of a
    past period names no live topics (its ids are null).
    """
    # A minute of slack: the default period ends at the moment the request was parsed.
    if period.end.timestamp() < computed - 60:
        return [None] * len(topics)
    try:
        published = publish_topics(
            session,
            topics=topics,
            centroids=centroids,
            period=period,
            computed_epoch=computed,
            similarity=similarity,
            keep_id_similarity=keep_id_similarity,
            space=space,
        )
    except SQLAlchemyError:
        # The report still answers; new inquiries keep joining the previous live topics.
        session.rollback()
        logger.exception("gap topics not published")
        return [None] * len(topics)
    # Only the top MAX_LIVE_TOPICS are published: the rest get no id.
    return [*published.ids, *[None] * (len(topics) - len(published.ids))]


def _commonest_dim(inquiries: list[Inquiry]) -> int:
    dims = Counter(i.vector.shape[0] for i in inquiries)
    return dims.most_common(1)[0][0] if dims else 0


def _title(index: SearchIndex | None, article_id: str) -> str | None:
    article = index.build.articles.get(article_id) if index else None
    return article.title if article else None


_UNANSWERED = f"""
SELECT s.text, s.label, COUNT(*) AS asked, MAX(s.created_epoch) AS last_epoch
FROM suggestion_set s
WHERE s.created_epoch >= :start AND s.created_epoch < :end AND s.composing = :no AND s.superseded = :no
  AND s.text IS NOT NULL AND s.label IN ('{Label.NO_ANSWER}', '{Label.LOW_CONFIDENCE}') {{label_filter}}
GROUP BY s.text, s.label
ORDER BY asked DESC, last_epoch DESC
LIMIT :limit
"""


def unanswered_questions(
    session: Session, *, period: Period, label: Label | None = None, limit: int = 100
) -> UnansweredQuestions:
    """No-answer and low-confidence questions of the period (redacted as stored), most asked first."""
    params: dict[str, Any] = {
        "start": period.start.timestamp(),
        "end": period.end.timestamp(),
        "no": False,
        "limit": limit,
    }
    label_filter = ""
    if label is not None:
        label_filter = "AND s.label = :label"
        params["label"] = label
    rows = session.execute(text(_UNANSWERED.format(label_filter=label_filter)), params)
    questions = [
        UnansweredQuestion(
            text=row.text,
            label=row.label,
            asked=int(row.asked),
            last_seen=dt.datetime.fromtimestamp(float(row.last_epoch), dt.UTC).replace(microsecond=0),
        )
        for row in rows
    ]
    return UnansweredQuestions(from_=period.start, to=period.end, questions=questions)
