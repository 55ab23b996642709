import json
import logging

from fastapi.testclient import TestClient

from app.logs import REQUEST_ID, JsonFormatter, TextFormatter


def test_json_formatter_writes_one_object_with_the_request_id() -> None:
    token = REQUEST_ID.set("abc123")
    try:
        record = logging.LogRecord("deflect", logging.WARNING, __file__, 1, "index %s", ("missing",), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "index missing"
    assert (line["level"], line["logger"], line["request_id"]) == ("warning", "deflect", "abc123")


def test_text_formatter_ends_a_line_written_in_a_request_with_its_id() -> None:
    record = logging.LogRecord("deflect", logging.INFO, __file__, 1, "index %s", ("loaded",), None)
    assert TextFormatter().format(record).endswith("INFO deflect: index loaded")
    token = REQUEST_ID.set("abc123")
    try:
        assert TextFormatter().format(record).endswith("INFO deflect: index loaded request_id=abc123")
    finally:
        REQUEST_ID.reset(token)


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first.headers["x-request-id"]) == 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
