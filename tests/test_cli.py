import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from app import cli as app_cli
from app.cli import cli, local_url, main
from app.settings import Settings
from bench.server import free_port
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_index
from tests.factories import small_help_center
from tests.fakes import HashingEmbedder


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    small_help_center(tmp_path / "content")
    monkeypatch.setenv("DEFLECT_CONTENT_DIR", str(tmp_path / "content"))
    monkeypatch.setenv("DEFLECT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("DEFLECT_DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    monkeypatch.setenv("DEFLECT_MODEL", "use-multilingual-v3")
    return tmp_path


@pytest.mark.e2e
@pytest.mark.usefixtures("env")
def test_index_builds_then_reports_it_is_up_to_date() -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["index"])
    assert first.exit_code == 0, first.output
    assert "5 added, 0 changed, 0 removed" in first.output
    again = runner.invoke(cli, ["index"])
    assert again.exit_code == 0 and "index is up to date" in again.output


def test_report_deflection_prints_json_and_writes_csv(env: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(cli, ["report", "deflection", "--group-by", "channel"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output)["totals"]["suggestion_sets"] == 0
    written = runner.invoke(cli, ["report", "deflection", "--format", "csv", "-o", str(env / "d.csv")])
    assert written.exit_code == 0
    assert (env / "d.csv").read_text().startswith("key,suggestion_sets")


@pytest.mark.usefixtures("env")
def test_report_deflection_with_a_reversed_period_fails_clearly() -> None:
    result = CliRunner().invoke(cli, ["report", "deflection", "--from", "2026-02-01", "--to", "2026-01-01"])
    assert result.exit_code != 0
    assert "'from' must be before 'to'" in result.output


@pytest.mark.usefixtures("env")
def test_report_gaps_on_an_empty_database_prints_an_empty_report() -> None:
    result = CliRunner().invoke(cli, ["report", "gaps"])
    assert result.exit_code == 0, result.output
    assert (
        json.loads(result.output.split("\n", 1)[1] if result.output.startswith("no index") else result.output)["topics"]
        == []
    )


@pytest.mark.usefixtures("env")
def test_rebuild_rollup_runs_on_the_configured_database() -> None:
    result = CliRunner().invoke(cli, ["rebuild-rollup", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.output


def test_import_csv_writes_articles_that_index(env: Path) -> None:
    source = env / "faq.csv"
    source.write_text("question,answer\n年末調整はできますか,できません。\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "csv", str(source)])
    assert result.exit_code == 0, result.output
    assert "imported 1 articles" in result.output
    assert list((env / "content" / "ja").rglob("faq-*.md"))


def test_import_of_a_broken_zendesk_file_imports_nothing(env: Path) -> None:
    source = env / "zendesk.json"
    source.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "zendesk", str(source)])
    assert result.exit_code == 1
    assert "nothing imported" in result.output


def test_import_tickets_stores_them_once_and_reports_bad_rows(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes import HashingEmbedder

    monkeypatch.setattr("app.cli.load_embedder", lambda _model: HashingEmbedder())
    source = env / "tickets.json"
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    source.write_text(
        json.dumps({"tickets": [{"id": 1, "subject": "年末調整", "description": "書類", "created_at": yesterday}]}),
        encoding="utf-8",
    )
    first = CliRunner().invoke(cli, ["import", "tickets", str(source)])
    assert first.exit_code == 0, first.output
    assert "imported 1 of 1 tickets: 0 already imported" in first.output
    again = CliRunner().invoke(cli, ["import", "tickets", str(source)])
    assert "imported 0 of 1 tickets: 1 already imported" in again.output

    bad = env / "bad.csv"
    bad.write_text("subject,body,created_at\nok,fine,2026-01-01\nbad,row,someday\n", encoding="utf-8")
    refused = CliRunner().invoke(cli, ["import", "tickets", str(bad)])
    assert refused.exit_code == 1
    assert "nothing imported" in refused.output and "line 3: created_at 'someday'" in refused.output


def test_a_setting_that_does_not_validate_is_named_as_the_operator_set_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEFLECT_ATTRIBUTION_WINDOW_HOURS", "inf")
    monkeypatch.setenv("DEFLECT_ALLOWED_ORIGINS", "help.example.com")
    monkeypatch.setattr("sys.argv", ["deflect", "migrate"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    problems = capsys.readouterr().err.splitlines()
    assert sorted(line.split(": ")[1] for line in problems) == [
        "DEFLECT_ALLOWED_ORIGINS",
        "DEFLECT_ATTRIBUTION_WINDOW_HOURS",
    ]
    assert any("is not an origin" in line for line in problems)


def test_paths_in_settings_may_start_at_the_home_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFLECT_INDEX_DIR", "~/deflect/index")
    monkeypatch.setenv("DEFLECT_CONTENT_DIR", "~/help-center")
    settings = Settings(_env_file=None)
    assert settings.index_dir == Path.home() / "deflect" / "index"
    assert settings.content_dir == Path.home() / "help-center"


@pytest.mark.usefixtures("restore_logging")
def test_serve_prints_the_demo_dashboard_and_docs_once_ready(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_index(content_dir=env / "content", index_dir=env / "index", embedder=HashingEmbedder(), analyzer=Analyzer())
    port, answers = free_port(), [503, 200]
    probes: list[str] = []

    class Readiness(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            probes.append(self.path)
            self.send_response(answers.pop(0) if len(answers) > 1 else answers[0])
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    def stand_in_for_uvicorn(_app: str, *, host: str, port: int, **_options: object) -> None:
        """Answers /readyz (not ready, then ready) until serve's announcement is printed."""
        with HTTPServer((host, port), Readiness) as server:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            announcer = next(thread for thread in threading.enumerate() if thread.name == "deflect-ready")
            announcer.join(timeout=30)
            server.shutdown()

    monkeypatch.setattr(uvicorn, "run", stand_in_for_uvicorn)
    result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert probes == ["/readyz", "/readyz"]
    assert result.output.splitlines()[-4:] == [
        "Deflect is ready:",
        f"  demo       http://127.0.0.1:{port}/demo",
        f"  dashboard  http://127.0.0.1:{port}/dashboard",
        f"  API docs   http://127.0.0.1:{port}/docs",
    ]


def test_serve_when_the_index_is_of_an_older_format_rebuilds_it_first(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(content_dir=env / "content", index_dir=env / "index", embedder=HashingEmbedder(), analyzer=Analyzer())
    manifest_path = store.builds_dir(env / "index") / str(store.current_build_id(env / "index")) / "manifest.json"
    manifest_path.write_text(json.dumps({**json.loads(manifest_path.read_text()), "format": 1}), encoding="utf-8")
    rebuilt: list[Path] = []
    monkeypatch.setattr(app_cli, "run_index", lambda settings: rebuilt.append(settings.index_dir))
    monkeypatch.setattr(app_cli, "announce_when_ready", lambda _url: None)
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_options: None)

    result = CliRunner().invoke(cli, ["serve"])

    assert result.exit_code == 0, result.output
    assert "built by an older version: rebuilding it" in result.output
    assert rebuilt == [env / "index"]


@pytest.mark.parametrize(
    ("host", "url"),
    [("0.0.0.0", "http://127.0.0.1:8000"), ("::", "http://[::1]:8000"), ("192.0.2.7", "http://192.0.2.7:8000")],
)
def test_the_announced_url_reaches_a_server_bound_to_a_wildcard_address(host: str, url: str) -> None:
    assert local_url(host, 8000) == url
