"""Text analysis for the lexical index and for highlighting: one analyser for Japanese and English.

NFKC folds full/half-width forms; Japanese runs are segmented by MeCab (fugashi + unidic-lite)
into lemmas, so でき/出来る and 忘れた/忘れる meet; katakana long-vowel variants (サーバー/サーバ)
are folded; ASCII words are Snowball-stemmed. Without MeCab, Japanese falls back to character
bigrams.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import Stemmer

_SKIPPED_POS = {"助詞", "助動詞", "補助記号", "記号", "空白"}
# Words that name nothing a question is about: pronouns (どこ), adnominals (この), adverbs (まだ), interjections
# (こんにちは) and conjunctions; and adjectives that lean on another word (いい, ない, ほしい).
_FUNCTION_POS = {"代名詞", "連体詞", "副詞", "感動詞", "接続詞"}
_INFLECTED_POS = {"動詞", "形容詞"}
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_APOSTROPHE = re.compile(r"['’]")
_CODE = re.compile(r"(?<![a-z0-9])([a-z]{1,4})-(\d{2,6})(?![0-9])")
_KATAKANA = re.compile(r"^[\u30a0-\u30ff]+$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_KANJI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"^[\u3040-\u30ffー]+$")
_KANA_RUN = re.compile(r"[\u3040-\u30ffー]{3,}")
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}
_ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be by can could do does for from how i if in into is it its me my of on or "
    "our please should so that the their then there these this to was we were what when where which "
    "who why will with would you your".split()
)
_JAPANESE_STOPWORDS = frozenset(
    "する 為る ある 有る いる 居る なる 成る れる られる 致す 頂く 下さる ください "
    "こと 事 もの 物 ため 為 よう これ それ あれ "
    "どう どの 方法 教える".split()
)


@dataclass(frozen=True)
class Token:
    term: str
    start: int
    end: int
    # Only with `content_words`: an inflected Japanese word's dictionary form as its writer spelt it (送っ: 送る,
    # やめ: やめる), where that differs from the text; else "".
    base: str = ""


def normalize(text: str) -> str:
    """NFKC, lower-case, whitespace collapsed: the form every query and passage is compared in."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def has_japanese(text: str) -> bool:
    return _CJK.search(text) is not None


def japanese_share(text: str) -> float:
    """The share of a text's non-space characters that are kana or kanji."""
    characters = sum(not c.isspace() for c in text)
    return len(_CJK.findall(text)) / characters if characters else 0.0


def katakana(text: str) -> str:
    return text.translate(_HIRAGANA_TO_KATAKANA)


def typed_in_kana(text: str) -> bool:
    """Whether a question holds Japanese typed in kana and never converted to kanji (ぱすわーど わすれた, ｹｲﾔｸ).

    Read chunk by chunk: a chunk with three kana in a row and no kanji was not converted.
    """
    folded = unicodedata.normalize("NFKC", text)
    return any(_KANA_RUN.search(chunk) and not _KANJI.search(chunk) for chunk in re.split(r"[\s、。,.!?！？]+", folded))


def kana_only(text: str) -> bool:
    """Whether a question's Japanese is all kana, as typed on a phone without conversion (no kanji at all)."""
    return typed_in_kana(text) and not _KANJI.search(text)


