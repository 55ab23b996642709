"""Hybrid article search: dense (cosine) and lexical (BM25) evidence per article, fused convexly or by rank.

Raises no errors of its own: a question that cannot be searched is refused before it gets here (app/suggestions.py).
"""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import faiss
import numpy as np
import numpy.typing as npt

from indexer.analysis import Analyzer, KanaConverter, Token, kana_only, typed_in_kana
from indexer.articles import Article
from indexer.embedders import Embedder, is_japanese_text
from indexer.embedders.paired import bilingual_passages, multilingual_dims
from indexer.lexical import LexicalIndex
from indexer.store import IndexBuild
from retrieval.calibration import Calibration
from retrieval.dense import DenseScorer
from retrieval.inquiry import core_question, kana_keywords
from retrieval.topic_space import TopicSpace

# Reciprocal-rank fusion constant: 60 is the published default (Cormack et al. 2009); with only
# two rankers it flattens the top so that agreement counts more than one ranker's first place.
RRF_K = 60
SNIPPET_CHARS = 160
# Dense and lexical agree on an article when both put it among their first this many (a confidence feature).
AGREEMENT_TOP = 5
# A question's spread (a confidence feature) is its best article's dense score less its this-many-th best.
SPREAD_RANK = 5
FUSION_CANDIDATES = 64


@dataclass(frozen=True)
class SearchFilters:
    category: str | None = None
    tags: tuple[str, ...] = ()
    visibility: tuple[str, ...] = ("public",)


@dataclass(frozen=True)
class Fusion:
    """How dense and lexical evidence combine.

    "rrf": weighted reciprocal-rank fusion. "convex": alpha * cosine + (1 - alpha) * BM25 normalised
    by the query's own attainable score, so a weak lexical match stays weak instead of being
    promoted to first place, as rank fusion does (Bruch et al. 2023 found tuned convex fusion
    beats RRF).

    An article's lexical evidence blends its best passage with the whole article scored as one document
    (BM25 over all its terms), `whole_article` of the second: a short question's words are often spread
    over several phrasings or sections, and no single passage holds them all. The defaults were chosen
    on val (`python -m bench.tune`: content, clinc150, banking77_oos).
    """

    kind: str = "convex"
    alpha: float = 0.65
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    whole_article: float = 0.5
    # An article in the other language than the question's can share no term with it: in convex fusion its
    # lexical evidence counts as at least this share of its dense score.
    # Why: docs/decisions/0024-cross-language-fusion.md
    cross_language_lexical: float = 0.35
    # A question all in kana reads poorly to the embedding models; its reading's terms count for more.
    # Why: docs/decisions/0025-kana-readings.md
    kana_alpha: float = 0.5

    def lexical(self, evidence: QueryEvidence) -> npt.NDArray[np.float64]:
        """Each article's BM25 as a share of what the query can attain (may exceed 1)."""
        share = self.whole_article
        return (1 - share) * evidence.lexical_best_passage + share * evidence.lexical_whole_article


DEFAULT_FUSION = Fusion()
DENSE_ONLY = Fusion("rrf", dense_weight=1.0, lexical_weight=0.0)
LEXICAL_ONLY = Fusion("rrf", dense_weight=0.0, lexical_weight=1.0)


@dataclass(frozen=True)
class SearchHit:
    article: Article
    score: float
    confidence: float
    fallback: bool
    snippet: str
    highlights: list[tuple[int, int]]
    features: dict[str, float] = field(default_factory=dict)

    @property
    def snippet_html(self) -> str:
        """The snippet, HTML-escaped, with matched terms in <mark>."""
        parts: list[str] = []
        position = 0
        for start, end in self.highlights:
            parts.append(html.escape(self.snippet[position:start]))
            parts.append(f"<mark>{html.escape(self.snippet[start:end])}</mark>")
            position = end
        parts.append(html.escape(self.snippet[position:]))
        return "".join(parts)


@dataclass(frozen=True)
class SearchOutcome:
    hits: list[SearchHit]
    confidence: float
    query_terms: list[str]
    query_vector: npt.NDArray[np.float32] | None = None


