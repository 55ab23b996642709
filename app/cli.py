"""The `deflect` command: index, serve (and, as they land, reports)."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlsplit

import typer
from pydantic import BaseModel, ValidationError
from tqdm import tqdm

from app.logs import configure_logging
from app.settings import Settings, setting_problems
from indexer import store
from indexer.analysis import Analyzer
from indexer.build import BuildReport, build_index
from indexer.embedders import Embedder, EmbedderError, load_embedder
from retrieval.vocabulary import Channel

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.reports.deflection import DeflectionPolicy

cli = typer.Typer(help="Deflect: FAQ deflection search.", no_args_is_help=True, add_completion=False)
Report = TypeVar("Report", bound=BaseModel)


def _configured_embedder(settings: Settings) -> Embedder:
    """The configured model, or exit 2 saying why it cannot be loaded."""
    try:
        return load_embedder(settings.model)
    except EmbedderError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc


def run_index(settings: Settings, *, force: bool = False, echo: bool = True) -> BuildReport:
    """Build the index from settings.content_dir, with a progress bar; prints what changed."""
    if not settings.content_dir.is_dir():
        raise typer.BadParameter(f"content directory {settings.content_dir} does not exist")
    embedder = _configured_embedder(settings)
    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="passage", desc="embedding", disable=not echo or total == 0)
        bar.n = done
        bar.refresh()

    report = build_index(
        content_dir=settings.content_dir,
        index_dir=settings.index_dir,
        embedder=embedder,
        analyzer=Analyzer(morphological=settings.morphological_analysis),
        force=force,
        on_progress=progress,
    )
    if bar is not None:
        bar.close()
    if echo:
        for problem in report.problems:
            typer.secho(f"skipped {problem.source}: {problem.reason}", fg="yellow", err=True)
        if report.published:
            typer.echo(
                f"published {report.build_id} with {embedder.name}: {len(report.added)} added, "
                f"{len(report.changed)} changed, {len(report.removed)} removed, {report.unchanged} unchanged; "
                f"{report.embedded_passages} passages embedded, {report.reused_passages} reused "
                f"({report.seconds:.1f} s)"
            )
            for label, ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
                if ids and len(ids) <= 20:
                    typer.echo(f"  {label}: {', '.join(ids)}")
        else:
            typer.echo(f"index is up to date ({report.build_id}, {report.unchanged} articles)")
    return report


@cli.command()
def index(
    content: Annotated[Path | None, typer.Option("--content", help="directory of Markdown articles")] = None,
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="where builds are written")] = None,
    force: Annotated[bool, typer.Option("--force", help="re-embed every article")] = False,
) -> None:
    """Build the search index from the help articles and publish it (only changed articles are re-embedded)."""
    settings = Settings()
    if content is not None:
        settings.content_dir = content
    if index_dir is not None:
        settings.index_dir = index_dir
    try:
        run_index(settings, force=force)
    except store.IndexLockedError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc


@cli.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers")] = 1,
) -> None:
    """Run the API, building the index from the content directory first if none exists or it is outdated."""
    import uvicorn

    settings = Settings()
    configure_logging(settings.log_format)
    if store.current_build_id(settings.index_dir) is None:
        typer.echo(f"no index in {settings.index_dir}: building it from {settings.content_dir}")
        run_index(settings)
    elif store.is_outdated(settings.index_dir):
        typer.echo(f"the index in {settings.index_dir} was built by an older version: rebuilding it")
        run_index(settings)
    url = local_url(host, port)
    threading.Thread(target=announce_when_ready, args=(url,), name="deflect-ready", daemon=True).start()
    # A factory, so each worker process builds its own app (and loads its own model) at start-up.
    # log_config=None: uvicorn's loggers propagate to our handler instead of installing their own.
    uvicorn.run("app.api.main:create_app", factory=True, host=host, port=port, workers=workers, log_config=None)


def local_url(host: str, port: int) -> str:
    """The URL that reaches a server bound to host:port from this machine (a wildcard address is not one)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce_when_ready(base_url: str) -> None:
    """Wait until /readyz answers 200, then print where the demo, the dashboard and the API docs are."""
    address = urlsplit(base_url)
    while True:
        # http.client, not httpx: httpx would log every probe at info.
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                break
            time.sleep(1.0)  # listening but not ready: each probe is an access-log line, so not too often
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
        finally:
            connection.close()
    typer.echo(
        f"Deflect is ready:\n  demo       {base_url}/demo\n  dashboard  {base_url}/dashboard\n"
        f"  API docs   {base_url}/docs"
    )


