"""Redaction of personal data before anything is stored.

Emails, phone numbers (Japanese, North American and international), Japanese postal codes, 12-digit
My Number, payment card numbers (Luhn-checked) and operator-configured patterns become placeholders.
Text is NFKC-folded first, so full-width digits and ＠ are caught too, and the dashes that Japanese
input methods and copied PDFs put between digits (− U+2212, ー, ‐ ...) are read as hyphens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable

# NFKC keeps these: a Mac's full-width hyphen is U+2212, kana mode types ー. Between digits, all are hyphens.
_DIGIT_DASH = re.compile(r"(?<=\d) ?[\-‐‑‒–—―−ー﹣] ?(?=\d)")
# A number wrapped or spaced out in a pasted ticket body ("4111  1111\n1111 1111") reads as single spaces.
_DIGIT_SPACE = re.compile(r"(?<=\d)\s{2,}(?=\d)|(?<=\d)[\t\n\r\f\v](?=\d)")
# IME artefacts inside an address: 。 for ".", ー for "-", spaces around @; %40 is @ in a pasted link.
# The domain ends in a name (a TLD), so "2 items @ 5.00" stays as typed.
_EMAIL = re.compile(r"[a-z0-9._%+\-ー']+(?: ?@ ?|%40)[a-z0-9\-]+(?:[.。][a-z0-9\-]+)*[.。][a-z]{2,}", re.IGNORECASE)
# Issuer digits start with 2-6; groups before the last have 4 digits at least (4-4-4-4, 4-6-5, or none).
_CARD = re.compile(r"(?<![\d\-])[2-6]\d{3,}(?:[ \-]\d{4,}){0,4}(?:[ \-]\d{1,4})?(?![\d\-])")
# Twelve digits, 4-4-4 or run together, and not three groups of a longer list ("1500 2000 3000 4500").
_MY_NUMBER = re.compile(r"(?<![\d+])(?<!\d[ \-])\d{4}[ \-]?\d{4}[ \-]?\d{4}(?![ \-]?\d)")
_PHONE = re.compile(
    # International: + or 00 and a country code, not inside a longer number.
    r"(?<![0-9A-Za-z+])(?:\+|00) ?[1-9]\d{0,2}[ \-.]?\(?\d{1,4}\)?(?:[ \-.]?\d{2,4}){2,4}(?!\d)"
    # North American (415) 555-2671, 415-555-2671, 1-800-555-0199: separated, since bare 10 digits are ids too.
    r"|(?<![0-9A-Za-z+\-])(?:1[ \-.])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ \-.])[2-9]\d{2}[ \-.]\d{4}(?!\d)"
    # Japanese 0X0-XXXX-XXXX, 0X-XXXX-XXXX, 0120-XXX-XXX, 03(1234)5678: checked to be 10 or 11 digits.
    r"|(?<!\d)\(?0[1-9]\d{0,3}\)?[ \-.]?\(?\d{1,4}\)?[ \-.]?\d{3,4}(?!\d)"
)
_POSTAL = re.compile(
    r"〒 ?\d{3}[ \-]?\d{4}(?!\d)|(郵便番号 ?[:：]? ?)\d{3}[ \-]?\d{4}(?!\d)"
    r"|(?<![\d\-])\d{3}-\d{4}(?![\d\-])"  # an address typed without 〒
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
    return "[CARD]" if 13 <= len(digits) <= 19 and _luhn_valid(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if digits.startswith("0") and not text.startswith("00"):
        # A Japanese number has 10 digits (landline, 0120, 0570) or 11 (mobile, 050): not an invoice id.
        return "[PHONE]" if len(digits) in (10, 11) else text
    if text.startswith("00") and text.isdigit():
        return text  # a bare run of digits that starts with 00 is an id, not a dialled prefix
    return "[PHONE]"


def _fold(text: str) -> str:
    """NFKC, with the dashes and spaces between digits read as customers' keyboards and pastes leave them."""
    return _DIGIT_SPACE.sub(" ", _DIGIT_DASH.sub("-", unicodedata.normalize("NFKC", text)))


def _postal(match: re.Match[str]) -> str:
    return (match.group(1) or "") + "[POSTAL_CODE]"  # 郵便番号 stays: it says what was there


class Redactor:
    """Replaces personal data with placeholders; extra patterns are operator-configured regexes.

    `client_id_key` keys the hash of client ids that hold personal data (see pseudonymous_client_id).
    """

    def __init__(self, extra_patterns: Iterable[str] = (), *, client_id_key: str | None = None) -> None:
        self._extra = [re.compile(pattern) for pattern in extra_patterns]
        self._client_id_key = client_id_key.encode("utf-8") if client_id_key else None

    def redact(self, text: str) -> str:
        folded = _fold(text)
        folded = _EMAIL.sub("[EMAIL]", folded)
        folded = _CARD.sub(_card, folded)
        folded = _MY_NUMBER.sub("[MY_NUMBER]", folded)
        folded = _PHONE.sub(_phone, folded)
        folded = _POSTAL.sub(_postal, folded)
        for pattern in self._extra:
            folded = pattern.sub("[REDACTED]", folded)
        return folded

    def client_id(self, client_id: str | None) -> str | None:
        """The client id as stored: every writer uses this one, so sets and events of a client match."""
        return pseudonymous_client_id(client_id, key=self._client_id_key)


_DEFAULT = Redactor()


def pseudonymous_client_id(client_id: str | None, *, key: bytes | None = None) -> str | None:
    """A client id holding personal data (an email, a phone number) is stored as a hash, never as given.

    With a key the hash is an HMAC, which a list of known addresses cannot be matched against; without
    one it is plain SHA-256, which such a list can.
    """
    if client_id is None:
        return None
    folded = unicodedata.normalize("NFKC", client_id).strip().lower()
    if _DEFAULT.redact(folded) == _fold(folded):
        return client_id
    # Folded first, so the full-width and plain forms of one address are one client.
    data = folded.encode("utf-8")
    digest = hmac.new(key, data, hashlib.sha256) if key else hashlib.sha256(data)
    return "h:" + digest.hexdigest()[:32]