class SearchIndex:
    """A loaded build with the per-article arrays that fusion needs, computed once per build."""

    def __init__(self, build: IndexBuild, analyzer: Analyzer) -> None:
        self.build = build
        self.analyzer = analyzer
        self.article_ids = list(build.articles)
        position = {article_id: i for i, article_id in enumerate(self.article_ids)}
        self.passage_article = np.array([position[p.article_id] for p in build.passages], dtype=np.int64)
        # Each article's passage rows, so a snippet looks at its own passages, not a scan of all of them.
        self.article_passages: list[list[int]] = [[] for _ in self.article_ids]
        for row, article in enumerate(self.passage_article.tolist()):
            self.article_passages[article].append(row)
        # The passages a snippet is cut from: the body's, or the title when there is no body.
        self.snippet_rows = [
            np.array([r for r in rows if build.passages[r].text and not build.passages[r].is_question] or rows)
            for rows in self.article_passages
        ]
        # NFKC so that full-width text matches the (NFKC) query forms offset for offset; once, not per query.
        self.snippet_texts = [
            " ".join(unicodedata.normalize("NFKC", passage.text or passage.title).split()) for passage in build.passages
        ]
        # A view of the flat index's own storage (no copy): every passage's cosine is needed for the
        # per-article pooling, and a matrix-vector product is cheaper than a k-NN search for it.
        total = build.dense.ntotal
        stored: npt.NDArray[np.float32] = (
            faiss.rev_swig_ptr(build.dense.get_xb(), total * build.dense.d).reshape(total, build.dense.d)
            if total
            else np.zeros((0, build.dense.d), dtype=np.float32)
        )
        # A pair of models in a help center of both languages compares English passages a little differently
        # (then a copy; indexer/embedders/paired.py, bilingual_passages).
        pair_dims = multilingual_dims(build.manifest.embedder)
        vectors = stored
        if pair_dims is not None:
            japanese = np.array([is_japanese_text(p.embedding_text) for p in build.passages], dtype=bool)
            vectors = bilingual_passages(build.manifest.embedder, stored, japanese)
        question = np.array([p.is_question or p.is_title for p in build.passages], dtype=bool)
        self.dense = DenseScorer(
            vectors, passage_article=self.passage_article, is_question=question, articles=len(self.article_ids)
        )
        # Inquiries are compared as stored, so their topic space is made of the stored vectors too.
        question_rows, question_articles = self.dense.question_rows, len(self.dense.question_articles)
        self.topic_space = TopicSpace.of_questions(stored[question_rows], articles=question_articles)
        # Each article's terms, all its passages' together: a document of its own for BM25, and a set for coverage.
        article_documents: list[list[str]] = [[] for _ in self.article_ids]
        for passage, terms in zip(build.passages, build.passage_terms, strict=True):
            article_documents[position[passage.article_id]].extend(terms)
        self.article_terms = [set(document) for document in article_documents]
        # How each passage's Japanese is read, for questions typed in kana without conversion, and its words as
        # written with their readings, for the converter below: one MeCab pass over the passages for both.
        read = [analyzer.readings_and_surfaces(passage.embedding_text) for passage in build.passages]
        passage_readings = [readings for readings, _ in read]
        self.reading_lexical = LexicalIndex.build(passage_readings)
        article_readings: list[set[str]] = [set() for _ in self.article_ids]
        for passage, readings in zip(build.passages, passage_readings, strict=True):
            article_readings[position[passage.article_id]].update(readings)
        self.article_readings = article_readings
        # The help center's own words by reading, so that kana typed without conversion is searched in them.
        self.kana_converter = KanaConverter.of_surface_readings(surfaces for _, surfaces in read)
        # Derived from the passages' terms, so it is built with each loaded build rather than stored.
        self.article_lexical = LexicalIndex.build(article_documents)
        self.locales = sorted({article.locale for article in build.articles.values()})
        self.group_members: dict[str, list[int]] = {}
        for i, article_id in enumerate(self.article_ids):
            self.group_members.setdefault(build.articles[article_id].group_id, []).append(i)
        self.article_group = [build.articles[article_id].group_id for article_id in self.article_ids]
        self.article_locale = [build.articles[article_id].locale for article_id in self.article_ids]
        self.article_japanese = np.array(
            [is_japanese_text(build.articles[article_id].title) for article_id in self.article_ids], dtype=bool
        )
        self._masks: dict[SearchFilters, npt.NDArray[np.bool_]] = {}

    def searched_text(self, question: str) -> str:
        """The question as it is searched: keywords typed in kana written in the help center's words."""
        return self.kana_converter.convert(question) if kana_keywords(question) else question

    @property
    def build_id(self) -> str:
        return self.build.build_id

    def allowed(self, filters: SearchFilters) -> npt.NDArray[np.bool_]:
        """Which articles the filters let through (cached: filters repeat across requests)."""
        cached = self._masks.get(filters)
        if cached is not None:
            return cached
        mask = np.ones(len(self.article_ids), dtype=bool)
        for i, article_id in enumerate(self.article_ids):
            article = self.build.articles[article_id]
            if (
                article.visibility not in filters.visibility
                or (filters.category and article.category != filters.category)
                or (filters.tags and not set(filters.tags) & set(article.tags))
            ):
                mask[i] = False
        if len(self._masks) < 256:
            self._masks[filters] = mask
        return mask


