import datetime as dt
import json

import pytest
from sqlmodel import Session, select

from app.db.models import HelpdeskTicket, packed_vector
from app.privacy import Redactor
from app.retention import purge_expired_tickets
from app.tickets import (
    InvalidTicketsError,
    TicketImportError,
    TicketImportReceipt,
    detect_format,
    format_of_media_type,
    import_tickets,
    parse_time,
    parse_timezone,
    read_tickets,
)
from tests.fakes import HashingEmbedder

JST = dt.timezone(dt.timedelta(hours=9))
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp()


def test_csv_with_helpdesk_headers_reads_every_ticket_with_times_in_utc() -> None:
    data = (
        "Ticket ID,Subject,Description,Created at\n"
        '1042,年末調整,"年末調整の書類は\nどこで作れますか",2026-01-05 10:00\n'
        "1043,Refund,I was charged twice,2026-01-06T10:00:00+09:00\n"
    ).encode()
    tickets = read_tickets(data, format="csv", default_timezone=JST)
    assert [t.external_id for t in tickets] == ["1042", "1043"]
    assert tickets[0].body == "年末調整の書類は\nどこで作れますか"
    assert tickets[0].created_at == dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)  # naive: in the given zone
    assert tickets[1].created_at == dt.datetime(2026, 1, 6, 1, 0, tzinfo=dt.UTC)  # its own zone wins


def test_csv_in_shift_jis_with_japanese_headers_reads() -> None:
    data = "件名,本文,作成日時\n請求書の宛名,宛名を変更したい,2026/01/05 10:00\n".encode("cp932")
    [ticket] = read_tickets(data, format="csv")
    assert (ticket.subject, ticket.body) == ("請求書の宛名", "宛名を変更したい")
    assert ticket.created_at == dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
    assert ticket.external_id is None


@pytest.mark.parametrize(
    "payload",
    [
        [{"subject": "Help", "body": "My invoice is wrong", "created_at": "2026-01-05T10:00:00Z"}],
        {"tickets": [{"id": 7, "subject": "Help", "description": "My invoice is wrong", "created_at": 1767607200}]},
        {"subject": "Help", "description_text": "My invoice is wrong", "created_at": "2026-01-05T10:00:00+00:00"},
    ],
    ids=["list", "zendesk-api", "single-object"],
)
def test_json_variants_read_the_same_ticket(payload: object) -> None:
    [ticket] = read_tickets(json.dumps(payload).encode(), format="json")
    assert (ticket.subject, ticket.body) == ("Help", "My invoice is wrong")
    assert ticket.created_at == dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def test_json_lines_export_reads_one_ticket_per_line_and_html_becomes_text() -> None:
    data = (
        b'{"id": 1, "subject": "A", "description": "<p>My <b>printer</b> is on fire</p>", '
        b'"created_at": "2026-01-05T10:00:00Z"}\n\n'
        b'{"id": 2, "subject": "B", "created_at": "2026-01-06"}\n'
    )
    tickets = read_tickets(data, format="json")
    assert [t.external_id for t in tickets] == ["1", "2"]
    assert tickets[0].body == "My printer is on fire"
    assert tickets[1].created_at == dt.datetime(2026, 1, 6, tzinfo=dt.UTC)


def test_bad_rows_are_all_named_and_nothing_is_read() -> None:
    data = b"subject,body,created_at\nok,fine,2026-01-05\n,,2026-01-05\nC,D,not a date\nE,F,2999-01-01\n"
    with pytest.raises(InvalidTicketsError) as refused:
        read_tickets(data, format="csv", now=NOW)
    assert [(p["row"], p["line"]) for p in refused.value.problems] == [(2, 3), (3, 4), (4, 5)]
    assert "no subject and no body" in refused.value.problems[0]["msg"]
    assert "'not a date'" in refused.value.problems[1]["msg"]
    assert "future" in refused.value.problems[2]["msg"]
    assert str(refused.value).startswith("3 of 4 tickets cannot be imported; line 3: no subject and no body")