report_cli = typer.Typer(help="Reports for the content team, as JSON or CSV.", no_args_is_help=True)
cli.add_typer(report_cli, name="report")


FromOption = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="first day (UTC)")]
ToOption = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="last day, included")]
FormatOption = Annotated[str, typer.Option("--format", help="json or csv")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")]


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[tuple[Session, DeflectionPolicy]]:
    """A session on the configured database, migrated first, and the configured W and R (the migrations need W)."""
    from sqlmodel import Session

    from app.db.engine import create_tables, make_engine
    from app.reports.deflection import DeflectionPolicy

    policy = DeflectionPolicy.of(settings)
    engine = make_engine(settings.database_url)
    try:
        create_tables(engine, policy=policy)
        with Session(engine) as session:
            yield session, policy
    finally:
        engine.dispose()


def _run_report(
    make: Callable[[Session, Settings, DeflectionPolicy], Report],
    *,
    to_csv: Callable[[Report], str],
    format: str,
    output: Path | None,
) -> None:
    """Open the configured database, make the report, print or write it as JSON or CSV."""
    from app.reports.period import ReportError

    settings = Settings()
    try:
        with _database(settings) as (session, policy):
            report = make(session, settings, policy)
    except ReportError as exc:
        raise typer.BadParameter(str(exc)) from exc
    rendered = (
        to_csv(report)
        if format == "csv"
        else json.dumps(report.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2)
    )
    if output:
        output.write_text(rendered, encoding="utf-8")
        typer.echo(f"wrote {output}")
    else:
        typer.echo(rendered)


def _period(from_: datetime | None, to: datetime | None) -> Any:
    from app.reports.period import Period

    return Period.of(from_.date() if from_ else None, to.date() if to else None)


@report_cli.command("deflection")
def report_deflection(
    from_: FromOption = None,
    to: ToOption = None,
    group_by: Annotated[str | None, typer.Option("--group-by", help="day, channel or article")] = None,
    channel: Annotated[Channel | None, typer.Option("--channel")] = None,
    format: FormatOption = "json",
    output: OutputOption = None,
) -> None:
    """Deflection figures over a period (the same as GET /v1/reports/deflection)."""
    from app.reports.deflection import deflection_report
    from app.reports.formats import deflection_csv

    _run_report(
        lambda session, _settings, policy: deflection_report(
            session, period=_period(from_, to), group_by=group_by, channel=channel, policy=policy
        ),
        to_csv=deflection_csv,
        format=format,
        output=output,
    )


@report_cli.command("gaps")
def report_gaps(
    from_: FromOption = None, to: ToOption = None, format: FormatOption = "json", output: OutputOption = None
) -> None:
    """Topics of questions the help center fails to answer (the same as GET /v1/reports/gaps)."""
    from app.reports.formats import gaps_csv
    from app.reports.gaps.report import gap_report
    from app.reports.schemas import GapReport
    from retrieval.search import SearchIndex

    def make(session: Session, settings: Settings, policy: DeflectionPolicy) -> GapReport:
        analyzer = Analyzer(morphological=settings.morphological_analysis)
        try:
            index: SearchIndex | None = SearchIndex(store.load_current(settings.index_dir), analyzer)
        except store.StoreError as exc:
            typer.secho(
                f"no index to compare topics with ({exc}); closest articles are left out", fg="yellow", err=True
            )
            index = None
        return gap_report(
            session,
            period=_period(from_, to),
            index=index,
            analyzer=analyzer,
            policy=policy,
            # Questions typed in kana are converted and embedded again, as the service does.
            embedder=_configured_embedder(settings) if index is not None else None,
        )

    _run_report(make, to_csv=gaps_csv, format=format, output=output)


@cli.command("import")
def import_content(
    kind: Annotated[
        str,
        typer.Argument(
            help="articles: markdown (a directory), csv (question,answer rows) or zendesk (JSON); "
            "or tickets (a helpdesk export, CSV or JSON)"
        ),
    ],
    source: Annotated[Path, typer.Argument(help="the directory or file to import", exists=True)],
    content: Annotated[Path | None, typer.Option("--content", help="content directory to write into")] = None,
    locale: Annotated[str, typer.Option("--locale", help="locale of CSV rows without one")] = "ja",
    category: Annotated[str, typer.Option("--category", help="category of CSV rows without one")] = "faq",
    timezone: Annotated[
        str, typer.Option("--timezone", help="tickets: zone of times without one (UTC, +09:00, Asia/Tokyo)")
    ] = "UTC",
) -> None:
    """Import articles into the content directory as Markdown, or helpdesk tickets into the database (gap signal)."""
    if kind == "tickets":
        import_helpdesk_tickets(source, timezone=timezone)
        return
    from indexer.importers import ContentImportError, from_markdown_dir, from_qa_csv, from_zendesk, write_articles

    readers = {
        "markdown": from_markdown_dir,
        "csv": lambda path: from_qa_csv(path, locale=locale, category=category),
        "zendesk": from_zendesk,
    }
    if kind not in readers:
        raise typer.BadParameter(f"kind must be one of {', '.join(readers)}")
    target = content or Settings().content_dir
    try:
        articles = readers[kind](source)
    except (ContentImportError, OSError) as exc:
        typer.secho(f"nothing imported: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    written = write_articles(articles, target)
    typer.echo(f"imported {len(written)} articles into {target}; run `deflect index` to publish them")


def import_helpdesk_tickets(source: Path, *, timezone: str) -> None:
    """Read a helpdesk export whole, then store its new tickets redacted and embedded, with a progress bar."""
    from app.privacy import Redactor
    from app.reports.gaps.live_topics import LiveTopics
    from app.tickets import (
        InvalidTicketsError,
        TicketImportError,
        detect_format,
        import_tickets,
        parse_timezone,
        read_tickets,
    )

    if not source.is_file():
        raise typer.BadParameter(f"{source} is not a file: give a CSV or JSON export of tickets")
    settings = Settings()
    try:
        data = source.read_bytes()
        tickets = read_tickets(
            data, format=detect_format(data, name=source.name), default_timezone=parse_timezone(timezone)
        )
    except (TicketImportError, OSError) as exc:
        typer.secho(f"nothing imported: {exc}", fg="red", err=True)
        for problem in exc.problems if isinstance(exc, InvalidTicketsError) else []:
            where = f"line {problem['line']}" if "line" in problem else f"ticket {problem['row']}"
            typer.secho(f"  {where}: {problem['msg']}", fg="red", err=True)
        raise typer.Exit(1) from exc
    embedder = _configured_embedder(settings)
    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="ticket", desc="embedding")
        bar.update(done - bar.n)  # redraws at most ten times a second

    try:
        with _database(settings) as (session, _policy):
            topics = LiveTopics()
            topics.refresh(session)  # new tickets join the live gap topics, as they do through the API
            receipt = import_tickets(
                session,
                tickets=tickets,
                embedder=embedder,
                redactor=Redactor(settings.redact_patterns, client_id_key=settings.client_id_key_value),
                retention_days=settings.retention_days,
                assign_topic=topics.assign,
                on_progress=progress,
            )
    finally:
        if bar is not None:
            bar.close()
    typer.echo(
        f"imported {receipt.imported} of {receipt.read} tickets: {receipt.duplicates} already imported, "
        f"{receipt.expired} older than the retention period ({settings.retention_days:g} days), "
        f"{receipt.assigned} joined a live gap topic"
    )


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (the service also does this at start-up)."""
    with _database(Settings()):
        typer.echo("database schema is up to date")


@cli.command("rebuild-rollup")
def rebuild_rollup(
    days: Annotated[float | None, typer.Option("--days", help="only sets of the last N days; default all")] = None,
) -> None:
    """Recompute the deflection rollup from stored events: after changing the attribution or re-contact window."""
    import time

    from app.rollup import rebuild

    since = time.time() - days * 86400 if days else 0.0
    with _database(Settings()) as (session, policy):
        rebuild(session, policy=policy, since=since)
    typer.echo("deflection rollup rebuilt")


def main() -> None:
    try:
        cli()
    except ValidationError as error:
        if error.title != Settings.__name__:
            raise
        for problem in setting_problems(error):
            typer.echo(f"deflect: {problem}", err=True)
        raise SystemExit(2) from None
