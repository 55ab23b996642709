"""Words one customer misspelt, so that a gap topic's label says its need in the words the team reads.

A term found in one failing question only scores high in a small topic: it sets the topic apart from every other,
whether it is the need's own word (zapier, 離婚) or one customer's typo (uplaod, 解役 for 解約). Only the typo is a
misspelling of a word the help center or the period's other questions use. Why:
docs/decisions/0039-gap-labels-without-misspellings.md
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.reports.gaps.english import english_words
from indexer.analysis import Analyzer, has_japanese

_LATIN_TERM = re.compile(r"[a-z]{4,}")
# From this many letters two edits apart is still a slip of the keyboard (salesfroce, recidence), not another word.
TWO_EDITS_FROM = 8


class Misspellings:
    """Tells whether a term, as one customer wrote it, misspells a word that others use.

    - Latin letters: a word no English dictionary holds, one edit from a term of the help center's articles or of
      the period's other questions (two edits from 8 letters).
    - Japanese: a word written with other characters than the help center writes the same reading with, the
      conversion slip of a Japanese keyboard (予訳 for 予約).
    """

    def __init__(self, *, known: Iterable[str], readings: Mapping[str, str], analyzer: Analyzer) -> None:
        self._known = frozenset(known)
        self._latin = sorted(term for term in self._known if _LATIN_TERM.fullmatch(term))
        self._readings = readings
        self._analyzer = analyzer

    def __call__(self, term: str, surface: str) -> bool:
        """Whether `term` (a token's term), written `surface` by one customer, misspells another known word."""
        if term in self._known:
            return False
        if has_japanese(surface):
            return any(
                written == surface and self._readings.get(reading, surface) != surface
                for written, reading in self._analyzer.surface_readings(surface)
            )
        if not _LATIN_TERM.fullmatch(term) or surface in english_words():
            return False
        edits = 2 if len(surface) >= TWO_EDITS_FROM else 1
        return process.extractOne(term, self._latin, scorer=OSA.distance, score_cutoff=edits) is not None
