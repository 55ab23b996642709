import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from app.db.engine import alembic_config, make_engine, migrate
from app.reports.deflection import DeflectionPolicy


def test_migrations_build_exactly_the_models_schema(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        migrate(engine)
        migrate(engine)  # idempotent: a second start-up changes nothing
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
            tables = set(inspect(connection).get_table_names())
        assert differences == []
        assert {"suggestion_set", "suggested_article", "event", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_workers_starting_together_on_one_sqlite_file_migrate_once(tmp_path: Path) -> None:
    # uvicorn's workers each migrate at start-up; without a lock, the second hits "table already exists".
    url = f"sqlite:///{tmp_path / 'deflect.db'}"
    failures: list[BaseException] = []

    def start_worker() -> None:
        engine = make_engine(url)
        try:
            migrate(engine)
        except BaseException as exc:  # noqa: BLE001 - any failure of any worker fails the test
            failures.append(exc)
        finally:
            engine.dispose()

    workers = [threading.Thread(target=start_worker) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    engine = make_engine(url)
    assert "suggestion_set" in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.parametrize("window_hours", [24, 72])
def test_upgrading_fills_each_shown_articles_flags_from_the_stored_events(
    empty_database_url: str, window_hours: int
) -> None:
    # A database of revision 0006 knew clicks and votes only per set; 0007 credits the article each one named.
    engine = make_engine(empty_database_url)
    try:
        migrate(engine, "0006")
        sets = [("s1", 1000.0), ("s2", 1100.0)]  # one intent: a click on s1 counts for s2 too, within W
        with engine.begin() as connection:
            for query_id, created in sets:
                connection.execute(
                    text(
                        """INSERT INTO suggestion_set (id, created_at, channel, label, confidence, result_count,
                             index_build, composing, created_epoch, created_day, intent_id, superseded, clicked,
                             explicit, helpful, not_helpful, ticketed, recontacted)
                           VALUES (:id, :at, 'form', 'answered', 0.9, 2, 'b', :no, :created, '1970-01-01', 's1',
                             :no, :yes, :no, :no, :yes, :no, :no)"""
                    ),
                    {"id": query_id, "at": dt.datetime.fromtimestamp(created, dt.UTC), "created": created}
                    | {"no": False, "yes": True},
                )
                for position, article in enumerate(("a", "b"), start=1):
                    connection.execute(
                        text(
                            """INSERT INTO suggested_article (query_id, position, article_id, score, confidence,
                                 fallback) VALUES (:query, :position, :article, 0.5, 0.5, :no)"""
                        ),
                        {"query": query_id, "position": position, "article": article, "no": False},
                    )
            for key, (action, article, ts) in enumerate(
                [("click", "b", 1010.0), ("not_helpful", "a", 1020.0), ("click", "a", 1000.0 + 2 * 86400)]
            ):
                connection.execute(
                    text(
                        """INSERT INTO event (query_id, client_id, action, article_id, ts_epoch, received_at,
                             idempotency_key) VALUES ('s1', 'c', :action, :article, :ts, :at, :key)"""
                    ),
                    {"action": action, "article": article, "ts": ts, "at": dt.datetime.now(dt.UTC), "key": str(key)},
                )
        migrate(engine, policy=DeflectionPolicy(attribution_window=dt.timedelta(hours=window_hours)))
        with engine.connect() as connection:
            flags = {
                (row.query_id, row.article_id): (bool(row.clicked), bool(row.helpful), bool(row.not_helpful))
                for row in connection.execute(text("SELECT * FROM suggested_article"))
            }
        # The click on "a" came two days later: outside a window of 24 hours, inside one of 72.
        late_click_counts = window_hours == 72
        assert flags == {
            (query_id, article): (article == "b" or late_click_counts, False, article == "a")
            for query_id, _ in sets
            for article in ("a", "b")
        }
    finally:
        engine.dispose()


def test_a_migration_that_fails_halfway_leaves_sqlite_as_it_was_and_runs_again(tmp_path: Path) -> None:
    # pysqlite runs DDL outside transactions: 0007's columns used to stay behind when its backfill failed,
    # with the revision still at 0006, and every later start-up failed on "duplicate column".
    engine = make_engine(f"sqlite:///{tmp_path / 'deflect.db'}")
    try:
        migrate(engine, "0006")
        with engine.begin() as connection:
            connection.execute(
                text(
                    """INSERT INTO suggestion_set (id, created_at, channel, label, confidence, result_count,
                         index_build, composing, created_epoch, created_day, intent_id, superseded, clicked,
                         explicit, helpful, not_helpful, ticketed, recontacted)
                       VALUES ('s1', '1970-01-01', 'form', 'answered', 0.9, 1, 'b', 0, 1000, '1970-01-01', 's1', 0, 0,
                         0, 0, 0, 0, 0)"""
                )
            )
            connection.execute(
                text(
                    """INSERT INTO suggested_article (query_id, position, article_id, score, confidence, fallback)
                       VALUES ('s1', 1, 'a', 0.5, 0.5, 0)"""
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE UPDATE ON suggested_article BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        with pytest.raises(Exception, match="refused"):
            migrate(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0006"
            columns = {column["name"] for column in inspect(connection).get_columns("suggested_article")}
            assert "clicked" not in columns
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse"))
        migrate(engine)
        with engine.connect() as connection:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
            assert connection.execute(text("SELECT clicked FROM suggested_article")).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_current_schema_is_found_current_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    # Every start and `deflect` command migrates: with nothing to do, that must not wait on a long writer.
    url = f"sqlite:///{tmp_path / 'deflect.db'}"
    engine = make_engine(url)
    try:
        migrate(engine)
        writer = sqlite3.connect(tmp_path / "deflect.db", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE suggestion_set SET ticketed = ticketed")
        starting = make_engine(url)
        started = time.monotonic()
        migrate(starting)
        assert time.monotonic() - started < 5  # the busy timeout is 30 s
        starting.dispose()
        writer.execute("ROLLBACK")
        writer.close()
    finally:
        engine.dispose()
