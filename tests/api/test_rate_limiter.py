"""Rate limiters (app/api/rate_limit.py): sliding one-minute windows per key and per client, in-process or in Redis."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY

from app.api import rate_limit
from app.api.rate_limit import (
    STORE_RETRY_SECONDS,
    LocalRateLimiter,
    RateLimited,
    RateLimiter,
    RedisRateLimiter,
    make_rate_limiter,
)

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


class Clock:
    """time.monotonic for app.api.rate_limit, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(rate_limit.time, "monotonic", clock)
    return clock


def _limiters(redis_url: str) -> dict[str, RateLimiter]:
    return {
        "local": LocalRateLimiter(per_client=3, per_key=5),
        "redis": RedisRateLimiter(redis_url, per_client=3, per_key=5, prefix=f"test:{uuid.uuid4().hex}:"),
    }


def _store_errors() -> float:
    return REGISTRY.get_sample_value("deflect_rate_limit_store_errors_total") or 0.0


@pytest.mark.parametrize("store", ["local", "redis"])
def test_one_client_over_its_limit_does_not_stop_another(store: str, redis_url: str) -> None:
    limiter = _limiters(redis_url)[store]
    for _ in range(3):
        limiter.check(key="pk", client="10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limiter.check(key="pk", client="10.0.0.1")
    assert refused.value.scope == "client"
    assert 1 <= refused.value.retry_after <= 60
    limiter.check(key="pk", client="10.0.0.2")  # another client is still served
    limiter.check(key="other-site", client="10.0.0.1")  # the same client on another site's key too


@pytest.mark.parametrize("store", ["local", "redis"])
def test_a_key_over_its_limit_is_refused_for_every_client(store: str, redis_url: str) -> None:
    limiter = _limiters(redis_url)[store]
    for client in ["a", "a", "b", "b", "c"]:
        limiter.check(key="pk", client=client)
    with pytest.raises(RateLimited) as refused:
        limiter.check(key="pk", client="d")
    assert refused.value.scope == "key"


@pytest.mark.parametrize("store", ["local", "redis"])
def test_a_refused_request_is_not_counted(store: str, redis_url: str) -> None:
    limiter = {
        "local": LocalRateLimiter(per_client=1, per_key=2),
        "redis": RedisRateLimiter(redis_url, per_client=1, per_key=2, prefix=f"test:{uuid.uuid4().hex}:"),
    }[store]
    limiter.check(key="pk", client="a")
    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter.check(key="pk", client="a")
    limiter.check(key="pk", client="b")  # a's refusals did not use up the key's budget


def test_a_hit_leaves_the_window_a_minute_later_and_retry_after_says_when(clock: Clock) -> None:
    limiter = LocalRateLimiter(per_client=2, per_key=100)
    limiter.check(key="pk", client="a")
    clock.now += 20.0
    limiter.check(key="pk", client="a")
    clock.now += 10.0
    with pytest.raises(RateLimited) as refused:
        limiter.check(key="pk", client="a")
    assert refused.value.retry_after == 30  # the first hit leaves at 60 s, 30 s from now
    clock.now += 29.0
    with pytest.raises(RateLimited):
        limiter.check(key="pk", client="a")
    clock.now += 1.0
    limiter.check(key="pk", client="a")  # the first hit has left: one more fits
    with pytest.raises(RateLimited):
        limiter.check(key="pk", client="a")


@pytest.mark.parametrize(("seconds", "retry_after"), [(0.0, 1), (0.2, 1), (1.0, 1), (1.2, 2), (59.01, 60)])
def test_retry_after_is_whole_seconds_rounded_up_and_never_zero(seconds: float, retry_after: int) -> None:
    refused = RateLimited(seconds, "client")
    assert refused.retry_after == retry_after
    assert str(refused) == "rate limit exceeded for this client"


def test_idle_clients_are_forgotten_once_a_window_has_passed(clock: Clock) -> None:
    limiter = LocalRateLimiter(per_client=5, per_key=100)
    for n in range(50):
        limiter.check(key="pk", client=f"10.0.0.{n}")
    clock.now += 61.0
    limiter.check(key="pk", client="10.0.1.1")
    # The buckets held are the key's and the one active client's, not fifty idle ones.
    assert set(limiter._hits) == {"key:pk", "client:pk/10.0.1.1"}


def test_an_unreachable_redis_counts_in_the_process_and_is_tried_again_only_after_a_pause(clock: Clock) -> None:
    limiter = RedisRateLimiter(UNREACHABLE_REDIS, per_client=2, per_key=100)
    before = _store_errors()
    limiter.check(key="pk", client="a")
    limiter.check(key="pk", client="a")
    with pytest.raises(RateLimited):  # still limited: counted locally
        limiter.check(key="pk", client="a")
    assert _store_errors() == before + 1  # one failed attempt, then the store is left alone

    clock.now += STORE_RETRY_SECONDS + 1
    limiter.check(key="pk", client="b")
    assert _store_errors() == before + 2  # tried again after the pause


def test_the_limiter_is_redis_when_a_url_is_configured_and_local_otherwise() -> None:
    assert isinstance(make_rate_limiter(None, per_client=1, per_key=1), LocalRateLimiter)
    assert isinstance(make_rate_limiter(UNREACHABLE_REDIS, per_client=1, per_key=1), RedisRateLimiter)
