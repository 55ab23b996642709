"""Per-key and per-client rate limits for the public endpoints (sliding one-minute windows, in memory).

Each process keeps its own counts: with N workers a client gets up to N times the limit. That keeps
a single client from degrading others on one instance without a shared store on the hot path.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimited(Exception):
    """Too many requests; retry_after says when the next one will be accepted."""

    def __init__(self, retry_after: float, scope: str) -> None:
        super().__init__(f"rate limit exceeded for this {scope}")
        self.retry_after = max(1, math.ceil(retry_after))
        self.scope = scope


class RateLimiter:
    def __init__(self, *, per_client: int, per_key: int, window_seconds: float = 60.0) -> None:
        self._limits = {"client": per_client, "key": per_key}
        self._window = window_seconds
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()

    def check(self, *, key: str, client: str) -> None:
        """Count one request for this key and client, or raise RateLimited (nothing is counted then)."""
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            buckets = [(("key", key), self._limits["key"]), (("client", f"{key}/{client}"), self._limits["client"])]
            for bucket, limit in buckets:
                hits = self._hits.setdefault(bucket, deque())
                while hits and hits[0] <= now - self._window:
                    hits.popleft()
                if len(hits) >= limit:
                    raise RateLimited(hits[0] + self._window - now, bucket[0])
            for bucket, _ in buckets:
                self._hits[bucket].append(now)

    def _sweep(self, now: float) -> None:
        # Forget idle clients now and then, so memory follows active clients only.
        if now - self._last_sweep < self._window:
            return
        self._last_sweep = now
        for bucket in [b for b, hits in self._hits.items() if not hits or hits[-1] <= now - self._window]:
            del self._hits[bucket]
