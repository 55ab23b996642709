import io
import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.db.engine import create_tables, make_engine
from app.logs import REQUEST_ID, JsonFormatter, LogFormat, TextFormatter, configure_logging
from app.settings import Settings


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


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in `make serve`."""

    def isatty(self) -> bool:
        return True


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(
    ("stream_type", "log_format", "written_as"),
    [
        (Terminal, "auto", "text"),
        (io.StringIO, "auto", "json"),
        (Terminal, "json", "json"),
        (io.StringIO, "text", "text"),
    ],
)
def test_logs_are_text_on_a_terminal_and_json_elsewhere_unless_the_setting_says(
    stream_type: type[io.StringIO], log_format: LogFormat, written_as: str
) -> None:
    stream = stream_type()
    configure_logging(log_format, stream=stream)
    logging.getLogger("deflect").info("index loaded")
    line = stream.getvalue().strip()
    if written_as == "json":
        assert json.loads(line)["message"] == "index loaded"
    else:
        assert line.endswith("INFO deflect: index loaded")


def test_the_log_format_setting_defaults_to_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEFLECT_LOG_FORMAT", raising=False)
    assert Settings(_env_file=None).log_format == "auto"  # type: ignore[call-arg]
    monkeypatch.setenv("DEFLECT_LOG_FORMAT", "text")
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    monkeypatch.setenv("DEFLECT_LOG_FORMAT", "yaml")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.usefixtures("restore_logging")
def test_a_library_that_sets_its_logger_to_debug_stays_quiet_at_the_default_level() -> None:
    import bm25s

    assert logging.getLogger(bm25s.__name__).level == logging.DEBUG  # what bm25s does on import
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    logging.getLogger("bm25s").debug("Building index from tokens")
    logging.getLogger("bm25s").warning("a warning still shows")
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["a warning still shows"]


@pytest.mark.usefixtures("restore_logging")
def test_a_migration_logs_its_steps_but_not_alembic_plugins(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    create_tables(engine)
    engine.dispose()
    loggers = {json.loads(line)["logger"] for line in stream.getvalue().splitlines()}
    assert "alembic.runtime.migration" in loggers and "alembic.runtime.plugins" not in loggers
