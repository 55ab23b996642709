"""ASGI middleware: request body size limit, request ids and Prometheus request metrics."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import REQUEST_ID

REQUESTS = Counter("deflect_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "deflect_http_request_seconds",
    "HTTP request latency",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class BodyTooLarge(Exception):
    pass


class GuardMiddleware:
    """Refuses bodies over their limit (413, even when Content-Length lies) and times every request.

    The limit is max_body_bytes, or the one `body_limits` gives for an exact path (uploads such as ticket imports).
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_limits = body_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.body_limits.get(scope["path"], self.max_body_bytes)
        too_large = f"request bodies are limited to {limit} bytes"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(send, 413, "body_too_large", too_large)
            return
        received = 0
        status = 500
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            status = 413
            await _send_error(send, 413, "body_too_large", too_large)
        finally:
            REQUEST_ID.reset(token)
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(path, scope["method"], str(status)).inc()
            LATENCY.labels(path, scope["method"]).observe(time.perf_counter() - started)


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