def test_a_json_ticket_of_the_wrong_shape_is_named_by_position() -> None:
    data = json.dumps([{"subject": "ok", "created_at": "2026-01-05"}, {"subject": {"x": 1}, "created_at": 1}, 5])
    with pytest.raises(InvalidTicketsError) as refused:
        read_tickets(data.encode(), format="json")
    assert [p["row"] for p in refused.value.problems] == [2, 3]
    assert "line" not in refused.value.problems[0]
    assert "subject must be text" in refused.value.problems[0]["msg"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"subject,body\nA,B\n", "no created_at column"),
        (b"when,what\n2026-01-05,x\n", "no subject or body and no created_at column"),
        (b"{not json", "not JSON"),
        (b'{"count": 3}', 'expected a list of tickets, or an object with a "tickets" list'),
        (b"[]", "no tickets"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_unreadable_exports_say_why(data: bytes, message: str) -> None:
    with pytest.raises(InvalidTicketsError, match=message):
        read_tickets(data, format=detect_format(data))


def test_formats_and_zones_are_recognised() -> None:
    assert detect_format(b"a,b", name="export.JSON") == "json"
    assert detect_format(b'  [{"a": 1}]') == "json"
    assert detect_format(b"subject,body") == "csv"
    assert format_of_media_type("text/csv; charset=utf-8") == "csv"
    assert format_of_media_type("application/x-ndjson") == "json"
    with pytest.raises(TicketImportError, match="not text/plain"):
        format_of_media_type("text/plain")
    assert parse_timezone("+09:00").utcoffset(None) == dt.timedelta(hours=9)
    assert parse_timezone("Asia/Tokyo").utcoffset(dt.datetime(2026, 1, 1)) == dt.timedelta(hours=9)
    with pytest.raises(TicketImportError, match="unknown time zone"):
        parse_timezone("Mars/Olympus")
    assert parse_time("Mon, 05 Jan 2026 10:00:00 +0900") == dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
    assert parse_time("1767607200000") == dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)  # epoch milliseconds


def _import(session: Session, data: bytes, *, now: float = NOW, retention_days: float = 90) -> TicketImportReceipt:
    return import_tickets(
        session,
        tickets=read_tickets(data, format=detect_format(data), now=now),
        embedder=HashingEmbedder(),
        redactor=Redactor(),
        retention_days=retention_days,
        now=now,
    )


def test_personal_data_is_redacted_before_it_is_stored(session: Session) -> None:
    data = json.dumps(
        [
            {
                "id": "zd-1",
                "subject": "連絡先 taro.yamada@example.co.jp",
                "body": "電話は090-1234-5678、カードは4111 1111 1111 1111です",
                "created_at": "2026-02-20T10:00:00+09:00",
            }
        ]
    ).encode()
    _import(session, data)
    stored = session.get(HelpdeskTicket, "zd-1")
    assert stored is not None and stored.vector is not None
    assert stored.subject == "連絡先 [EMAIL]"
    assert stored.body == "電話は[PHONE]、カードは[CARD]です"
    assert stored.created_at.astimezone(dt.UTC) == dt.datetime(2026, 2, 20, 1, 0, tzinfo=dt.UTC)


def test_a_ticket_is_embedded_as_its_question_without_the_mails_greeting_and_signature(session: Session) -> None:
    question = "パスワードを忘れてログインできません。再設定の方法を教えてください。"
    body = f"いつもお世話になっております。\n{question}\nよろしくお願いいたします。\n山田 090-1234-5678"
    data = json.dumps([{"id": "zd-9", "subject": "", "body": body, "created_at": "2026-02-20T10:00:00+09:00"}])
    _import(session, data.encode())
    stored = session.get(HelpdeskTicket, "zd-9")
    assert stored is not None and stored.vector is not None
    # The vector of its two sentences alone, as the same mail's suggestion set would have it.
    alone = "パスワードを忘れてログインできません。 再設定の方法を教えてください。"
    assert stored.vector == packed_vector(HashingEmbedder().embed_queries([alone])[0])


def test_importing_the_same_export_again_adds_nothing(session: Session) -> None:
    data = (
        "id,subject,body,created_at\n"
        "1,請求書,宛名を変更したい,2026-02-20\n"
        ",年末調整,書類を作りたい,2026-02-21\n"
        ",年末調整,書類を作りたい,2026-02-21\n"  # the same ticket twice in one export, no id: one ticket
    ).encode()
    first = _import(session, data)
    again = _import(session, data)
    assert (first.imported, first.duplicates) == (2, 1)
    assert (again.imported, again.duplicates) == (0, 3)
    ids = sorted(session.exec(select(HelpdeskTicket.id)))
    assert len(ids) == 2 and ids[0] == "1" and ids[1].startswith("sha256:")


def test_tickets_older_than_the_retention_period_are_not_stored(session: Session) -> None:
    data = b"subject,body,created_at\nold,ticket,2025-01-01\nnew,ticket,2026-02-27\n"
    receipt = _import(session, data, retention_days=30)
    assert (receipt.imported, receipt.expired) == (1, 1)
    assert [t.subject for t in session.exec(select(HelpdeskTicket))] == ["new"]


def test_retention_purges_ticket_text_and_vector_but_keeps_the_ticket(session: Session) -> None:
    _import(session, b"id,subject,body,created_at\n9,subject,body,2026-02-27\n")
    later = dt.datetime(2026, 2, 27, tzinfo=dt.UTC).timestamp() + 91 * 86400
    assert purge_expired_tickets(session, retention_days=90, now=later - 2 * 86400) == 0
    assert purge_expired_tickets(session, retention_days=90, now=later) == 1
    session.expire_all()
    stored = session.get(HelpdeskTicket, "9")
    assert stored is not None and (stored.subject, stored.body, stored.vector) == (None, None, None)
