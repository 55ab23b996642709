"""A real uvicorn serving Deflect on loopback, for benchmarks that measure it over HTTP."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


@contextlib.contextmanager
def served(
    env: dict[str, str],
    *,
    port: int,
    cwd: Path | None = None,
    ready_seconds: float = 120,
    log_level: str = "warning",
    workers: int = 1,
) -> Iterator[str]:
    """Start `uvicorn app.main:create_app` with these DEFLECT_* settings; yields its base URL once /readyz is 200."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        log_level,
        "--workers",
        str(workers),
    ]
    server = subprocess.Popen(command, env={**os.environ, **env}, cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_seconds
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the server on port {port} did not become ready")
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
