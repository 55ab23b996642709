"""Redaction of personal data before anything is stored.

Emails, phone numbers (Japanese and international), Japanese postal codes, 12-digit My Number,
payment card numbers (Luhn-checked) and operator-configured patterns become placeholders.
Text is NFKC-folded first, so full-width digits and ＠ are caught too.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

_SEP = r"[\s\-‐‑–—ー―.]?"
_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+", re.IGNORECASE)
_CARD = re.compile(r"(?<!\d)\d(?:[\s\-]?\d){12,18}(?!\d)")
_MY_NUMBER = re.compile(r"(?<!\d)\d{4}[\s\-]?\d{4}[\s\-]?\d{4}(?!\d)")
_POSTAL = re.compile(r"〒\s*\d{3}[\-ー‐]?\d{4}|(?<!\d)\d{3}-\d{4}(?![\d\-])")
_PHONE = re.compile(
    r"(?:\+|00)\d{1,3}[\s\-.]?\(?\d{1,4}\)?(?:[\s\-.]?\d{2,4}){2,4}(?!\d)"  # international, +81 included
    rf"|(?<!\d)\(?0\d{{1,4}}\)?{_SEP}\d{{1,4}}{_SEP}\d{{3,4}}(?!\d)"  # Japanese 0X0-XXXX-XXXX, 0X-XXXX-XXXX
)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if _luhn_valid(digits) else match.group(0)


class Redactor:
    """Replaces personal data with placeholders; extra patterns are operator-configured regexes."""

    def __init__(self, extra_patterns: Iterable[str] = ()) -> None:
        self._extra = [re.compile(pattern) for pattern in extra_patterns]

    def redact(self, text: str) -> str:
        folded = unicodedata.normalize("NFKC", text)
        folded = _EMAIL.sub("[EMAIL]", folded)
        folded = _CARD.sub(_card, folded)
        folded = _MY_NUMBER.sub("[MY_NUMBER]", folded)
        folded = _PHONE.sub("[PHONE]", folded)
        folded = _POSTAL.sub("[POSTAL_CODE]", folded)
        for pattern in self._extra:
            folded = pattern.sub("[REDACTED]", folded)
        return folded


def pseudonymous_client_id(client_id: str | None) -> str | None:
    """A client id that looks like an email is stored as a hash, never as given."""
    if client_id is None:
        return None
    if _EMAIL.search(unicodedata.normalize("NFKC", client_id)):
        return "h:" + hashlib.sha256(client_id.strip().lower().encode("utf-8")).hexdigest()[:32]
    return client_id
