"""The words of query time that the API and the stored rows share: suggest channels and answer labels.

Each is one `StrEnum`, used by request and response shapes and by domain code alike; a member is its
string, so it compares equal to, and is stored as, the value the API spells.
"""

from __future__ import annotations

from enum import StrEnum


class Vocabulary(StrEnum):
    # Validation messages quote the allowed values by repr: 'form', not <Channel.FORM: 'form'>.
    def __repr__(self) -> str:
        return repr(self.value)


class Channel(Vocabulary):
    """Where a question was asked: a search box, an inquiry form, or another client of the API."""

    SEARCH = "search"
    FORM = "form"
    API = "api"


class Label(Vocabulary):
    """Whether the best result answers the question, might, or nothing fits."""

    ANSWERED = "answered"
    LOW_CONFIDENCE = "low_confidence"
    NO_ANSWER = "no_answer"
