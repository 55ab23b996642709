"""Scripted customers, and the exact report figures they must produce (definitions: docs/deflection.md)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter, defaultdict

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, update
from sqlmodel import Session

from app.db.engine import make_engine
from app.db.models import SuggestedArticle, SuggestionSet
from app.reports.deflection import COUNTS, DeflectionPolicy, deflection_report
from app.reports.period import InvalidPeriodError, Period
from retrieval.vocabulary import Channel

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
    """The report as the API writes it."""
    with Session(engine) as session:
        report = deflection_report(
            session, period=Period.of(dt.date.today() - dt.timedelta(days=10), dt.date.today()), **kw
        )  # type: ignore[arg-type]
    return report.model_dump(mode="json", by_alias=True)


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
    assert by_article["reset-password"]["explicit_deflected"] == 1  # d's solved; c and d2 were tickets
    # e's helpful vote, and d's solved too where the form showed the webhook article among its suggestions.
    assert by_article["webhook-setup"]["explicit_deflected"] >= 1
    by_day = _report(scripted, group_by="day")["groups"]
    assert sum(g["suggestion_sets"] for g in by_day) == 8
    assert [g["key"] for g in by_day] == sorted(g["key"] for g in by_day)


def test_by_article_a_click_and_the_deflection_belong_to_the_article_clicked(
    client: TestClient, engine: Engine
) -> None:
    from app.rollup import rebuild

    shown = _suggest(client, "Webhookの設定とパスワード", channel="form", client_id="h", hours_ago=72, engine=engine)
    first, second = (result["article_id"] for result in shown["results"][:2])
    soon = dt.datetime.fromtimestamp(shown["at"] + 60, dt.UTC).isoformat()
    click = {"query_id": shown["query_id"], "client_id": "h", "article_id": second, "position": 2, "ts": soon}
    for action in ("click", "not_helpful"):
        assert client.post("/v1/events", json=click | {"action": action}).status_code == 200
    _event(client, shown, "form_abandoned", client_id="h", hours_after=0.02)

    def by_article() -> dict[str, dict]:  # type: ignore[type-arg]
        return {g["key"]: g for g in _report(engine, group_by="article")["groups"]}

    groups = by_article()
    assert (groups[first]["shown"], groups[first]["clicked"], groups[first]["implicit_deflected"]) == (1, 0, 0)
    assert groups[first]["not_helpful"] == 0 and groups[first]["average_click_position"] is None
    assert (groups[second]["clicked"], groups[second]["implicit_deflected"], groups[second]["not_helpful"]) == (1, 1, 1)
    assert groups[second]["average_click_position"] == 2.0
    assert _report(engine)["totals"]["implicit_deflected"] == 1  # the set itself counts once
    with Session(engine) as session:
        session.execute(update(SuggestedArticle).values(clicked=False, not_helpful=False))
        session.commit()
        rebuild(session, policy=DeflectionPolicy())
    assert by_article() == groups


def test_a_deflection_after_a_click_on_an_article_no_longer_shown_goes_to_none_shown(
    client: TestClient, engine: Engine
) -> None:
    def suggest(text: str, limit: int) -> dict:  # type: ignore[type-arg]
        body = {"text": text, "locale": "ja", "channel": "form", "client_id": "m", "limit": limit}
        shown: dict = client.post("/v1/suggest", json=body).json()  # type: ignore[type-arg]
        return shown

    early = suggest("Webhookの設定とパスワード", 5)
    final = suggest("Webhookの設定とパスワードの件", 1)
    clicked = early["results"][1]["article_id"]
    assert [r["article_id"] for r in final["results"]] != [clicked]
    moment = time.time() - 72 * HOUR  # both keystrokes three days ago: W has passed
    with Session(engine) as session:
        session.execute(
            update(SuggestionSet)
            .where(SuggestionSet.id.in_([early["query_id"], final["query_id"]]))  # type: ignore[attr-defined]
            .values(created_epoch=moment, created_day=dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%d"))
        )
        session.commit()
    soon = dt.datetime.fromtimestamp(moment + 60, dt.UTC).isoformat()
    click = {"query_id": early["query_id"], "client_id": "m", "action": "click", "article_id": clicked, "ts": soon}
    abandoned = {"query_id": final["query_id"], "client_id": "m", "action": "form_abandoned", "ts": soon}
    assert client.post("/v1/events", json=[click, abandoned]).status_code == 200
    assert _report(engine)["totals"]["implicit_deflected"] == 1
    groups = _report(engine, group_by="article")["groups"]
    # The article used is not in the final set, and the one shown there was not used: it gets no credit.
    assert [(g["key"], g["shown"], g["implicit_deflected"], g["clicked"]) for g in groups] == [
        (final["results"][0]["article_id"], 1, 0, 0)
    ]


def test_a_later_keystroke_keeps_what_was_done_with_each_article(client: TestClient, engine: Engine) -> None:
    def suggest(text: str) -> dict:  # type: ignore[type-arg]
        body: dict = client.post("/v1/suggest", json={"text": text, "channel": "search", "client_id": "k"}).json()  # type: ignore[type-arg]
        return body

    early = suggest("パスワードを忘れ")
    clicked = early["results"][0]["article_id"]
    event = {"query_id": early["query_id"], "client_id": "k", "action": "click", "article_id": clicked, "position": 1}
    assert client.post("/v1/events", json=event).status_code == 200
    final = suggest("パスワードを忘れた場合")
    with Session(engine) as session:
        flags = {
            row.article_id: row.clicked
            for row in session.execute(
                select(SuggestedArticle).where(SuggestedArticle.query_id == final["query_id"])
            ).scalars()
        }
        superseded = session.get(SuggestionSet, early["query_id"])
        latest = session.get(SuggestionSet, final["query_id"])
    assert superseded is not None and superseded.superseded  # one intent, so the final set carries the click
    assert flags[clicked] is True and not any(flag for article, flag in flags.items() if article != clicked)
    assert latest is not None and latest.clicked and latest.click_position == 1  # as a rebuild would find them


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
        rebuild(session, policy=DeflectionPolicy())
    after = _report(scripted, group_by="channel")
    assert after["totals"] == before["totals"]
    assert after["groups"] == before["groups"]


ARTICLES = [f"article-{i}" for i in range(6)]


def _random_sets(engine: Engine, *, now: float, count: int = 400) -> list[dict]:  # type: ignore[type-arg]
    """Sets with every combination of rollup flags, spread over 12 days, some of them still in the window."""
    rng = random.Random(7)
    sets, shown = [], []
    for n in range(count):
        at = now - rng.random() * 12 * 24 * HOUR
        articles = rng.sample(ARTICLES, 0 if rng.random() < 0.15 else rng.randint(1, 4))
        flags = {flag: rng.random() < 0.3 for flag in ("clicked", "explicit", "helpful", "not_helpful", "ticketed")}
        sets.append(
            {
                "id": f"set{n:05d}",
                "created_at": dt.datetime.fromtimestamp(at, dt.UTC),
                "created_epoch": at,
                "created_day": dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d"),
                "channel": rng.choice(["search", "form", "api"]),
                "label": rng.choice(["answered", "low_confidence", "no_answer"]),
                "confidence": 0.5,
                "result_count": len(articles),
                "index_build": "test",
                "composing": rng.random() < 0.1,
                "superseded": rng.random() < 0.1,
                "intent_id": f"set{n:05d}",
                "first_article": articles[0] if articles else None,
                "click_position": rng.choice([None, *range(1, len(articles) + 1)]),
                "recontacted": rng.random() < 0.3,
                **flags,
            }
        )
        shown += [
            {"query_id": f"set{n:05d}", "position": p, "article_id": a, "score": 0.5, "confidence": 0.5}
            | {flag: rng.random() < 0.3 for flag in ("clicked", "helpful", "not_helpful")}
            for p, a in enumerate(articles, start=1)
        ]
    with Session(engine) as session:
        session.execute(insert(SuggestionSet), sets)
        session.execute(insert(SuggestedArticle), shown)
        session.commit()
    for row in sets:
        row["articles"] = [a for a in shown if a["query_id"] == row["id"]]
    return sets


def _expected(sets: list[dict], *, period: Period, now: float, group_by: str | None, channel: str | None) -> dict:  # type: ignore[type-arg]
    """The figures straight from the definitions, one set at a time."""
    groups: dict[object, Counter[str]] = defaultdict(Counter)
    positions: dict[object, list[int]] = defaultdict(list)
    for s in sets:
        if not period.start.timestamp() <= s["created_epoch"] < period.end.timestamp() or s["composing"]:
            continue
        if s["superseded"] or (channel and s["channel"] != channel):
            continue
        outcome = (
            "not_deflected"
            if s["ticketed"]
            else "not_shown"
            if s["result_count"] == 0
            else "pending"
            if s["created_epoch"] + 24 * HOUR > now
            else "explicit"
            if s["explicit"]
            else "implicit"
            if s["channel"] == "form" and (s["clicked"] or s["helpful"])
            else "none"
        )
        shown = s["result_count"] > 0
        counts = {
            "suggestion_sets": True,
            "shown": shown,
            "explicit_deflected": outcome == "explicit",
            "implicit_deflected": outcome == "implicit",
            "not_deflected": outcome == "not_deflected" and shown,
            "pending": outcome == "pending",
            "net_deflected": outcome in ("explicit", "implicit") and not s["recontacted"],
            "clicked": shown and s["clicked"],
            "no_result": not shown,
            "low_confidence": s["label"] == "low_confidence",
            "helpful": s["helpful"],
            "not_helpful": s["not_helpful"],
        }
        rows: list[tuple[object, int | None, dict[str, bool]]] = [(None, s["click_position"], counts)]
        if group_by in ("day", "channel"):
            rows = [(s["created_day"] if group_by == "day" else s["channel"], s["click_position"], counts)]
        elif group_by == "article":
            rows = []
            for a in s["articles"]:
                # The article's own click and votes; a deflection only where it was used, or none of the set's was.
                engaged = s["clicked"] or s["helpful"]
                credited = a["clicked"] or a["helpful"] or not (a["not_helpful"] or engaged)
                deflected = outcome in ("explicit", "implicit") and credited
                mine = counts | {
                    "explicit_deflected": deflected and outcome == "explicit",
                    "implicit_deflected": deflected and outcome == "implicit",
                    "net_deflected": deflected and not s["recontacted"],
                    "clicked": a["clicked"],
                    "helpful": a["helpful"],
                    "not_helpful": a["not_helpful"],
                }
                rows.append((a["article_id"], a["position"] if a["clicked"] else None, mine))
        if group_by is not None:
            rows.append(("total", s["click_position"], counts))
        for key, position, counted in rows:
            groups[key].update({name: int(value) for name, value in counted.items()})
            if position is not None:
                positions[key].append(position)

    def figures(key: object) -> dict:  # type: ignore[type-arg]
        clicks = positions[key]
        return {name: groups[key][name] for name in COUNTS} | {
            "average_click_position": round(sum(clicks) / len(clicks), 3) if clicks else None
        }

    totals = "total" if group_by else None
    return {"totals": figures(totals), "groups": {k: figures(k) for k in groups if k != totals}}


@pytest.mark.parametrize("group_by", [None, "day", "channel", "article"])
def test_every_figure_follows_the_definitions_set_by_set(database_url: str, group_by: str | None) -> None:
    engine = make_engine(database_url)
    now = time.time()
    sets = _random_sets(engine, now=now)
    period = Period.of(dt.date.today() - dt.timedelta(days=10), dt.date.today())
    for channel in (None, Channel.FORM):
        with Session(engine) as session:
            report = deflection_report(session, period=period, group_by=group_by, channel=channel, now=now).model_dump()
        expected = _expected(sets, period=period, now=now, group_by=group_by, channel=channel)
        picked = [*COUNTS, "average_click_position"]
        assert {name: report["totals"][name] for name in picked} == expected["totals"]
        assert {g["key"]: {name: g[name] for name in picked} for g in report["groups"]} == expected["groups"]
        assert [g["key"] for g in report["groups"]] == sorted(g["key"] for g in report["groups"])
    engine.dispose()
