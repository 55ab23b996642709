"""The words the API and the stored rows share: event actions, suggest channels and answer labels.

Each is one `StrEnum`, used by request and response shapes and by domain code alike; a member is its
string, so it compares equal to, and is stored as, the value the API spells.
"""

from __future__ import annotations

from enum import StrEnum


class _Vocabulary(StrEnum):
    # Validation messages quote the allowed values by repr: 'form', not <Channel.FORM: 'form'>.
    def __repr__(self) -> str:
        return repr(self.value)


class Action(_Vocabulary):
    """What a customer did after a suggestion set (docs/deflection.md, events)."""

    IMPRESSION = "impression"
    CLICK = "click"
    HELPFUL = "helpful"
    NOT_HELPFUL = "not_helpful"
    SOLVED = "solved"
    TICKET_SUBMITTED = "ticket_submitted"
    FORM_ABANDONED = "form_abandoned"


class Channel(_Vocabulary):
    """Where a question was asked: a search box, an inquiry form, or another client of the API."""

    SEARCH = "search"
    FORM = "form"
    API = "api"


class Label(_Vocabulary):
    """Whether the best result answers the question, might, or nothing fits."""

    ANSWERED = "answered"
    LOW_CONFIDENCE = "low_confidence"
    NO_ANSWER = "no_answer"