@dataclass(frozen=True)
class QueryEvidence:
    """What a question's search rests on, gathered once however its articles are then ranked or filtered."""

    terms: list[str]
    marks: list[str]  # forms to highlight in snippets
    vector: npt.NDArray[np.float32] | None  # None: the index has no articles, nothing was embedded
    dense_passage: npt.NDArray[np.float32]
    lexical_passage: npt.NDArray[np.float32]
    dense_article: npt.NDArray[np.float64]
    # BM25 as a share of what the query can attain (may exceed 1): each article's best passage, and the
    # article as one document; a fusion blends the two (Fusion.lexical).
    lexical_best_passage: npt.NDArray[np.float64]
    lexical_whole_article: npt.NDArray[np.float64]
    weights: dict[str, float]  # idf of each query term among passages
    chars: int = 0  # the question's length in characters
    japanese: bool = False  # whether the question is written in Japanese
    kana_only: bool = False  # whether its Japanese is all kana, never converted to kanji
    # For a question typed in kana: its reading's bigrams and their idf (empty otherwise).
    readings: list[str] = field(default_factory=list)
    reading_weights: dict[str, float] = field(default_factory=dict)


def gather_evidence(
    index: SearchIndex, *, embedder: Embedder, text: str, query_vector: npt.NDArray[np.float32] | None = None
) -> QueryEvidence:
    """Dense and lexical scores of every passage and article for a question (embedded here unless given)."""
    typed = core_question(text)
    text = index.searched_text(typed)
    query_tokens = index.analyzer.tokens(text)
    terms = [token.term for token in query_tokens]
    marks = _highlight_forms(unicodedata.normalize("NFKC", text).lower(), query_tokens)
    if not index.article_ids:
        empty32, empty64 = np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float64)
        return QueryEvidence(terms, marks, None, empty32, empty32, empty64, empty64, empty64, {})
    vector = embedder.embed_queries([text])[0] if query_vector is None else query_vector
    dense = index.dense.scores(vector)
    lexical_passage = index.build.lexical.scores(terms)
    weights = index.build.lexical.idf(terms)
    whole_article = index.article_lexical.scores(terms) / _attainable(terms, index.article_lexical.idf(terms))
    best_passage = index.dense.max_per_article(lexical_passage, fill=0.0) / _attainable(terms, weights)
    readings: list[str] = index.analyzer.reading_terms(typed) if typed_in_kana(typed) else []
    reading_weights = index.reading_lexical.idf(readings) if readings else {}
    if readings:
        # Kana typed for kanji (きゅうよめいさい) share no lemma with the article, but they read the same.
        reading_scores = index.reading_lexical.scores(readings) / _attainable(readings, reading_weights)
        by_reading = index.dense.max_per_article(reading_scores, fill=0.0)
        best_passage = np.maximum(best_passage, by_reading)
        whole_article = np.maximum(whole_article, by_reading)
    return QueryEvidence(
        terms=terms,
        marks=marks,
        vector=vector,
        dense_passage=dense.passage,
        lexical_passage=lexical_passage,
        dense_article=dense.article,
        lexical_best_passage=best_passage.astype(np.float64),
        lexical_whole_article=whole_article.astype(np.float64),
        weights=weights,
        chars=len(typed),
        japanese=is_japanese_text(text),
        kana_only=bool(readings) and kana_only(typed),
        readings=readings,
        reading_weights=reading_weights,
    )


def question_vectors(
    embedder: Embedder, texts: Sequence[str], index: SearchIndex | None = None
) -> npt.NDArray[np.float32]:
    """Questions embedded as a search of `index` embeds them (a mail without its courtesies, kana converted)."""
    cores = [core_question(text) for text in texts]
    return embedder.embed_queries([index.searched_text(core) for core in cores] if index else cores)


def _attainable(terms: Sequence[str], weights: dict[str, float]) -> float:
    # BM25 of a document matching every query term once at average length is about the sum of idf.
    return sum(weights[term] for term in set(terms)) or 1.0


def search_articles(
    index: SearchIndex,
    *,
    embedder: Embedder,
    calibration: Calibration,
    text: str,
    locale: str | None = None,
    filters: SearchFilters | None = None,
    limit: int = 5,
    query_vector: npt.NDArray[np.float32] | None = None,
    fusion: Fusion = DEFAULT_FUSION,
) -> SearchOutcome:
    """Best articles for a question: one per translation group, in the caller's locale where possible."""
    evidence = gather_evidence(index, embedder=embedder, text=text, query_vector=query_vector)
    return rank_articles(
        index, evidence, calibration=calibration, locale=locale, filters=filters, limit=limit, fusion=fusion
    )


