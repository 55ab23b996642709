import json
import logging

from fastapi.testclient import TestClient

from app.logs import REQUEST_ID, JsonFormatter


def test_json_formatter_writes_one_object_with_the_request_id() -> None:
    token = REQUEST_ID.set("abc123")
    try:
        record = logging.LogRecord("deflect", logging.WARNING, __file__, 1, "index %s", ("missing",), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "index missing"
    assert (line["level"], line["logger"], line["request_id"]) == ("warning", "deflect", "abc123")


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first.headers["x-request-id"]) == 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
