"""Prometheus metrics of the domain: suggestions by label, events by action, the live index, the model."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SUGGESTIONS = Counter("deflect_suggestions_total", "Suggestion sets answered", ["channel", "label"])
EVENTS = Counter("deflect_events_total", "Events stored", ["action"])
INDEX_BUILD = Gauge("deflect_index_build_info", "The live index build (value 1)", ["build_id", "model"])
INDEX_AGE = Gauge("deflect_index_age_seconds", "Seconds since the live index build was published")
INDEX_ARTICLES = Gauge("deflect_index_articles", "Articles in the live index")
PURGED = Counter("deflect_retention_purged_total", "Suggestion sets whose question text was purged")
RATE_LIMIT_STORE_ERRORS = Counter(
    "deflect_rate_limit_store_errors_total", "Rate limit checks that fell back to this process (Redis unreachable)"
)
QUERY_BATCH_SIZE = Histogram(
    "deflect_query_embedding_batch_size",
    "Questions encoded together in one model call (several when requests arrive while the model is busy)",
    buckets=(1, 2, 3, 4, 6, 8, 12, 16),
)
