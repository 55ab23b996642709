"""Scripted customers, and the exact report figures they must produce (definitions: PRODUCT.md)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session

from app.deflection import InvalidPeriodError, Period, deflection_report
from app.models import SuggestionSet

HOUR = 3600.0


def _suggest(client: TestClient, text: str, *, channel: str, client_id: str, hours_ago: float, engine: Engine) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/v1/suggest", json={"text": text, "locale": "ja", "channel": channel, "client_id": client_id}
    )
    assert response.status_code == 200
    body: dict = response.json()  # type: ignore[type-arg]
    assert body["results"], body
    # Move the set into the past, as if the customer had asked then.
    moment = time.time() - hours_ago * HOUR
    with Session(engine) as session:
        session.execute(
            update(SuggestionSet)
            .where(SuggestionSet.id == body["query_id"])
            .values(  # type: ignore[arg-type]
                created_epoch=moment, created_day=dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%d")
            )
        )
        session.commit()
    body["at"] = moment
    return body


def _event(
    client: TestClient,
    shown: dict,
    action: str,
    *,
    client_id: str,
    hours_after: float,  # type: ignore[type-arg]
    article: bool = False,
    key: str | None = None,
) -> None:
    event: dict[str, object] = {
        "query_id": shown["query_id"],
        "client_id": client_id,
        "action": action,
        "ts": dt.datetime.fromtimestamp(shown["at"] + hours_after * HOUR, dt.UTC).isoformat(),
    }
    if article:
        event |= {"article_id": shown["results"][0]["article_id"], "position": 1}
    if key:
        event["idempotency_key"] = key
    assert client.post("/v1/events", json=event).status_code == 200


@pytest.fixture
def scripted(client: TestClient, engine: Engine) -> Engine:
    password = "パスワードを忘れた場合の再設定方法"
    # A search-box user who clicks and leaves: a click, but search has no implicit deflection.
    a = _suggest(client, password, channel="search", client_id="a", hours_ago=72, engine=engine)
    _event(client, a, "click", client_id="a", hours_after=0.01, article=True)
    # A form user who reads and abandons: implicit deflection.
    b = _suggest(client, "有給休暇の付与日数", channel="form", client_id="b", hours_ago=72, engine=engine)
    _event(client, b, "click", client_id="b", hours_after=0.01, article=True)
    _event(client, b, "form_abandoned", client_id="b", hours_after=0.02)
    # A form user who submits anyway: not deflected.
    c = _suggest(client, password, channel="form", client_id="c", hours_ago=72, engine=engine)
    _event(client, c, "click", client_id="c", hours_after=0.01, article=True)
    _event(client, c, "ticket_submitted", client_id="c", hours_after=0.05)
    # Solved, then back two days later with a ticket on the same topic: explicit, but not net.
    d = _suggest(client, password, channel="form", client_id="d", hours_ago=96, engine=engine)
    _event(client, d, "solved", client_id="d", hours_after=0.1, key="d-solved")
    _event(client, d, "solved", client_id="d", hours_after=0.1, key="d-solved")  # a duplicate retry
    d2 = _suggest(client, password, channel="form", client_id="d", hours_ago=48, engine=engine)
    _event(client, d2, "ticket_submitted", client_id="d", hours_after=0.1)
    # Helpful on the search box: explicit; a late not_helpful after W does not count.
    e = _suggest(client, "Webhookの設定", channel="search", client_id="e", hours_ago=72, engine=engine)
    _event(client, e, "helpful", client_id="e", hours_after=2, article=True)
    _event(client, e, "not_helpful", client_id="e", hours_after=30, article=True)
    # A fresh form set, window still open: pending.
    f = _suggest(client, "有給休暇の付与日数", channel="form", client_id="f", hours_ago=1, engine=engine)
    _event(client, f, "click", client_id="f", hours_after=0.01, article=True)
    # A question nothing answers.
    response = client.post(
        "/v1/suggest", json={"text": "量子コンピュータの冷却温度", "channel": "api", "client_id": "g"}
    )
    assert response.json()["results"] == []
    return engine


def _report(engine: Engine, **kw: object) -> dict:  # type: ignore[type-arg]
    with Session(engine) as session:
        return deflection_report(
            session, period=Period.of(dt.date.today() - dt.timedelta(days=10), dt.date.today()), **kw
        )  # type: ignore[arg-type]


def test_deflection_totals_follow_the_published_definitions(scripted: Engine) -> None:
    totals = _report(scripted)["totals"]
    assert totals["suggestion_sets"] == 8
    assert totals["shown"] == 7
    assert totals["explicit_deflected"] == 2  # d (solved), e (helpful on search)
    assert totals["implicit_deflected"] == 1  # b
    assert totals["not_deflected"] == 2  # c, and d2 (whose own ticket followed it)
    assert totals["pending"] == 1  # f
    assert totals["net_deflected"] == 2  # d came back on the same topic within R
    assert totals["deflection_rate"] == round(3 / 7, 4)
    assert totals["net_deflection_rate"] == round(2 / 7, 4)
    assert totals["clicked"] == 4  # a, b, c, f
    assert totals["ctr"] == round(4 / 7, 4)
    assert totals["no_result"] == 1 and totals["no_result_rate"] == round(1 / 8, 4)
    assert (totals["helpful"], totals["not_helpful"], totals["helpful_rate"]) == (1, 0, 1.0)
    assert totals["average_click_position"] == 1.0


def test_deflection_grouped_by_channel_reports_each_channel_apart(scripted: Engine) -> None:
    groups = {g["key"]: g for g in _report(scripted, group_by="channel")["groups"]}
    assert set(groups) == {"api", "form", "search"}
    assert (groups["search"]["explicit_deflected"], groups["search"]["implicit_deflected"]) == (1, 0)
    assert (groups["form"]["explicit_deflected"], groups["form"]["implicit_deflected"]) == (1, 1)
    assert groups["form"]["not_deflected"] == 2 and groups["form"]["pending"] == 1
    assert groups["api"]["no_result"] == 1


def test_deflection_grouped_by_article_and_day(scripted: Engine) -> None:
    by_article = {g["key"]: g for g in _report(scripted, group_by="article")["groups"]}
    assert by_article["reset-password"]["not_deflected"] == 2
    assert by_article["webhook-setup"]["explicit_deflected"] == 1
    by_day = _report(scripted, group_by="day")["groups"]
    assert sum(g["suggestion_sets"] for g in by_day) == 8
    assert [g["key"] for g in by_day] == sorted(g["key"] for g in by_day)


def test_deflection_report_over_http_needs_a_secret_key_and_speaks_csv(scripted: Engine, client: TestClient) -> None:
    del scripted
    response = client.get("/v1/reports/deflection", params={"group_by": "channel", "format": "csv"})
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0].startswith("key,suggestion_sets,shown,explicit_deflected")
    assert lines[1].startswith("total,8,7,2,1,2,1,2,")
    assert client.get("/v1/reports/deflection", params={"group_by": "week"}).status_code == 422


def test_an_empty_period_reports_zeros_not_errors(client: TestClient, engine: Engine) -> None:
    del client
    totals = _report(engine)["totals"]
    assert totals["suggestion_sets"] == 0 and totals["deflection_rate"] is None


def test_period_must_run_forwards() -> None:
    with pytest.raises(InvalidPeriodError):
        Period.of(dt.date(2026, 2, 1), dt.date(2026, 1, 1))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (dt.date(649, 7, 14), None),
        (dt.date(1969, 12, 1), dt.date(1970, 1, 5)),
        (None, dt.date(9999, 1, 1)),
        (None, dt.date(1, 1, 1)),
    ],
)
def test_period_outside_stored_time_is_refused(start: dt.date | None, end: dt.date | None) -> None:
    with pytest.raises(InvalidPeriodError, match="1970-01-01 and 2999-12-31"):
        Period.of(start, end)


def test_rebuilding_the_rollup_from_events_gives_the_same_report(scripted: Engine) -> None:
    from app.rollup import rebuild

    before = _report(scripted, group_by="channel")
    with Session(scripted) as session:
        session.execute(update(SuggestionSet).values(clicked=False, explicit=False, ticketed=False, recontacted=False))
        session.commit()
        assert _report(scripted)["totals"]["not_deflected"] == 0
        rebuild(session, window=24 * HOUR, recontact=7 * 24 * HOUR)
    after = _report(scripted, group_by="channel")
    assert after["totals"] == before["totals"]
    assert after["groups"] == before["groups"]