def rank_articles(
    index: SearchIndex,
    evidence: QueryEvidence,
    *,
    calibration: Calibration,
    locale: str | None = None,
    filters: SearchFilters | None = None,
    limit: int = 5,
    fusion: Fusion = DEFAULT_FUSION,
) -> SearchOutcome:
    """The articles a question's evidence ranks first under one fusion and set of filters."""
    if evidence.vector is None:
        return SearchOutcome([], 0.0, evidence.terms, None)
    dense_article, lexical_article = evidence.dense_article, fusion.lexical(evidence)
    lexical_norm = np.minimum(lexical_article, 1.0)
    allowed = index.allowed(filters or SearchFilters())
    lexical_scored = np.where(lexical_article > 0, lexical_article, -np.inf)
    if fusion.kind == "convex":
        dense_positive = np.maximum(dense_article, 0.0)
        other_language = index.article_japanese != evidence.japanese
        lexical_fused = np.where(
            other_language, np.maximum(lexical_norm, fusion.cross_language_lexical * dense_positive), lexical_norm
        )
        alpha = fusion.kana_alpha if evidence.kana_only else fusion.alpha
        fused = alpha * dense_positive + (1 - alpha) * lexical_fused
    else:
        dense_rank, lexical_rank = _ranks(dense_article, allowed), _ranks(lexical_scored, allowed)
        fused = np.zeros(len(index.article_ids), dtype=np.float64)
        fused += np.where(np.isfinite(dense_rank), fusion.dense_weight / (RRF_K + dense_rank), 0.0)
        fused += np.where(np.isfinite(lexical_rank), fusion.lexical_weight / (RRF_K + lexical_rank), 0.0)
    fused[~allowed] = -np.inf

    # Two at least: the top hit's margin is measured against the runner-up.
    groups = _best_per_group(index, fused, locale, max(limit, 2))
    hits: list[SearchHit] = []
    best_other_dense = [float(dense_article[g[0]]) for g in groups[:2]]
    dense_floor = _kth_best(dense_article, allowed, AGREEMENT_TOP)
    # Over every article, whatever the filters: how close the question sits to the help center as a whole, and
    # how far its best article stands out from its fifth.
    dense_mean = float(dense_article.mean())
    spread = _spread(dense_article)
    query_chars = math.log1p(evidence.chars)
    lexical_floor = _kth_best(lexical_scored, allowed, AGREEMENT_TOP)
    for rank, (article_idx, group_score, fallback, scored_idx) in enumerate(groups[:limit]):
        features = {
            "dense": float(dense_article[scored_idx]),
            "coverage": max(
                _coverage(evidence.terms, index.article_terms[scored_idx], evidence.weights),
                _coverage(evidence.readings, index.article_readings[scored_idx], evidence.reading_weights),
            ),
            "lexical": float(lexical_norm[scored_idx]),
            "agreement": float(
                dense_article[scored_idx] >= dense_floor
                and lexical_article[scored_idx] > 0
                and lexical_scored[scored_idx] >= lexical_floor
            ),
            "margin": float(dense_article[scored_idx])
            - (best_other_dense[1] if rank == 0 and len(best_other_dense) > 1 else best_other_dense[0]),
            "dense_mean": dense_mean,
            "spread": spread,
            "query_chars": query_chars,
            "cross_language": float(index.article_japanese[scored_idx] != evidence.japanese),
        }
        article = index.build.articles[index.article_ids[article_idx]]
        snippet, highlights = _snippet(
            index, article_idx, evidence.dense_passage, evidence.lexical_passage, evidence.marks
        )
        hits.append(
            SearchHit(
                article, float(group_score), calibration.confidence(features), fallback, snippet, highlights, features
            )
        )
    confidence = hits[0].confidence if hits else 0.0
    return SearchOutcome(hits, confidence, evidence.terms, evidence.vector)


def _spread(dense_article: npt.NDArray[np.float64]) -> float:
    """The best article's dense score less the SPREAD_RANK-th best's (or the last's, in a smaller help center)."""
    k = min(SPREAD_RANK, len(dense_article))
    return float(dense_article.max() - np.partition(dense_article, len(dense_article) - k)[len(dense_article) - k])


