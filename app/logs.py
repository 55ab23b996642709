"""Logs as plain text on a terminal and as JSON lines elsewhere, each line carrying the id of its request."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextvars import ContextVar
from typing import Literal, TextIO

LogFormat = Literal["auto", "json", "text"]

# Set by the request middleware; thread-pool handlers see it too (anyio copies the context).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Plain lines, for a terminal; the request id closes a line written inside a request."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = REQUEST_ID.get()
        return f"{line} request_id={request_id}" if request_id else line


def configure_logging(log_format: LogFormat = "auto", level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every logger (uvicorn's too) to one handler on stderr: "auto" writes plain text when stderr is a
    terminal and JSON lines otherwise."""
    stream = stream or sys.stderr
    if log_format == "auto":
        log_format = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    # On the handler too: libraries such as bm25s set their own logger to DEBUG, which passes the root's level.
    handler.setLevel(level)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # alembic names each of its plugins at info on every start: nothing an operator acts on.
    logging.getLogger("alembic.runtime.plugins").setLevel(max(level, logging.WARNING))
