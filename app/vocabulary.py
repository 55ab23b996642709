"""The words of what customers do after a suggestion set, as the API spells and the rows store them.

Channels and labels are query time's own: retrieval/vocabulary.py.
"""

from __future__ import annotations

from retrieval.vocabulary import Vocabulary


class Action(Vocabulary):
    """What a customer did after a suggestion set (docs/deflection.md, events)."""

    IMPRESSION = "impression"
    CLICK = "click"
    HELPFUL = "helpful"
    NOT_HELPFUL = "not_helpful"
    SOLVED = "solved"
    TICKET_SUBMITTED = "ticket_submitted"
    FORM_ABANDONED = "form_abandoned"
