"""What a customer's message asks, without the greeting, self-introduction, closing and signature around it.

A contact-form mail wraps one question in courtesies (いつもお世話になっております。株式会社〇〇の佐藤です。…
よろしくお願いいたします。 / Hi team, … Thanks, Kate). Those words are shared by every mail, so they pull a
mail's vector toward every other mail and away from the article it needs. Short questions pass unchanged.
"""

from __future__ import annotations

import re
import unicodedata

from indexer.analysis import Analyzer, typed_in_kana

# Shorter text is a search-box question, not a mail: nothing to strip.
MAIL_CHARS = 40
# A question this long (without a mail's courtesies) is a sentence or a mail, shorter ones keywords.
SENTENCE_CHARS = 25
# A question this long (without a mail's courtesies) tells the situation around what it asks: a long mail, a form of
# its own in the gap topics' space. Why: docs/decisions/0036-long-mails-a-form-of-their-own.md
LONG_MAIL_CHARS = 120

# Sentences end at 。！？!? or a full stop not inside a word (co.jp, 1.5); a line break ends one too, except where a
# mail's wrapped lines are read as one (_WRAPPED_SENTENCES).
_SENTENCE = r"(?:[^。！？!?{}.]|\.(?=\w))+[。！？!?.]*"
_SENTENCES = re.compile(_SENTENCE.format("\\n") + r"|\n")
_WRAPPED_SENTENCES = re.compile(_SENTENCE.format(""))
_JA_COURTESY = re.compile(
    r"^\s*("
    r"(いつも|平素より?)?(大変)?お世話に(なって)?(おります|なります)"
    r"|(はじめまして|初めまして|お疲れ様です|突然のご連絡失礼いたします)"
    r"|.{0,30}(ご担当者?様?|御中|様)\s*$"
    r"|.*(よろしく|宜しく)お願い(いたし|致し|申し上げ|し)?ます"
    r"|(お手数|恐れ入りますが|以上|何卒)"
    r")"
)
# A self-introduction: an organisation, then a surname before です / と申します (株式会社ミナトシステムの佐藤です).
# After a business named in katakana (ネイルサロン ルーチェの代表、上田です), the surname follows の, 、 or a space:
# 当サロンは完全予約制です says what the salon is.
_JA_SELF = re.compile(
    r"((株式会社|有限会社|合同会社|商事|店|舎|堂|部|課|担当|工房|事務所|」).{0,20}?"
    r"|(サロン|クリニック|スタジオ|ショップ|ストア|オフィス).{0,20}?[の、\s])"
    r"[\u4e00-\u9fff々]{1,4}\s*(です|と申します)[。.]?\s*$"
)
# An opening sentence that ends in a name and です, no organisation before it (ベーシックプランを使っている大西です。):
# only MeCab tells the name from a noun (解約の件です。).
_JA_SELF_WITHOUT_ORGANISATION = re.compile(
    r"[^。！？!?\n]*?(?<![\u4e00-\u9fff])(?P<name>[\u4e00-\u9fff]{1,4})\s*(です|と申します)[。.]\s*"
)
_EN_GREETING = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening))\b[^.,!\n]{0,30}[,.!]?\s*", re.I)
_EN_SELF = re.compile(
    r"^\s*(?i:i'm|i am|this is|my name is)\s+[A-Z][\w'-]*(\s+[A-Z][\w'-]*)?(\s+(from|at|of)\s+[^.]{1,60})?[.!]?\s*$"
)
_EN_CLOSING = re.compile(
    r"\b(thanks( (so much|a lot|in advance))?|thank you( (so much|in advance))?|many thanks|best regards|"
    r"kind regards|regards|best|cheers|sincerely)\s*[,!.]?\s*(\n|$|[A-Z])",
    re.I,
)
# A sentence that asks: a question mark, the endings of a Japanese question or request (…でしょうか, …ますか,
# 教えてください, …したいのですが), or an English question's or request's opening.
_JA_ASKING = re.compile(
    r"(か|かね|ください|下さい|ほしい(です)?|欲しい(です)?|たい(です|のですが)?|教えて|知りたい(です)?|のですが|んですが)"
    r"[。.]?\s*$"
)
_EN_ASKING = re.compile(
    r"^(how|what|where|when|why|which|who|can|could|would|is there|are there|do|does|did|should|will|may)\b"
    r"|\b(please|i would like|i'd like|i want to|we want to|i need to|we need to|is there a way|let me know|"
    r"wondering|help me)\b",
    re.I,
)
_SENTENCE_ENDS = ("。", ".", "?", "？", "!", "！")
_CONTACT = re.compile(r"@|\d{2,4}-\d{2,4}-\d{3,4}|\+\d")


