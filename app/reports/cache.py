"""A small cache for expensive reports, invalidated by any new suggestion set, event or imported ticket.

With `max_stale_seconds`, a report is also served that long after it was computed even if the data
moved since: the gap report then shows what joined its topics since (app/reports/gaps/live_topics.py) instead of
recomputing on every read while inquiries keep arriving.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlmodel import Session

R = TypeVar("R")
_VERSION = (
    "SELECT (SELECT COUNT(*) FROM suggestion_set), (SELECT COUNT(*) FROM event), (SELECT COUNT(*) FROM helpdesk_ticket)"
)


class ReportCache(Generic[R]):
    """Reports keyed by their parameters, each with the data's version (row counts: cheap, and any write moves them)."""

    def __init__(self, size: int = 32, *, max_stale_seconds: float = 0.0) -> None:
        self._entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], float, R]] = OrderedDict()
        self._size = size
        self._max_stale = max_stale_seconds
        self._lock = threading.Lock()

    def get(self, session: Session, key: tuple[Any, ...]) -> R | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        version, stored, report = entry
        if time.monotonic() - stored > self._max_stale and version != _version(session):
            return None
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
        return report

    def put(self, session: Session, key: tuple[Any, ...], report: R) -> None:
        version = _version(session)
        with self._lock:
            self._entries[key] = (version, time.monotonic(), report)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def _version(session: Session) -> tuple[Any, ...]:
    return tuple(session.execute(text(_VERSION)).one())
