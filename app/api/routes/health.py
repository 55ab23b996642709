"""Liveness and readiness probes."""

from __future__ import annotations

import os
import socket

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import LiveIndexDep, SessionDep, SettingsDep
from app.api.schemas import ReadinessReport

router = APIRouter(tags=["health"])


@router.get("/healthz")
def read_health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadinessReport, responses={503: {"model": ReadinessReport}})
def read_readiness(session: SessionDep, live_index: LiveIndexDep, settings: SettingsDep) -> JSONResponse:
    """Ready when an index is loaded and the database answers; 503 with the reason otherwise."""
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        database = True
    except Exception:  # any driver error means "not reachable" here
        database = False
    current = live_index.current
    report = ReadinessReport(
        ready=current is not None and database,
        index_build=current.build_id if current else None,
        index_problem=live_index.problem,
        database=database,
        model=settings.model,
        instance=f"{socket.gethostname()}:{os.getpid()}",
    )
    return JSONResponse(report.model_dump(), status_code=200 if report.ready else 503)
