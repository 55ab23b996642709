import datetime as dt
import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from app.api.main import create_app
from app.db.models import HelpdeskTicket
from app.settings import Settings
from tests.fakes import HashingEmbedder

YESTERDAY = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat(timespec="seconds")
TICKETS = [
    {"id": 101, "subject": "請求書の宛名", "description": "宛名を変更したい。a.b@example.com", "created_at": YESTERDAY},
    {"id": 102, "subject": "Refund", "description": "I was charged twice", "created_at": YESTERDAY},
]


def test_import_needs_a_secret_key(settings: Settings) -> None:
    keyed = settings.model_copy(update={"secret_keys": ["sk_test"], "publishable_keys": ["pk_test"]})
    with TestClient(create_app(keyed, embedder=HashingEmbedder())) as client:
        missing = client.post("/v1/tickets/import", json=TICKETS)
        assert missing.status_code == 401 and missing.json()["error"] == "missing_key"
        publishable = client.post("/v1/tickets/import", json=TICKETS, headers={"Authorization": "Bearer pk_test"})
        assert publishable.status_code == 403 and publishable.json()["error"] == "insufficient_scope"
        secret = client.post("/v1/tickets/import", json=TICKETS, headers={"Authorization": "Bearer sk_test"})
        assert secret.status_code == 200 and secret.json()["imported"] == 2


def test_json_import_stores_redacted_tickets_once(client: TestClient, engine: Engine) -> None:
    first = client.post("/v1/tickets/import", json={"tickets": TICKETS})
    assert first.status_code == 200
    assert first.json() == {"read": 2, "imported": 2, "duplicates": 0, "expired": 0, "assigned": 0}
    again = client.post("/v1/tickets/import", json={"tickets": TICKETS})
    assert again.status_code == 200 and again.json()["imported"] == 0 and again.json()["duplicates"] == 2
    with Session(engine) as session:
        stored = session.exec(select(HelpdeskTicket).order_by(HelpdeskTicket.id)).all()
    assert [t.id for t in stored] == ["101", "102"]
    assert stored[0].body == "宛名を変更したい。[EMAIL]"


def test_csv_upload_with_naive_times_in_a_given_zone(client: TestClient, engine: Engine) -> None:
    day = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).date()
    body = f"subject,body,created_at\n年末調整,書類を作りたい,{day} 09:00\n".encode()
    response = client.post(
        "/v1/tickets/import",
        content=body,
        params={"timezone": "Asia/Tokyo"},
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 200 and response.json()["imported"] == 1
    with Session(engine) as session:
        [stored] = session.exec(select(HelpdeskTicket)).all()
    assert stored.created_epoch == dt.datetime.combine(day, dt.time(0, 0), dt.UTC).timestamp()  # 09:00 in Tokyo


def test_an_export_with_a_bad_row_is_refused_whole_naming_the_row(client: TestClient, engine: Engine) -> None:
    body = b"subject,body,created_at\nok,fine,2026-11-01\nbad,time,yesterday\n"
    response = client.post("/v1/tickets/import", content=body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 422
    refused = response.json()
    assert refused["error"] == "invalid_tickets"
    assert "line 3" in refused["message"] and "nothing was imported" in refused["message"]
    assert refused["detail"] == [
        {"row": 2, "line": 3, "msg": "created_at 'yesterday' is not a time (ISO 8601, e.g. 2026-01-05T10:00:00+09:00)"}
    ]
    with Session(engine) as session:
        assert session.exec(select(HelpdeskTicket)).all() == []


def test_malformed_bodies_and_parameters_are_4xx(client: TestClient) -> None:
    not_json = client.post("/v1/tickets/import", content=b"{oops", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["error"] == "invalid_tickets"
    plain = client.post("/v1/tickets/import", content=b"hello", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415 and plain.json()["error"] == "unsupported_media_type"
    zone = client.post("/v1/tickets/import", json=TICKETS, params={"timezone": "Mars/Olympus"})
    assert zone.status_code == 422 and zone.json()["error"] == "invalid_ticket_import"
    surrogate = json.dumps([{"subject": "\ud800", "created_at": YESTERDAY}]).encode()
    odd = client.post("/v1/tickets/import", content=surrogate, headers={"Content-Type": "application/json"})
    assert odd.status_code == 200  # a lone surrogate is replaced, never a 500 from the database


def test_an_import_may_be_larger_than_other_bodies_up_to_its_own_limit(client: TestClient, engine: Engine) -> None:
    # ~200 tickets: over the 64 KiB limit of every other endpoint, within the import's 1 MiB.
    many = [
        {
            "id": f"T-{n}",
            "subject": f"経費精算の締め日について {n}",
            "body": "経費の申請期限を知りたいです。" * 12,
            "created_at": YESTERDAY,
        }
        for n in range(200)
    ]
    body = json.dumps(many, ensure_ascii=False).encode()
    assert 64 * 1024 < len(body) < 1024 * 1024
    accepted = client.post("/v1/tickets/import", content=body, headers={"content-type": "application/json"})
    assert accepted.status_code == 200, accepted.text
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(HelpdeskTicket)).one() == 200

    too_large = client.post(
        "/v1/tickets/import", content=b" " * (1024 * 1024 + 1), headers={"content-type": "application/json"}
    )
    assert too_large.status_code == 413
    assert too_large.json()["error"] == "body_too_large"
    # Every other endpoint keeps its own, smaller limit.
    assert client.post("/v1/suggest", content=body, headers={"content-type": "application/json"}).status_code == 413
