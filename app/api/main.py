"""The FastAPI application: create_app(settings) and the lifespan that loads the heavy objects once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from threadpoolctl import threadpool_limits

from app.api.errors import install_error_handlers
from app.api.metrics import PURGED, QUERY_BATCH_SIZE
from app.api.middleware import GuardMiddleware
from app.api.rate_limit import make_rate_limiter
from app.api.routes import events, gaps, health, metrics, pages, reports, suggest, tickets
from app.db.engine import create_tables, make_engine
from app.logs import configure_logging
from app.privacy import Redactor
from app.reports.cache import ReportCache
from app.reports.deflection import DeflectionPolicy
from app.reports.gaps.live_topics import LiveTopics
from app.reports.schemas import GapReport
from app.retention import purge_expired_questions, purge_expired_tickets
from app.settings import Settings
from app.suggestions import Suggester, SuggestPolicy
from indexer.analysis import Analyzer
from indexer.embedders import BatchingEmbedder, Embedder, load_embedder
from retrieval.calibration import calibration_for, load_calibrations
from retrieval.live_index import LiveIndex

logger = logging.getLogger("deflect")


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """The service. `embedder` replaces the configured model (tests inject a small one)."""
    settings = settings or Settings()
    if not logging.getLogger().handlers:
        # A worker that `deflect serve --workers N` spawns starts afresh: the CLI set up logging in its parent only.
        configure_logging(settings.log_format)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if settings.open_access:
            logger.warning("no DEFLECT_SECRET_KEYS or DEFLECT_PUBLISHABLE_KEYS set: every endpoint is OPEN")
        # One BLAS thread: each worker answers a request per core, and BLAS's own threads would spin against
        # the other requests (and workers) for the same cores.
        threadpool_limits(limits=1, user_api="blas")
        policy = DeflectionPolicy.of(settings)
        engine = make_engine(settings.database_url)
        create_tables(engine, policy=policy)
        # Requests embed their questions in threads: those asked while the model is busy go in one batch.
        model = BatchingEmbedder(embedder or load_embedder(settings.model), on_batch=QUERY_BATCH_SIZE.observe)
        analyzer = Analyzer(morphological=settings.morphological_analysis)
        live_index = LiveIndex(settings.index_dir, model=model.name, analyzer=analyzer)
        live_index.load()
        # First calls pay for lazy initialisation (tokenizer tables, BLAS); pay it before traffic.
        model.embed_queries(["warm-up"])
        analyzer.terms("ウォームアップ warm-up")
        thresholds = {loc: settings.thresholds_for(loc) for loc in [*settings.locales, "default"]}
        live_topics = LiveTopics()
        with Session(engine) as session:
            live_topics.refresh(session)
        state = {
            "settings": settings,
            "engine": engine,
            "deflection_policy": policy,
            "live_index": live_index,
            "suggester": Suggester(
                embedder=model,
                calibration=calibration_for(model.name, load_calibrations()),
                redactor=Redactor(settings.redact_patterns, client_id_key=settings.client_id_key_value),
                policy=SuggestPolicy(
                    tuple(settings.locales),
                    settings.min_query_chars,
                    settings.max_query_chars,
                    thresholds,
                    settings.intent_window_seconds,
                ),
                topics=live_topics,
            ),
            "live_topics": live_topics,
            "rate_limiter": make_rate_limiter(
                settings.redis_url,
                per_client=settings.rate_limit_per_minute,
                per_key=settings.rate_limit_per_key_per_minute,
            ),
            "gap_cache": ReportCache[GapReport](max_stale_seconds=settings.gap_report_max_stale_seconds),
        }
        tasks = [
            asyncio.create_task(_watch_index(live_index, settings.index_poll_seconds)),
            asyncio.create_task(_purge_regularly(engine, settings.retention_days)),
            asyncio.create_task(_watch_gap_topics(engine, live_topics, settings.index_poll_seconds)),
        ]
        try:
            yield state
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            engine.dispose()

    app = FastAPI(
        title="Deflect",
        version="1.0.0",
        summary="Suggests help articles before customers write in, and measures what that saves.",
        lifespan=lifespan,
    )
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(
        GuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_limits={"/v1/tickets/import": settings.max_import_bytes},
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(suggest.router)
    app.include_router(events.router)
    app.include_router(reports.router)
    app.include_router(gaps.router)
    app.include_router(tickets.router)
    app.include_router(pages.router)
    return app


async def _watch_index(live_index: LiveIndex, every_seconds: float) -> None:
    """Pick up builds published by `deflect index` (or another instance) without a restart."""
    if every_seconds <= 0:
        return
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await asyncio.to_thread(live_index.refresh)
        except Exception:  # a bad build must never kill the watcher; LiveIndex keeps the old one
            logger.exception("index refresh failed")


async def _purge_regularly(engine: Engine, retention_days: float) -> None:
    """Enforce the retention period on stored question text, hourly, from inside the service."""
    while True:
        # First run a minute after start-up: start-up (and a test's short-lived app) is left alone.
        await asyncio.sleep(60)
        try:
            with Session(engine) as session:
                purged = await asyncio.to_thread(purge_expired_questions, session, retention_days=retention_days)
                tickets_purged = await asyncio.to_thread(purge_expired_tickets, session, retention_days=retention_days)
            if purged:
                PURGED.inc(purged)
                logger.info("retention: purged the question text of %d suggestion sets", purged)
            if tickets_purged:
                logger.info("retention: purged the text of %d imported tickets", tickets_purged)
        except SQLAlchemyError:
            logger.exception("retention purge failed; will retry")
        await asyncio.sleep(3600 - 60)


async def _watch_gap_topics(engine: Engine, live_topics: LiveTopics, every_seconds: float) -> None:
    """Pick up gap topics published by another worker or `deflect report gaps`; suggest never waits for this."""
    if every_seconds <= 0:
        return

    def refresh() -> None:
        with Session(engine) as session:
            live_topics.refresh(session)

    while True:
        await asyncio.sleep(every_seconds)
        try:
            await asyncio.to_thread(refresh)
        except SQLAlchemyError:  # the database is down: keep assigning to the topics held
            logger.exception("gap topics refresh failed")
