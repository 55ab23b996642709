"""Prometheus metrics of the domain: suggestions by label, events by action, the live index."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SUGGESTIONS = Counter("deflect_suggestions_total", "Suggestion sets answered", ["channel", "label"])
EVENTS = Counter("deflect_events_total", "Events stored", ["action"])
INDEX_BUILD = Gauge("deflect_index_build_info", "The live index build (value 1)", ["build_id", "model"])
INDEX_AGE = Gauge("deflect_index_age_seconds", "Seconds since the live index build was published")
INDEX_ARTICLES = Gauge("deflect_index_articles", "Articles in the live index")
PURGED = Counter("deflect_retention_purged_total", "Suggestion sets whose question text was purged")
RATE_LIMIT_STORE_ERRORS = Counter(
    "deflect_rate_limit_store_errors_total", "Rate limit checks that fell back to this process (Redis unreachable)"
)
