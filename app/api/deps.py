"""Request dependencies: the only code that reads request.state."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel import Session

from app.api.keys import Scope, scope_of
from app.api.rate_limit import RateLimiter
from app.reports.cache import ReportCache
from app.reports.deflection import DeflectionPolicy
from app.reports.gaps.live_topics import LiveTopics
from app.reports.schemas import GapReport
from app.settings import Settings
from app.suggestions import Suggester
from indexer.embedders import Embedder
from retrieval.live_index import LiveIndex


# The accessors are async: they only read request.state, so they run on the event loop instead of
# costing a thread-pool hop each, which a sync dependency does.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Async too: a Session opens no connection until used, and closing one whose transaction was
    # committed (the writing endpoints) only returns its connection to the pool.
    with Session(request.state.engine) as session:
        yield session


async def get_deflection_policy(request: Request) -> DeflectionPolicy:
    policy: DeflectionPolicy = request.state.deflection_policy
    return policy


async def get_live_index(request: Request) -> LiveIndex:
    live: LiveIndex = request.state.live_index
    return live


async def get_suggester(request: Request) -> Suggester:
    suggester: Suggester = request.state.suggester
    return suggester


async def get_embedder(request: Request) -> Embedder:
    """The model the lifespan loaded, as suggest uses it (batched)."""
    suggester: Suggester = request.state.suggester
    return suggester.embedder


async def get_gap_cache(request: Request) -> ReportCache[GapReport]:
    cache: ReportCache[GapReport] = request.state.gap_cache
    return cache


async def get_live_topics(request: Request) -> LiveTopics:
    topics: LiveTopics = request.state.live_topics
    return topics


async def get_raw_body(request: Request) -> bytes:
    """The request body as sent (the body size limit applies), for endpoints that read files such as CSV."""
    return await request.body()


SettingsDep = Annotated[Settings, Depends(get_settings)]
GapCacheDep = Annotated[ReportCache[GapReport], Depends(get_gap_cache)]
SessionDep = Annotated[Session, Depends(get_session)]
DeflectionPolicyDep = Annotated[DeflectionPolicy, Depends(get_deflection_policy)]
LiveIndexDep = Annotated[LiveIndex, Depends(get_live_index)]
SuggesterDep = Annotated[Suggester, Depends(get_suggester)]
EmbedderDep = Annotated[Embedder, Depends(get_embedder)]
LiveTopicsDep = Annotated[LiveTopics, Depends(get_live_topics)]
RawBodyDep = Annotated[bytes, Depends(get_raw_body)]


class AccessError(Exception):
    """A request without the key its endpoint needs (401) or with one of too narrow a scope (403)."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def _require(request: Request, settings: Settings, allowed: set[Scope]) -> None:
    if settings.open_access:
        return
    key = _presented_key(request)
    if key is None:
        raise AccessError(401, "missing_key", "send an API key as 'Authorization: Bearer <key>'")
    scope = scope_of(key, secret_keys=settings.secret_keys, publishable_keys=settings.publishable_keys)
    if scope is None:
        raise AccessError(401, "invalid_key", "the API key is not valid")
    if scope not in allowed:
        raise AccessError(403, "insufficient_scope", "this endpoint needs a secret key")


def require_public_key(request: Request, settings: SettingsDep) -> None:
    """Suggest and events: a publishable or a secret key, within the rate limits."""
    _require(request, settings, {Scope.PUBLISHABLE, Scope.SECRET})
    limiter: RateLimiter = request.state.rate_limiter
    client = request.client.host if request.client else "unknown"
    limiter.check(key=_presented_key(request) or "open", client=client)


def require_secret_key(request: Request, settings: SettingsDep) -> None:
    """Reports, indexing and admin: a secret key."""
    _require(request, settings, {Scope.SECRET})


PublicAccess = Depends(require_public_key)
SecretAccess = Depends(require_secret_key)


FromDate = Annotated[dt.date | None, Query(alias="from", description="first day (UTC); default 30 days ago")]
ToDate = Annotated[dt.date | None, Query(description="last day, included (UTC); default today")]
