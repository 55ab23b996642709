"""A real uvicorn serving Deflect on loopback, for benchmarks and tests that talk to it over HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def served(
    env: dict[str, str],
    *,
    port: int | None = None,
    cwd: Path | None = None,
    ready_seconds: float = 180,
    log_level: str = "warning",
    workers: int = 1,
    log: Path | None = None,
) -> Iterator[str]:
    """Start `uvicorn app.api.main:create_app` with these DEFLECT_* settings; yields its base URL once /readyz is 200.

    port None takes a free one. The server's output goes to `log` (a temporary file if None) and is
    quoted in the error when the server dies or never becomes ready.
    """
    port = port or free_port()
    command = [
        *(sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory", "--host", "127.0.0.1"),
        *("--port", str(port), "--log-level", log_level, "--workers", str(workers)),
    ]
    repo = str(Path(__file__).resolve().parents[1])
    # The checkout on the path, so a server started from another directory (cwd) still imports this code.
    python_path = os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(log.open("w+b") if log else tempfile.TemporaryFile())
        server = subprocess.Popen(
            command, env={**os.environ, "PYTHONPATH": python_path, **env}, cwd=cwd, stdout=output, stderr=output
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(base, server, output, ready_seconds)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_ready(base: str, server: subprocess.Popen[bytes], output: IO[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline or server.poll() is not None:
            output.seek(0)
            said = output.read().decode(errors="replace")[-4000:]
            raise RuntimeError(f"the server at {base} did not become ready (exit {server.poll()}):\n{said}")
        time.sleep(0.25)


class KeepAliveClient:
    """One keep-alive HTTP/1.1 connection through the standard library: a load generator sharing the
    server's cores should cost little CPU itself (http.client ~0.4 ms a request here, httpx several times that)."""

    def __init__(self, base: str, *, headers: dict[str, str] | None = None, timeout: float = 30) -> None:
        url = urllib.parse.urlsplit(base)
        self._host, self._port, self._timeout = url.hostname or "127.0.0.1", url.port or 80, timeout
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._connection: http.client.HTTPConnection | None = None

    def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        """(status, decoded JSON body or None); a failed connection is dropped, and OSError or
        http.client.HTTPException is raised for this request."""
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        try:
            self._connection.request("POST", path, body=json.dumps(body).encode(), headers=self._headers)
            response = self._connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
