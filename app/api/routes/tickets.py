"""Helpdesk tickets, imported as a gap report signal (secret key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from app.api.deps import LiveTopicsDep, RawBodyDep, SecretAccess, SessionDep, SettingsDep, SuggesterDep
from app.api.schemas import TicketImportResponse
from app.tickets import format_of_media_type, import_tickets, parse_timezone, read_tickets

router = APIRouter(prefix="/v1/tickets", tags=["tickets"], dependencies=[SecretAccess])

_TICKET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": ["string", "integer"], "description": "the helpdesk's ticket id (re-imports skip it)"},
        "subject": {"type": "string"},
        "body": {"type": "string", "description": "also read from description, description_text, content, ..."},
        "created_at": {"type": "string", "description": "ISO 8601; without a zone, in `timezone`"},
    },
    "required": ["created_at"],
}
_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"type": "array", "items": _TICKET_SCHEMA},
                        {
                            "type": "object",
                            "properties": {"tickets": {"type": "array", "items": _TICKET_SCHEMA}},
                            "required": ["tickets"],
                        },
                    ]
                }
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "id,subject,body,created_at\n1042,年末調整,年末調整はできますか,2026-01-05T10:00:00+09:00\n",
            },
        },
    }
}


@router.post("/import", response_model=TicketImportResponse, openapi_extra=_REQUEST_BODY)
def import_helpdesk_tickets(
    body: RawBodyDep,
    session: SessionDep,
    settings: SettingsDep,
    suggester: SuggesterDep,
    live_topics: LiveTopicsDep,
    content_type: Annotated[str | None, Header()] = None,
    timezone: Annotated[
        str, Query(max_length=64, description="zone of timestamps without one: UTC, +09:00 or Asia/Tokyo")
    ] = "UTC",
) -> TicketImportResponse:
    """Import tickets from a helpdesk export as a signal of the gap report.

    Send a JSON list of tickets (or `{"tickets": [...]}`, as the Zendesk API lists them) as
    `application/json`, or a CSV with a header row as `text/csv`. Each ticket needs `created_at` and
    a `subject` or a `body`. The text is redacted before it is stored, and a ticket already imported
    (same helpdesk `id`, or the same text and time) is skipped. An export with a bad row is refused
    whole with a 422 naming the rows; nothing of it is stored. Larger exports: `deflect import tickets`.
    """
    tickets = read_tickets(body, format=format_of_media_type(content_type), default_timezone=parse_timezone(timezone))
    receipt = import_tickets(
        session,
        tickets=tickets,
        embedder=suggester.embedder,
        redactor=suggester.redactor,
        retention_days=settings.retention_days,
        assign_topic=live_topics.assign,
    )
    return TicketImportResponse(
        read=receipt.read,
        imported=receipt.imported,
        duplicates=receipt.duplicates,
        expired=receipt.expired,
        assigned=receipt.assigned,
    )
