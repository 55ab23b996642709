"""Prometheus metrics."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import LiveIndexDep
from app.api.metrics import INDEX_AGE, INDEX_ARTICLES, INDEX_BUILD

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
def read_metrics(live_index: LiveIndexDep) -> Response:
    """Request counts and latency per endpoint, suggestions by label, events by action, the live index."""
    current = live_index.current
    INDEX_BUILD.clear()
    if current is not None:
        manifest = current.build.manifest
        INDEX_BUILD.labels(manifest.build_id, manifest.model).set(1)
        created = dt.datetime.fromisoformat(manifest.created_at)
        INDEX_AGE.set((dt.datetime.now(dt.UTC) - created).total_seconds())
        INDEX_ARTICLES.set(len(current.build.articles))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
