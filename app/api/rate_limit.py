"""Per-key and per-client rate limits for the public endpoints: sliding one-minute windows.

`LocalRateLimiter` counts in this process. `RedisRateLimiter` counts in Redis, so that several
workers and instances share one limit per client and per key; when Redis cannot be reached it
falls back to counting locally (public traffic is never refused because the limiter's store is
down) and says so in the log and in `deflect_rate_limit_store_errors_total`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from typing import Protocol

import redis

from app.api.metrics import RATE_LIMIT_STORE_ERRORS

log = logging.getLogger(__name__)
STORE_RETRY_SECONDS = 5.0


class RateLimited(Exception):
    """Too many requests; retry_after says when the next one will be accepted."""

    def __init__(self, retry_after: float, scope: str) -> None:
        super().__init__(f"rate limit exceeded for this {scope}")
        self.retry_after = max(1, math.ceil(retry_after))
        self.scope = scope


class RateLimiter(Protocol):
    def check(self, *, key: str, client: str) -> None:
        """Count one request for this key and client, or raise RateLimited (nothing is counted then)."""


def _buckets(key: str, client: str, per_key: int, per_client: int) -> list[tuple[str, str, int]]:
    """(scope, bucket name, limit); a client is counted per key, so two sites never share a client budget."""
    return [("key", f"key:{key}", per_key), ("client", f"client:{key}/{client}", per_client)]


class LocalRateLimiter:
    def __init__(self, *, per_client: int, per_key: int, window_seconds: float = 60.0) -> None:
        self._per_client = per_client
        self._per_key = per_key
        self._window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()

    def check(self, *, key: str, client: str) -> None:
        now = time.monotonic()
        buckets = _buckets(key, client, self._per_key, self._per_client)
        with self._lock:
            self._sweep(now)
            for scope, bucket, limit in buckets:
                hits = self._hits.setdefault(bucket, deque())
                while hits and hits[0] <= now - self._window:
                    hits.popleft()
                if len(hits) >= limit:
                    raise RateLimited(hits[0] + self._window - now, scope)
            for _, bucket, _ in buckets:
                self._hits[bucket].append(now)

    def _sweep(self, now: float) -> None:
        # Forget idle clients now and then, so memory follows active clients only.
        if now - self._last_sweep < self._window:
            return
        self._last_sweep = now
        for bucket in [b for b, hits in self._hits.items() if not hits or hits[-1] <= now - self._window]:
            del self._hits[bucket]


# One round trip, atomic across instances: drop hits older than the window from every bucket; if any
# bucket is full, answer the milliseconds until its oldest hit leaves; otherwise count the hit in all.
# The clock is Redis's own, so instances with skewed clocks still agree.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
for i, bucket in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', bucket, '-inf', now - window)
  if redis.call('ZCARD', bucket) >= tonumber(ARGV[2 + i]) then
    local oldest = redis.call('ZRANGE', bucket, 0, 0, 'WITHSCORES')
    return {i, tonumber(oldest[2]) + window - now}
  end
end
for _, bucket in ipairs(KEYS) do
  redis.call('ZADD', bucket, now, ARGV[2])
  redis.call('PEXPIRE', bucket, window)
end
return {0, 0}
"""


class RedisRateLimiter:
    def __init__(
        self,
        url: str,
        *,
        per_client: int,
        per_key: int,
        window_seconds: float = 60.0,
        prefix: str = "deflect:rate:",
    ) -> None:
        self._per_client = per_client
        self._per_key = per_key
        self._window_ms = int(window_seconds * 1000)
        self._prefix = prefix
        # Short timeouts: a slow Redis must not become a slow suggest box.
        self._redis = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        self._script = self._redis.register_script(_SLIDING_WINDOW)
        self._fallback = LocalRateLimiter(per_client=per_client, per_key=per_key, window_seconds=window_seconds)
        self._store_down = False
        self._retry_store_at = 0.0

    def check(self, *, key: str, client: str) -> None:
        buckets = _buckets(key, client, self._per_key, self._per_client)
        if self._store_down and time.monotonic() < self._retry_store_at:
            self._fallback.check(key=key, client=client)
            return
        try:
            refused, wait_ms = self._script(
                keys=[self._prefix + bucket for _, bucket, _ in buckets],
                args=[self._window_ms, uuid.uuid4().hex, *(limit for _, _, limit in buckets)],
            )
        except redis.RedisError as exc:
            self._store_failed(exc)
            self._fallback.check(key=key, client=client)
            return
        if self._store_down:
            log.warning("rate limit store is back; limits are shared again")
            self._store_down = False
        if refused:
            raise RateLimited(int(wait_ms) / 1000, buckets[int(refused) - 1][0])

    def _store_failed(self, exc: Exception) -> None:
        RATE_LIMIT_STORE_ERRORS.inc()
        # Try the store again only after a pause, so an unreachable Redis costs one timeout, not one per request.
        self._retry_store_at = time.monotonic() + STORE_RETRY_SECONDS
        if not self._store_down:
            self._store_down = True
            log.warning("rate limit store unreachable (%s); counting in this process until it is back", exc)


def make_rate_limiter(redis_url: str | None, *, per_client: int, per_key: int) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis_url, per_client=per_client, per_key=per_key)
    return LocalRateLimiter(per_client=per_client, per_key=per_key)
