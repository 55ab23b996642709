"""English as a whole, for a gap topic's label: which words it holds, and how often it uses each.

A label names its topic by the terms that set it apart from the period's other failing questions. In English a
topic's questions also share the words every question uses (one, get, same), which set a small topic apart as well
as its need's words do. Why: docs/decisions/0041-gap-labels-without-words-that-name-nothing.md
"""

from __future__ import annotations

import math
from functools import cache

from spellchecker import SpellChecker

# Words English uses more often than once in this many (one, same, get, way: its 700 commonest) name no need
# by themselves: their weight in a label falls with how common they are.
COMMON_WORD_SHARE = 1e-4


@cache
def english_words() -> SpellChecker:
    """pyspellchecker's English word list, with how often each word is used; loaded once per process."""
    return SpellChecker(language="en")


def need_weight(word: str) -> float:
    """1 for a word as rare as a need's (invoice, booking, account), less for the commonest: 0.56 for get."""
    share = english_words().word_usage_frequency(word)
    return 1.0 if share <= COMMON_WORD_SHARE else -math.log10(share) / -math.log10(COMMON_WORD_SHARE)