def core_question(text: str) -> str:
    """The message less its greeting, self-introduction, closing and signature; short text as it is."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if len(folded) < MAIL_CHARS:
        return text
    folded = _cut_english_closing(_EN_GREETING.sub("", folded, count=1))
    kept = [s.strip() for s in _SENTENCES.findall(folded) if s.strip() and not _is_courtesy(s.strip())]
    while kept and len(kept[-1]) <= 12 and not kept[-1].endswith(_SENTENCE_ENDS):
        kept.pop()  # a name left alone on the last line
    core = " ".join(kept)
    return core if len(core) >= len(folded) // 4 else text


def what_it_asks(question: str) -> str:
    """A long mail's question (`core_question`) cut to the sentences that ask, each with the one before it (どうすれば
    よいでしょうか needs what it is about); the question as it is when it is short or no sentence asks.

    For reading, not for search: searched whole, a mail's story is evidence of what it is about.
    Why: docs/decisions/0045-long-mails-are-searched.md
    """
    if len(question) < LONG_MAIL_CHARS:
        return question
    sentences = [s.strip() for s in _WRAPPED_SENTENCES.findall(question) if s.strip()]
    asking = [i for i, sentence in enumerate(sentences) if _asks(sentence)]
    kept = sorted({j for i in asking for j in (i - 1, i) if j >= 0})
    return " ".join(sentences[j] for j in kept) or question


def _asks(sentence: str) -> bool:
    return sentence.endswith(("?", "？")) or bool(_JA_ASKING.search(sentence) or _EN_ASKING.search(sentence))


def without_self_introduction(question: str, analyzer: Analyzer) -> str:
    """The question less an opening sentence that introduces its writer (大学生の藤田です。), which `core_question`
    keeps where no organisation names them, when the `analyzer` reads that name as a person's."""
    match = _JA_SELF_WITHOUT_ORGANISATION.match(question)
    if match and match.end() < len(question) and match.group("name") in analyzer.person_names(match.group(0)):
        return question[match.end() :]
    return question


def _is_courtesy(sentence: str) -> bool:
    if _JA_COURTESY.match(sentence) or _JA_SELF.search(sentence) or _EN_SELF.match(sentence):
        return True
    # A short line with a phone number or an address in it is a signature.
    return len(sentence) <= 60 and _CONTACT.search(sentence) is not None and not sentence.rstrip().endswith(("?", "？"))


def _cut_english_closing(text: str) -> str:
    """Everything from a closing ("Thanks, Kate") in the last part of the message on is signature."""
    tail_start = len(text) * 2 // 3
    for match in _EN_CLOSING.finditer(text):
        if match.start() >= tail_start:
            return text[: match.start()]
    return text


def kana_keywords(question: str) -> bool:
    """Whether a question (without a mail's courtesies) is keywords typed in kana without conversion.

    Only these are converted to the help center's words: in a sentence, a chunk of kana is mostly grammar
    (よろしいでしょうか), not a word to convert. Why: docs/decisions/0033-colloquial-and-kana-questions.md
    """
    return len(question) < SENTENCE_CHARS and typed_in_kana(question)
