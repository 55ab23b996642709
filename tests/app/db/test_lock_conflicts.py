"""Transactions that PostgreSQL aborts for a lock conflict are run again (app.db.engine.retrying_lock_conflicts)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, insert, text, update
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlmodel import Session, col, select

from app.db.engine import make_engine, retrying_lock_conflicts
from app.db.models import SuggestionSet


@pytest.fixture
def postgres(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        for set_id in ("a", "b"):
            connection.execute(
                insert(SuggestionSet).values(
                    id=set_id, channel="form", label="answered", confidence=0.9, result_count=1, index_build="x"
                )
            )
    yield engine
    engine.dispose()


def _crosswise(first: str, second: str, meet: threading.Barrier, attempts: list[str]) -> Callable[[Session], None]:
    """A transaction that locks `first`, waits for the other to lock its own, then wants `second`: a deadlock."""

    def transaction(session: Session) -> None:
        attempts.append(first)
        session.execute(update(SuggestionSet).where(col(SuggestionSet.id) == first).values(ticketed=True))
        if attempts.count(first) == 1:  # only the first attempt meets the other; a retry goes straight on
            meet.wait(10)
        session.execute(update(SuggestionSet).where(col(SuggestionSet.id) == second).values(ticketed=True))
        session.commit()

    return transaction


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("retrying", [True, False])
def test_two_transactions_locking_the_same_rows_crosswise_both_land_when_retried(
    postgres: Engine, retrying: bool
) -> None:
    meet, attempts = threading.Barrier(2), list[str]()
    failures: list[BaseException] = []

    def run(first: str, second: str) -> None:
        transaction = _crosswise(first, second, meet, attempts)
        with Session(postgres) as session:
            try:
                if retrying:
                    retrying_lock_conflicts(session, lambda: transaction(session))
                else:
                    transaction(session)
            except DBAPIError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    if not retrying:  # the conflict is real: PostgreSQL aborts one of the two
        assert len(failures) == 1 and getattr(failures[0].orig, "pgcode", None) == "40P01"
        return
    assert failures == []
    assert len(attempts) == 3  # one of the two ran again
    with Session(postgres) as session:
        assert all(session.exec(select(SuggestionSet.ticketed)).all())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_other_database_errors_are_not_retried(postgres: Engine) -> None:
    calls = []

    def broken(session: Session) -> None:
        calls.append(1)
        session.execute(text("SELEC 1"))

    with Session(postgres) as session, pytest.raises(ProgrammingError):
        retrying_lock_conflicts(session, lambda: broken(session))
    assert len(calls) == 1
