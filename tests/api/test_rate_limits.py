"""Rate limits on the public endpoints, as served: 429 with Retry-After, shared through Redis, kept when it is down.

The limiters themselves are tested in tests/api/test_rate_limiter.py.
"""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from app.api.main import create_app
from app.settings import Settings
from tests.fakes import HashingEmbedder


def test_a_client_over_the_rate_limit_gets_429_with_retry_after(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 3})
    with TestClient(create_app(limited, embedder=HashingEmbedder())) as client:
        statuses = [client.get("/v1/suggest", params={"q": "パスワード"}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = client.get("/v1/suggest", params={"q": "パスワード"})
        assert refused.json()["error"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert client.get("/healthz").status_code == 200  # probes are never limited


def test_instances_sharing_redis_share_one_limit(settings: Settings, redis_url: str) -> None:
    key = f"pk_{uuid.uuid4().hex}"
    shared = settings.model_copy(
        update={"redis_url": redis_url, "rate_limit_per_minute": 3, "publishable_keys": [key], "secret_keys": ["sk"]}
    )
    headers = {"Authorization": f"Bearer {key}"}
    with (
        TestClient(create_app(shared, embedder=HashingEmbedder())) as first,
        TestClient(create_app(shared, embedder=HashingEmbedder())) as second,
    ):
        statuses = [
            instance.get("/v1/suggest", params={"q": "パスワード"}, headers=headers).status_code
            for instance in [first, second, first, second]
        ]
    assert statuses == [200, 200, 200, 429]


def test_an_unreachable_redis_falls_back_to_counting_in_the_process(settings: Settings) -> None:
    # Nothing listens on port 1: the store is down, yet the public endpoints answer and still limit.
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0", "rate_limit_per_minute": 3})
    errors_before = REGISTRY.get_sample_value("deflect_rate_limit_store_errors_total") or 0.0
    with TestClient(create_app(down, embedder=HashingEmbedder())) as client:
        statuses = [client.get("/v1/suggest", params={"q": "パスワード"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # One failed attempt, then the store is left alone for a while instead of costing a timeout per request.
    assert REGISTRY.get_sample_value("deflect_rate_limit_store_errors_total") == errors_before + 1
