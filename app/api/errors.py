"""The one place where domain errors become HTTP errors: every error body is {error, message[, detail]}."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.deps import AccessError
from app.api.rate_limit import RateLimited
from app.events import EventError, UnknownQueryError
from app.reports.gaps.live_topics import TopicError
from app.reports.period import ReportError
from app.suggestions import IndexUnavailableError, InvalidQueryError, SuggestError
from app.tickets import InvalidTicketsError, TicketImportError, UnsupportedFormatError

logger = logging.getLogger("deflect")


def _error(status_code: int, code: str, message: str, detail: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status_code)


# Domain errors answered with their message alone. A subclass listed here wins over its base class.
_PLAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    InvalidQueryError: (422, "invalid_query"),
    IndexUnavailableError: (503, "index_unavailable"),
    SuggestError: (400, "suggest_failed"),
    UnsupportedFormatError: (415, "unsupported_media_type"),
    TicketImportError: (422, "invalid_ticket_import"),
    TopicError: (404, "unknown_topic"),
    ReportError: (422, "invalid_report_request"),
}


def _plain_handler(status: int, code: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        return _error(status, code, str(exc))

    return handle


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors become HTTP errors here, and only here; every error body is {error, message}."""
    for error_class, (status, code) in _PLAIN_ERRORS.items():
        app.add_exception_handler(error_class, _plain_handler(status, code))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        first = detail[0] if detail else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"] if part != "body")
        return _error(422, "invalid_request", f"{where}: {first['msg']}" if where else str(first["msg"]), detail)

    @app.exception_handler(EventError)
    async def events_refused(_request: Request, exc: EventError) -> JSONResponse:
        status, code = (404, "unknown_query") if isinstance(exc, UnknownQueryError) else (422, "invalid_event")
        detail = [{"index": index, "msg": reason} for index, reason in sorted(exc.problems.items())]
        return _error(status, code, f"{exc}; nothing in this batch was stored", detail)

    @app.exception_handler(InvalidTicketsError)
    async def tickets_refused(_request: Request, exc: InvalidTicketsError) -> JSONResponse:
        return _error(422, "invalid_tickets", f"{exc}; nothing was imported", exc.problems)

    @app.exception_handler(RateLimited)
    async def rate_limited(_request: Request, exc: RateLimited) -> JSONResponse:
        response = _error(429, "rate_limited", str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(OperationalError)
    async def database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        logger.error("database unavailable: %s", exc.orig)
        response = _error(503, "database_unavailable", "the database is unavailable; nothing was stored, retry later")
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(AccessError)
    async def access_denied(_request: Request, exc: AccessError) -> JSONResponse:
        return _error(exc.status_code, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = _error(exc.status_code, code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