class Analyzer:
    """Turns text into index terms. Thread-safe for reads: MeCab taggers are not, so each call makes none."""

    def __init__(self, *, morphological: bool = True) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._tagger: Any = None
        if morphological:
            try:
                import fugashi

                self._tagger = fugashi.Tagger()
            except (ImportError, RuntimeError):
                self._tagger = None
        self.name = "ja-mecab-unidic+en-snowball" if self._tagger is not None else "ja-bigram+en-snowball"

    def terms(self, text: str) -> list[str]:
        """Index terms of text, in order, repeats kept (BM25 counts them)."""
        return [token.term for token in self.tokens(text)]

    def tokens(self, text: str, *, without_names: bool = False, content_words: bool = False) -> list[Token]:
        """Terms with their character offsets in the NFKC-lower-cased text; `without_names`: less the words MeCab
        reads as people's names (田中, 小野寺); `content_words`: less the words that name nothing (どこ, いい, まだ,
        we're), which search keeps as terms."""
        folded = unicodedata.normalize("NFKC", text).lower()
        tokens: list[Token] = []
        for match in _CODE.finditer(folded):
            tokens.append(Token(match.group(1) + match.group(2), match.start(), match.end()))
        if not has_japanese(folded):  # most text: one pass, since no English word spans a space
            tokens.extend(self._english_tokens(folded, 0, content_words=content_words))
        else:
            for start, _end, chunk in _script_runs(folded):
                if has_japanese(chunk):
                    tokens.extend(
                        self._japanese_tokens(chunk, start, without_names=without_names, content_words=content_words)
                    )
                else:
                    tokens.extend(self._english_tokens(chunk, start, content_words=content_words))
        tokens.sort(key=lambda token: token.start)
        return tokens

    def person_names(self, text: str) -> list[str]:
        """The words MeCab reads as people's names (田中, 小野寺), as written; none without MeCab."""
        if self._tagger is None:
            return []
        folded = unicodedata.normalize("NFKC", text)
        chunks = [chunk for _, _, chunk in _script_runs(folded) if has_japanese(chunk)]
        return [word.surface for chunk in chunks for word in self._tagger(chunk) if _is_person_name(word)]

    def _english_tokens(self, chunk: str, offset: int, *, content_words: bool = False) -> Iterator[Token]:
        for match in _ASCII_WORD.finditer(chunk):
            word = match.group(0)
            if word in _ENGLISH_STOPWORDS:
                continue
            if content_words and _APOSTROPHE.split(word)[0] in _ENGLISH_STOPWORDS:  # i'm, we're, it's
                continue
            yield Token(self._stem(word), offset + match.start(), offset + match.end())

    def _japanese_tokens(
        self, chunk: str, offset: int, *, without_names: bool = False, content_words: bool = False
    ) -> Iterator[Token]:
        if self._tagger is None:
            yield from _bigrams(chunk, offset)
            return
        position = 0
        for word in self._tagger(chunk):
            surface = word.surface
            start = chunk.find(surface, position)
            if start < 0:
                start = position
            position = start + len(surface)
            pos, lemma = pos_and_lemma(word)
            if pos in _SKIPPED_POS:
                continue
            if without_names and _is_person_name(word):
                continue
            if content_words and _names_nothing(word):
                continue
            # unidic lemmas of loanwords carry their origin ("カード-card"): keep the Japanese part.
            term = lemma.split("-")[0] if lemma else surface
            if _ASCII_WORD.fullmatch(term):
                if term in _ENGLISH_STOPWORDS:
                    continue
                term = self._stem(term)
            elif _KATAKANA.match(term) and len(term) >= 4 and term.endswith("ー"):
                term = term.rstrip("ー")
            if term in _JAPANESE_STOPWORDS:
                continue
            base = _dictionary_form(word, pos) if content_words else ""
            yield Token(term, offset + start, offset + position, base if base != surface else "")

    def reading_terms(self, text: str) -> list[str]:
        """Bigrams of how the text's Japanese is read, in katakana: 給与明細 and きゅうよめいさい meet.

        Long-vowel marks are dropped (サーバー, さーば), so spellings that differ only in them meet too.
        Without MeCab there are no readings, and no terms.
        """
        return self.readings_and_surfaces(text, surfaces=False)[0]

    def surface_readings(self, text: str) -> list[tuple[str, str]]:
        """Each Japanese content word as written and as read (katakana, no long-vowel marks), and each adjacent pair.

        The pairs keep compounds whole (契約書 is 契約 + 書), so a longest match prefers them. Empty without MeCab.
        """
        return self.readings_and_surfaces(text, readings=False)[1]

    def readings_and_surfaces(
        self, text: str, *, readings: bool = True, surfaces: bool = True
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """`reading_terms` and `surface_readings` of a text, each chunk parsed once where lower-casing leaves it as it
        is (readings are of the lower-cased text, surfaces as written): a help center's passages are read for both."""
        terms: list[str] = []
        found: list[tuple[str, str]] = []
        if self._tagger is None:
            return terms, found
        for _start, _end, chunk in _script_runs(unicodedata.normalize("NFKC", text)):
            if not has_japanese(chunk):
                continue
            lower = chunk.lower()
            words = self._words(chunk) if surfaces or lower == chunk else []
            if surfaces:
                found.extend(_word_readings(words))
            if readings:
                reading = "".join(kana for _, _, kana in (words if lower == chunk else self._words(lower)))
                reading = reading.replace("ー", "")
                terms.extend(reading[i : i + 2] for i in range(len(reading) - 1))
        return terms, found

    def _words(self, chunk: str) -> list[tuple[str, str, str]]:
        """(surface, part of speech, reading) of each word MeCab cuts the chunk into.

        Read at once: a parse's words read their fields from MeCab's lattice, which the next parse overwrites.
        """
        words = []
        for word in self._tagger(chunk):
            surface, raw = word.surface, word.feature_raw
            if '"' in raw:  # a quoted comma in a field: the full parse (why: docs/decisions/0010-mecab-lemmas.md)
                pos, kana = word.feature.pos1, word.feature.kana
            else:
                fields = raw.split(",", 18)
                pos, kana = fields[0], fields[17] if len(fields) > 17 else None
            if _KANA.match(surface):
                reading = katakana(surface)  # as typed: MeCab's reading of a kana word may be of another word
            else:
                reading = kana if kana and kana != "*" and not word.is_unk else ""
            words.append((surface, pos, reading))
        return words

    @lru_cache(maxsize=65536)  # noqa: B019 - the analyser lives as long as the process
    def _stem(self, word: str) -> str:
        stemmed: str = self._stemmer.stemWord(word)
        return stemmed


def _is_person_name(word: Any) -> bool:
    return bool(word.feature_raw.split(",", 3)[1:3] == ["固有名詞", "人名"])


def _names_nothing(word: Any) -> bool:
    pos, detail = word.feature_raw.split(",", 2)[:2]
    return pos in _FUNCTION_POS or (pos == "形容詞" and detail == "非自立可能")


def _dictionary_form(word: Any, pos: str) -> str:
    """A verb's or adjective's dictionary form in its writer's spelling (unidic's orthBase: やめ is やめる, where the
    lemma is 止める); "" for other words and unknown ones."""
    if pos not in _INFLECTED_POS:
        return ""
    if '"' in word.feature_raw:
        return str(word.feature.orthBase or "")
    fields = word.feature_raw.split(",", 11)
    return fields[10] if len(fields) > 10 else ""


def pos_and_lemma(word: Any) -> tuple[str, str | None]:
    """A MeCab node's part of speech and lemma (None for an unknown word), from its raw unidic fields.

    fugashi's `feature` parses every field of every word, a quarter of a question's analysis; a word whose
    fields hold a quoted comma goes to the full parse. Why: docs/decisions/0010-mecab-lemmas.md
    """
    raw = word.feature_raw
    if '"' in raw:
        feature = word.feature
        return feature.pos1, feature.lemma
    fields = raw.split(",", 8)
    return fields[0], fields[7] if len(fields) > 7 else None  # an unknown word has six fields, no lemma


def _word_readings(words: list[tuple[str, str, str]]) -> Iterator[tuple[str, str]]:
    """(surface, reading key) of each content word of a parse and of each adjacent pair."""
    previous: tuple[str, str] | None = None
    for surface, pos, kana in words:
        reading = _reading_key(kana)
        if pos in _SKIPPED_POS or not reading:
            previous = None
            continue
        # A suffix or prefix alone (内, 方) matches inside too many words; in a pair (契約書) it is kept.
        if pos not in _AFFIX_POS:
            yield surface, reading
        if previous is not None:
            yield previous[0] + surface, previous[1] + reading
        previous = (surface, reading)


def _script_runs(text: str) -> Iterator[tuple[int, int, str]]:
    """Whitespace-separated chunks: Japanese has no spaces, so a chunk is a phrase of one script mix."""
    for match in re.finditer(r"\S+", text):
        yield match.start(), match.end(), match.group(0)


def _bigrams(chunk: str, offset: int) -> Iterator[Token]:
    for match in re.finditer(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaffー]+|[a-z0-9]+", chunk):
        run = match.group(0)
        if not has_japanese(run):
            yield Token(run, offset + match.start(), offset + match.end())
            continue
        if len(run) == 1:
            yield Token(run, offset + match.start(), offset + match.end())
        for i in range(len(run) - 1):
            yield Token(run[i : i + 2], offset + match.start() + i, offset + match.start() + i + 2)


_LONG_VOWEL = "ー"
_AFFIX_POS = {"接尾辞", "接頭辞"}
_HIRAGANA_ONLY = re.compile(r"^[\u3041-\u3096ー]+$")
# A reading this short (one kana) matches inside too many words to say which one was meant.
_MIN_READING = 2
_MIN_READING_INSIDE = 3
# The one kana a chunk of two-kana words may leave between them: a particle (紙の契約書).
_PARTICLES = frozenset("はがをにでとのもへやか")
_SMALL_KANA = frozenset("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮー")


class KanaConverter:
    """Rewrites kana typed without conversion in the words a vocabulary writes them with (めんせつ → 面接).

    The vocabulary maps readings (katakana, long-vowel marks dropped) to the commonest surface read so; a
    kana chunk is segmented by longest match on those readings, and what matches nothing is kept as typed.
    """

    def __init__(self, readings: dict[str, str]) -> None:
        self.readings = readings
        self._longest = max((len(reading) for reading in readings), default=0)

    @classmethod
    def of_texts(cls, texts: Iterable[str], analyzer: Analyzer) -> KanaConverter:
        """The vocabulary of these texts' Japanese words written with kanji or katakana, and of adjacent pairs."""
        return cls.of_surface_readings(analyzer.surface_readings(text) for text in texts if has_japanese(text))

    @classmethod
    def of_surface_readings(cls, texts: Iterable[list[tuple[str, str]]]) -> KanaConverter:
        """The same of texts already read by `Analyzer.surface_readings`."""
        surfaces: dict[str, Counter[str]] = {}
        for found in texts:
            for surface, reading in found:
                if len(reading) >= _MIN_READING and not _HIRAGANA_ONLY.match(surface):
                    surfaces.setdefault(reading, Counter())[surface] += 1
        return cls({reading: counts.most_common(1)[0][0] for reading, counts in surfaces.items()})

    def extended(self, texts: Iterable[str], analyzer: Analyzer) -> KanaConverter:
        """This vocabulary, and the words of these texts it lacks: its own spelling wins where both read alike."""
        return KanaConverter({**KanaConverter.of_texts(texts, analyzer).readings, **self.readings})

    def convert(self, text: str) -> str:
        """The text, NFKC, with each chunk typed in kana (three kana in a row, no kanji) converted where it can be."""
        folded = unicodedata.normalize("NFKC", text)
        if not self.readings:
            return folded
        return re.sub(r"[^\s、。,.!?！？]+", lambda m: self._convert_chunk(m.group(0)), folded)

    def _convert_chunk(self, chunk: str) -> str:
        if not _KANA_RUN.search(chunk) or _KANJI.search(chunk):
            return chunk
        # Two kana are as often a piece of another word (ぽいんと is not ぽ・イン・と): words that short are
        # taken only when the words found explain the whole chunk but a particle (かみのけいやくしょ: 紙の契約書).
        converted, left_as_typed = self._segmented(chunk, shortest=_MIN_READING)
        if not left_as_typed or left_as_typed in _PARTICLES:  # つくる is not 付く + る
            return converted
        return self._segmented(chunk, shortest=_MIN_READING_INSIDE)[0]

    def _segmented(self, chunk: str, *, shortest: int) -> tuple[str, str]:
        """The chunk by longest match on the vocabulary's readings, and the characters that matched nothing."""
        out: list[str] = []
        left_as_typed, i = "", 0
        while i < len(chunk):
            # A typed piece may be longer than its key by the long-vowel marks the key drops.
            for j in range(min(len(chunk), i + 2 * self._longest), i + _MIN_READING - 1, -1):
                piece = chunk[i:j]
                whole = j - i == len(chunk)
                # A small kana belongs to the kana before it: りんじ is not a word of ちゅうりんじょう.
                splits = j < len(chunk) and chunk[j] in _SMALL_KANA
                # Katakana as typed is mostly a loanword spelt right (スマホ is not 済ま + ホ).
                short = j - i < shortest or (j - i < _MIN_READING_INSIDE and not _HIRAGANA_ONLY.match(piece))
                usable = _KANA.match(piece) and (whole or not short) and not splits
                surface = self.readings.get(_reading_key(piece)) if usable else None
                if surface is not None:
                    out.append(surface)
                    i = j
                    break
            else:
                out.append(chunk[i])
                left_as_typed += chunk[i]
                i += 1
        return "".join(out), left_as_typed


def _reading_key(reading: str) -> str:
    return katakana(reading).replace(_LONG_VOWEL, "")
