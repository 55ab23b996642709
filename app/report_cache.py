"""A small cache for expensive reports, invalidated by any new suggestion set or event."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

_VERSION = "SELECT (SELECT COUNT(*) FROM suggestion_set), (SELECT COUNT(*) FROM event)"


class ReportCache:
    """Reports keyed by their parameters and the data's version (row counts: cheap, and any write moves them)."""

    def __init__(self, size: int = 32) -> None:
        self._entries: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, session: Session, key: tuple[Any, ...]) -> dict[str, Any] | None:
        versioned = (*key, *session.execute(text(_VERSION)).one())
        with self._lock:
            report = self._entries.get(versioned)
            if report is not None:
                self._entries.move_to_end(versioned)
            return report

    def put(self, session: Session, key: tuple[Any, ...], report: dict[str, Any]) -> None:
        versioned = (*key, *session.execute(text(_VERSION)).one())
        with self._lock:
            self._entries[versioned] = report
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