def _kth_best(scores: npt.NDArray[np.float64], allowed: npt.NDArray[np.bool_], k: int) -> float:
    """The k-th best allowed score, ties sharing a place; -inf when fewer than k articles are allowed."""
    masked = np.where(allowed, scores, -np.inf)
    if len(masked) < k:
        return -np.inf
    return float(np.partition(masked, len(masked) - k)[len(masked) - k])


def _ranks(scores: npt.NDArray[np.float64], allowed: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """1-based rank of each allowed, scored article; inf for the rest."""
    masked = np.where(allowed, scores, -np.inf)
    order = np.argsort(-masked, kind="stable")
    ranks = np.full(len(scores), np.inf)
    finite = np.isfinite(masked[order])
    ranks[order[finite]] = np.arange(1, int(finite.sum()) + 1)
    return ranks


def _best_per_group(
    index: SearchIndex, fused: npt.NDArray[np.float64], locale: str | None, limit: int
) -> list[tuple[int, float, bool, int]]:
    """(shown article, group score, fallback?, best-scored article) of the first `limit` groups, best first.

    A translation pair counts once: the group scores as its best member, and shows the member in
    the caller's locale when there is one, otherwise the best member marked as a fallback.
    """
    scored = np.flatnonzero(np.isfinite(fused) & (fused > 0))
    if len(scored) > FUSION_CANDIDATES:
        scored = scored[np.argpartition(-fused[scored], FUSION_CANDIDATES)[:FUSION_CANDIDATES]]
    seen: set[str] = set()
    groups: list[tuple[int, float, bool, int]] = []
    # Best first, a group's first member is its best: only as many groups as are shown are looked at.
    for best in scored[np.argsort(-fused[scored], kind="stable")].tolist():
        group = index.article_group[best]
        if group in seen:
            continue
        seen.add(group)
        shown = best
        if locale is not None and index.article_locale[best] != locale:
            local = [
                m for m in index.group_members[group] if index.article_locale[m] == locale and 0 < fused[m] < np.inf
            ]
            if local:
                shown = max(local, key=lambda i: fused[i])
        fallback = locale is not None and index.article_locale[shown] != locale
        groups.append((shown, float(fused[best]), fallback, best))
        if len(groups) == limit:
            break
    return groups


def _coverage(terms: Sequence[str], article_terms: set[str], weights: dict[str, float]) -> float:
    """IDF-weighted share of the question's terms that the article contains (unknown terms weigh most)."""
    if not terms:
        return 0.0
    total = found = 0.0
    for term in set(terms):
        weight = weights[term]
        total += weight
        if term in article_terms:
            found += weight
    return found / total if total else 0.0


def _highlight_forms(folded_query: str, tokens: Sequence[Token]) -> list[str]:
    """What to mark in snippets: stems of English words (reset -> resetting), surfaces of Japanese ones.

    Marking by string search, not by re-analysing each snippet, keeps highlighting off the hot path.
    """
    forms = set()
    for token in tokens:
        surface = folded_query[token.start : token.end]
        form = token.term if token.term.isascii() else surface
        if len(form) >= 2 or (len(form) == 1 and not form.isascii() and not ("\u3040" <= form <= "\u30ff")):
            forms.add(form)
    return sorted(forms, key=len, reverse=True)


def _snippet(
    index: SearchIndex,
    article_idx: int,
    dense_passage: npt.NDArray[np.float32],
    lexical_passage: npt.NDArray[np.float32],
    marks: list[str],
) -> tuple[str, list[tuple[int, int]]]:
    rows = index.snippet_rows[article_idx]
    lexical = lexical_passage[rows]
    lexical_max = float(lexical.max()) or 1.0
    text = index.snippet_texts[int(rows[np.argmax(dense_passage[rows] + lexical / lexical_max * 0.5)])]
    folded = text.lower()
    spans: list[tuple[int, int]] = []
    for form in marks:
        position = folded.find(form)
        while position >= 0 and len(spans) < 64:
            at_word_start = not form.isascii() or position == 0 or not folded[position - 1].isalnum()
            if at_word_start:
                end = position + len(form)
                while form.isascii() and end < len(folded) and folded[end].isalnum():
                    end += 1  # extend a stem to the whole word
                spans.append((position, end))
            position = folded.find(form, position + len(form))
    spans.sort()
    start = 0
    if spans and len(text) > SNIPPET_CHARS:
        start = max(0, min(spans[0][0] - SNIPPET_CHARS // 4, len(text) - SNIPPET_CHARS))
    end = min(len(text), start + SNIPPET_CHARS)
    snippet = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    shift = 1 if start else 0
    highlights = [(s - start + shift, e - start + shift) for s, e in spans if s >= start and e <= end]
    return snippet, _merge(highlights)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(spans)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
