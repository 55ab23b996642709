"""Helpdesk tickets as a gap signal: read an export (CSV or JSON), redact, embed, store once.

What is read: a CSV with a header row, or JSON (a list of tickets, `{"tickets": [...]}` as the Zendesk
and Freshdesk APIs list them, one ticket object, or one JSON object per line as Zendesk's full export
writes them). Each ticket needs `created_at` and a `subject` or a `body`; common column names are
understood (Zendesk's `description`, Freshdesk's `description_text`, `件名` / `本文`, ...) and HTML bodies
become text. Timestamps are ISO 8601 (with or without a zone: a naive one is in `default_timezone`),
`2026/01/05 10:00`, RFC 2822, or epoch seconds.

A file is imported whole or not at all: every bad row is reported (`InvalidTicketsError.problems`)
before anything is stored. Subject and body are redacted (app.privacy) before they reach the database
and are embedded as a question is, so tickets cluster with suggestion sets across languages. A ticket
is stored once: its id is the helpdesk's ticket id when the export has one, else a hash of its
(redacted) content and time, so importing the same file again adds nothing. Tickets older than the
retention period are not stored at all.

Errors: `TicketImportError` is the base; `InvalidTicketsError` lists the rows that cannot be imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import hashlib
import io
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db.models import HelpdeskTicket, packed_vector
from app.privacy import Redactor
from app.reports.period import EARLIEST, LATEST
from indexer.analysis import normalize
from indexer.embedders import Embedder
from indexer.importers import html_to_markdown
from retrieval.inquiry import core_question

Vectors = npt.NDArray[np.float32]
TicketFormat = Literal["csv", "json"]

# Header names (folded: lower case, spaces and hyphens as underscores) understood for each field, preferred first.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "ticket_id", "ticket_number", "ticket_no", "チケットid", "チケット番号", "問い合わせ番号"),
    "subject": ("subject", "raw_subject", "title", "件名", "タイトル"),
    "body": (
        "body",
        "description_text",
        "description",
        "content",
        "text",
        "message",
        "本文",
        "内容",
        "問い合わせ内容",
        "お問い合わせ内容",
    ),
    "created_at": (
        "created_at",
        "created",
        "created_time",
        "creation_date",
        "submitted_at",
        "date",
        "timestamp",
        "作成日時",
        "受付日時",
        "登録日時",
        "日時",
    ),
    "locale": ("locale", "language", "lang", "言語"),
}
MAX_ID_CHARS = 200
MAX_SUBJECT_CHARS = 1_000
MAX_BODY_CHARS = 20_000  # a ticket body longer than this is cut (quoted mail threads, logs)
# A ticket is embedded from the start of its question: that says what it is about (quoted threads and logs follow).
EMBEDDED_CHARS = 2_000
MAX_PROBLEMS = 20
_FUTURE_SLACK_SECONDS = 86400
_HTML_TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*\b[^>]*|/[a-zA-Z][a-zA-Z0-9]*\s*)>")
_SLASHED_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(.*)$")


class TicketImportError(Exception):
    """Base of ticket import errors."""


class UnsupportedFormatError(TicketImportError):
    """The export is in neither of the formats read (CSV, JSON)."""


class InvalidTicketsError(TicketImportError):
    """The export cannot be imported; `problems` names each bad row: {"row", "line"?, "msg"}."""

    def __init__(self, message: str, problems: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class TicketRow:
    """One ticket as read from an export, before redaction."""

    external_id: str | None
    subject: str
    body: str
    created_at: dt.datetime
    locale: str | None = None


@dataclass
class TicketImportReceipt:
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    expired: int = 0
    assigned: int = 0


def parse_timezone(name: str) -> dt.tzinfo:
    """`UTC`, an offset such as `+09:00`, or an IANA name such as `Asia/Tokyo`."""
    if name.upper() in ("UTC", "Z"):
        return dt.UTC
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name.strip())
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3))
        if minutes < 24 * 60:
            return dt.timezone(sign * dt.timedelta(minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise TicketImportError(f"unknown time zone {name!r}: give UTC, an offset like +09:00, or Asia/Tokyo") from exc


def detect_format(data: bytes, *, name: str = "") -> TicketFormat:
    """CSV or JSON, from the file name's suffix, else from the first character."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix in ("csv", "tsv"):
        return "csv"
    if suffix in ("json", "jsonl", "ndjson"):
        return "json"
    return "json" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{") else "csv"


def format_of_media_type(media_type: str | None) -> TicketFormat:
    """The format a request's Content-Type names: JSON (and JSON Lines) or CSV."""
    essence = (media_type or "").split(";", 1)[0].strip().lower()
    if essence in ("application/json", "application/x-ndjson", "application/jsonl") or essence.endswith("+json"):
        return "json"
    if essence in ("text/csv", "application/csv"):
        return "csv"
    raise UnsupportedFormatError(f"send tickets as application/json or text/csv, not {essence or 'no Content-Type'}")


def read_tickets(
    data: bytes, *, format: TicketFormat, default_timezone: dt.tzinfo = dt.UTC, now: float | None = None
) -> list[TicketRow]:
    """Every ticket of an export, or InvalidTicketsError naming the bad rows (nothing is half read)."""
    now = time.time() if now is None else now
    records = _csv_records(data) if format == "csv" else _json_records(data)
    tickets: list[TicketRow] = []
    problems: list[dict[str, Any]] = []
    for row, line, record in records:
        try:
            tickets.append(_ticket(record, default_timezone=default_timezone, now=now))
        except ValueError as exc:
            problems.append({"row": row, **({"line": line} if line else {}), "msg": str(exc)})
    if problems:
        where = f"line {problems[0]['line']}" if "line" in problems[0] else f"ticket {problems[0]['row']}"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidTicketsError(
            f"{len(problems)} of {len(tickets) + len(problems)} tickets cannot be imported; "
            f"{where}: {problems[0]['msg']}{more}",
            problems[:MAX_PROBLEMS],
        )
    if not tickets:
        raise InvalidTicketsError("the export holds no tickets")
    return tickets


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp932"):  # Japanese spreadsheets still save CSV as Shift_JIS
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidTicketsError("the export is neither UTF-8 nor Shift_JIS text")


def _fold(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


Record = tuple[int, int | None, dict[str, Any]]  # (row, line or None, fields by folded name)


def _csv_records(data: bytes) -> Iterator[Record]:
    text = _decode(data).replace("\x00", "")
    header = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = [_fold(name) for name in next(reader)]
    except StopIteration:
        raise InvalidTicketsError("the CSV is empty") from None
    except csv.Error as exc:
        raise InvalidTicketsError(f"line 1: not a CSV header ({exc})") from exc
    missing = [field for field in ("created_at",) if not set(FIELD_NAMES[field]) & set(names)]
    if not set(FIELD_NAMES["subject"] + FIELD_NAMES["body"]) & set(names):
        missing.insert(0, "subject or body")
    if missing:
        raise InvalidTicketsError(
            f"the CSV header has no {' and no '.join(missing)} column "
            f"(found: {', '.join(names) or 'nothing'}; expected e.g. id, subject, body or description, created_at)"
        )
    row = 0
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidTicketsError(
                f"line {line}: not valid CSV ({exc})", [{"row": row + 1, "line": line, "msg": str(exc)}]
            ) from exc
        if any(value.strip() for value in values):
            row += 1
            if len(values) > len(names):
                yield row, line, {"_error": f"{len(values)} cells, but the header has {len(names)} columns"}
            else:
                yield row, line, dict(zip(names, values, strict=False))
        line = reader.line_num + 1


def _json_records(data: bytes) -> Iterator[Record]:
    text = _decode(data)
    try:
        parsed: Any = json.loads(text)
        lines = False
    except RecursionError:
        raise InvalidTicketsError("not JSON this program reads: nested too deeply") from None
    except json.JSONDecodeError as exc:
        if not exc.msg.startswith("Extra data"):
            raise InvalidTicketsError(f"not JSON: {exc}") from exc
        lines = True  # one object per line (JSON Lines)
    if lines:
        row = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            row += 1
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield row, number, {"_error": f"not JSON ({exc.msg})"}
                continue
            except RecursionError:
                yield row, number, {"_error": "not JSON this program reads: nested too deeply"}
                continue
            yield row, number, _json_fields(item)
        return
    items = _json_items(parsed)
    for row, item in enumerate(items, start=1):
        yield row, None, _json_fields(item)


def _json_items(parsed: Any) -> list[Any]:
    if isinstance(parsed, list):
        return parsed
    if isinstance(parsed, dict):
        for key in ("tickets", "results", "data"):
            if isinstance(parsed.get(key), list):
                return list(parsed[key])
        if {_fold(str(k)) for k in parsed} & set(FIELD_NAMES["subject"] + FIELD_NAMES["body"]):
            return [parsed]  # a single ticket
    raise InvalidTicketsError('expected a list of tickets, or an object with a "tickets" list')


def _json_fields(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {"_error": f"a ticket must be an object, not {type(item).__name__}"}
    return {_fold(str(key)): value for key, value in item.items()}


def _pick(record: dict[str, Any], field: str) -> Any:
    for name in FIELD_NAMES[field]:
        value = record.get(name)
        if value is not None and value != "":
            return value
    return None


def _text(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{field} must be text, not {type(value).__name__}")
    # No NUL (PostgreSQL refuses it) and no lone surrogate (JSON allows "\ud800"; no database stores it).
    text = str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if _HTML_TAG.search(text):
        text = html_to_markdown(text)
    return text.strip()[:limit]


def _ticket(record: dict[str, Any], *, default_timezone: dt.tzinfo, now: float) -> TicketRow:
    if "_error" in record:
        raise ValueError(record["_error"])
    subject = _text(_pick(record, "subject"), "subject", MAX_SUBJECT_CHARS)
    body = _text(_pick(record, "body"), "body", MAX_BODY_CHARS)
    if not subject and not body:
        raise ValueError("no subject and no body")
    raw_time = _pick(record, "created_at")
    if raw_time is None:
        raise ValueError("no created_at")
    created_at = parse_time(raw_time, default_timezone=default_timezone)
    if created_at.timestamp() > now + _FUTURE_SLACK_SECONDS:
        raise ValueError(f"created_at {raw_time!r} is in the future")
    external_id = _text(_pick(record, "id"), "id", MAX_ID_CHARS + 1) or None
    if external_id is not None and len(external_id) > MAX_ID_CHARS:
        raise ValueError(f"id is longer than {MAX_ID_CHARS} characters")
    locale = _text(_pick(record, "locale"), "locale", 100).split("-")[0].split("_")[0].lower() or None
    return TicketRow(external_id, subject, body, created_at, locale if locale and len(locale) <= 16 else None)


def parse_time(value: Any, *, default_timezone: dt.tzinfo = dt.UTC) -> dt.datetime:
    """An aware datetime from ISO 8601 (zone optional), `2026/01/05 10:00`, RFC 2822 or epoch seconds."""
    moment: dt.datetime | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / 1000 if abs(value) > 1e11 else float(value)  # epoch milliseconds
        if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():  # as report periods
            raise ValueError(f"created_at {value!r} is not a time between 1970 and 3000")
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
            return parse_time(float(text))  # epoch seconds (or milliseconds) written as text
        slashed = _SLASHED_DATE.match(text)
        if slashed:
            year, month, day, rest = slashed.groups()
            text = f"{year}-{int(month):02d}-{int(day):02d}{rest}"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            try:
                moment = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                moment = None
    if moment is None:
        raise ValueError(f"created_at {value!r} is not a time (ISO 8601, e.g. 2026-01-05T10:00:00+09:00)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_timezone)
    try:
        moment = moment.astimezone(dt.UTC)
    except (OverflowError, OSError):
        moment = dt.datetime.min.replace(tzinfo=dt.UTC)
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"created_at {value!r} is not a time between 1970 and 3000")
    return moment


@dataclass(frozen=True)
class _Prepared:
    ticket_id: str
    ticket: TicketRow
    subject: str
    body: str


def import_tickets(
    session: Session,
    *,
    tickets: Sequence[TicketRow],
    embedder: Embedder,
    redactor: Redactor,
    retention_days: float,
    assign_topic: Callable[[Vectors], str | None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    now: float | None = None,
) -> TicketImportReceipt:
    """Store the tickets not seen before, redacted and embedded, in one transaction; returns what happened.

    `assign_topic` gives a new ticket's live gap topic, if any (app.reports.gaps.live_topics.LiveTopics.assign).
    """
    now = time.time() if now is None else now
    receipt = TicketImportReceipt(read=len(tickets))
    cutoff = now - retention_days * 86400
    prepared: dict[str, _Prepared] = {}
    for ticket in tickets:
        if ticket.created_at.timestamp() < cutoff:
            receipt.expired += 1  # its text would be purged at once: retention is a promise, not a schedule
            continue
        subject, body = redactor.redact(ticket.subject), redactor.redact(ticket.body)
        ticket_id = ticket.external_id or _content_id(subject, body, ticket.created_at)
        if ticket_id in prepared:
            receipt.duplicates += 1
            continue
        prepared[ticket_id] = _Prepared(ticket_id, ticket, subject, body)
    existing = _existing_ids(session, list(prepared))
    receipt.duplicates += len(existing)
    new = [p for ticket_id, p in prepared.items() if ticket_id not in existing]
    rows: list[dict[str, Any]] = []
    for done, item in enumerate(new, start=1):
        # Without a mail's greeting and signature, as a suggestion set's question is: one need's tickets and form
        # questions then meet in the gap topics. Why: docs/decisions/0046-tickets-embedded-by-their-question.md
        question = normalize(core_question(f"{item.subject}\n{item.body}"))
        vector = embedder.embed_queries([question[:EMBEDDED_CHARS]])[0]
        topic_id = assign_topic(vector) if assign_topic else None
        receipt.assigned += topic_id is not None
        rows.append(
            {
                "id": item.ticket_id,
                "created_at": item.ticket.created_at,
                "created_epoch": item.ticket.created_at.timestamp(),
                "imported_epoch": now,
                "locale": item.ticket.locale,
                "subject": item.subject or None,
                "body": item.body or None,
                "vector": packed_vector(vector),
                "gap_topic_id": topic_id,
            }
        )
        if on_progress:
            on_progress(done, len(new))
    try:
        for start in range(0, len(rows), 500):
            session.execute(insert(HelpdeskTicket), rows[start : start + 500])
        session.commit()
    except IntegrityError:
        # A concurrent import of the same tickets won the race: store what it did not.
        session.rollback()
        taken = _existing_ids(session, [row["id"] for row in rows])
        rows = [row for row in rows if row["id"] not in taken]
        receipt.duplicates += len(taken)
        receipt.assigned = sum(row["gap_topic_id"] is not None for row in rows)
        for start in range(0, len(rows), 500):
            session.execute(insert(HelpdeskTicket), rows[start : start + 500])
        session.commit()
    receipt.imported = len(rows)
    return receipt


def _content_id(subject: str, body: str, created_at: dt.datetime) -> str:
    """A ticket without a helpdesk id is the same ticket when its (redacted) text and time are."""
    digest = hashlib.sha256("\x1f".join([created_at.isoformat(), subject, body]).encode("utf-8")).hexdigest()
    return f"sha256:{digest[:40]}"


def _existing_ids(session: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(session.exec(select(HelpdeskTicket.id).where(col(HelpdeskTicket.id).in_(chunk))))
    return found
