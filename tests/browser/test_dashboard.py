"""The dashboard in a real browser: charts, KPI tiles and the gap table from data seeded through the API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser.conftest import BROWSER_TESTS, PUBLISHABLE_KEY, SECRET_KEY, WINDOW_HOURS, Server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = BROWSER_TESTS
pytest.importorskip("playwright")

UNANSWERED = "交通費の精算はできますか"
# Customer text the dashboard must show as text: markup in it must never become elements or run.
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
# (question, locale, channel, what the customer did): explicit, implicit (a click on the form), and no deflection.
ANSWERED = [
    ("パスワードを忘れてログインできません", "ja", "form", "solved"),
    ("I forgot my password", "en", "search", "solved"),
    ("月次の締めを解除したい", "ja", "form", "click"),
    ("How can I download an invoice?", "en", "search", "click"),
]
# Counts the canvas pixels a chart painted: a Chart instance that drew nothing paints none.
PAINTED = """(id) => {
    const chart = Chart.getChart(id);
    if (!chart) return null;
    const canvas = chart.canvas;
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    const series = chart.data.datasets.map((d) => ({label: d.label, data: d.data}));
    return {type: chart.config.type, series, labels: chart.data.labels, painted};
}"""

TILES = """() => Object.fromEntries(
    [...document.querySelectorAll("[data-kpi]")].map((node) => [node.dataset.kpi, node.textContent])
)"""


def _ask(api: httpx.Client, text: str, locale: str, channel: str, client_id: str) -> dict[str, Any]:
    response = api.post(
        "/v1/suggest", json={"text": text, "locale": locale, "channel": channel, "client_id": client_id}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _event(api: httpx.Client, answer: dict[str, Any], client_id: str, action: str, position: int | None = None) -> None:
    event: dict[str, Any] = {"query_id": answer["query_id"], "client_id": client_id, "action": action}
    if position is not None:
        event |= {"article_id": answer["results"][position - 1]["article_id"], "position": position}
    response = api.post("/v1/events", json=event)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def seeded(server: Server) -> Server:
    """Answered questions that were clicked or solved, one question nothing answers asked three times,
    and a markup-laden one asked twice."""
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"}) as api:
        for i, (text, locale, channel, action) in enumerate(ANSWERED):
            client_id = f"seed-answered-{i}"
            answer = _ask(api, text, locale, channel, client_id)
            assert answer["results"], text
            _event(api, answer, client_id, "impression")
            _event(api, answer, client_id, action, position=1)
        for i in range(3):
            client_id = f"seed-expenses-{i}"
            answer = _ask(api, UNANSWERED, "ja", "form", client_id)
            _event(api, answer, client_id, "ticket_submitted")
        for i in range(2):
            client_id = f"seed-hostile-{i}"
            answer = _ask(api, HOSTILE, "en", "form", client_id)
            _event(api, answer, client_id, "ticket_submitted")
    time.sleep(WINDOW_HOURS * 3600 + 0.5)  # until every seeded set is decided
    return server


def _totals(server: Server, **params: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {SECRET_KEY}"}
    response = httpx.get(f"{server.url}/v1/reports/deflection", headers=headers, params=params)
    assert response.status_code == 200, response.text
    totals: dict[str, Any] = response.json()["totals"]
    return totals


def _sign_in(page: Page, server: Server, key: str) -> None:
    page.goto(f"{server.url}/dashboard")
    page.fill("#key", key)
    page.click("#key-form button[type=submit]")


def test_dashboard_draws_charts_and_ranks_the_unanswered_question(page: Page, seeded: Server, artifacts: Path) -> None:
    _sign_in(page, seeded, SECRET_KEY)

    topic = page.locator("#gaps-table tr.gap-topic", has_text=UNANSWERED)
    topic.wait_for()
    assert "Missing article" in topic.locator(".badge").inner_text()
    assert topic.locator("strong").inner_text() == UNANSWERED  # the representative question comes first
    assert "How they failed" in topic.inner_text()
    assert topic.locator("td").nth(3).inner_text() == "3"  # volume
    assert topic.locator(".examples li").all_inner_texts() == [UNANSWERED]  # distinct examples
    question = page.locator("#questions-table tr.unanswered-question", has_text=UNANSWERED)
    assert question.locator("td").nth(2).inner_text() == "3"  # asked three times
    assert "No answer" in question.locator(".badge").inner_text()
    days = page.evaluate(PAINTED, "chart-days")
    channels = page.evaluate(PAINTED, "chart-channels")
    assert days is not None and len(days["labels"]) == 30 and days["painted"] > 1000
    assert channels is not None and channels["painted"] > 1000
    assert [label.split(" ")[0] for label in channels["labels"]] == ["form", "search"]
    # The topics chart ranks the table's topics, with their volumes, this period against the one before.
    topics = page.evaluate(PAINTED, "chart-topics")
    rows = page.locator("#gaps-table tr.gap-topic")
    assert topics is not None and topics["type"] == "bar" and topics["painted"] > 1000
    # Each bar is named by its topic's representative question, as the table's row is (long ones cut short).
    names = [rows.nth(i).locator("strong").inner_text() for i in range(rows.count())]
    assert all(label.split(". ", 1)[1].rstrip("…") in name for label, name in zip(topics["labels"], names, strict=True))
    by_period = {series["label"]: series["data"] for series in topics["series"]}
    assert by_period["This period"] == [int(rows.nth(i).locator("td").nth(3).inner_text()) for i in range(rows.count())]
    assert by_period["Period before"] == [0] * rows.count()
    # The page shows the server's figures: tiles and chart series against the report API itself.
    totals = _totals(seeded)
    assert totals["explicit_deflected"] >= 2 and totals["implicit_deflected"] >= 1
    tiles = page.evaluate(TILES)
    assert len(tiles) == 6
    assert tiles == {name: f"{totals[name] * 100:.1f}%" for name in tiles}
    by_label = {series["label"]: series["data"] for series in days["series"]}
    assert sum(by_label["Explicitly deflected"]) == totals["explicit_deflected"]
    assert sum(by_label["Implicitly deflected"]) == totals["implicit_deflected"]
    assert sum(by_label["Not deflected"]) == totals["not_deflected"]
    assert page.locator("#never-list li").count() > 10
    # Never-shown articles read by title, their id beside it.
    first_never = page.locator("#never-list li").first
    assert first_never.locator("code").inner_text() != first_never.locator("span").inner_text()
    assert page.evaluate("() => sessionStorage.getItem('deflect_secret_key')") == SECRET_KEY
    assert page.evaluate("() => localStorage.length") == 0
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    with page.expect_download() as download:
        page.click("[data-csv=gaps]")
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("rank,label,verdict,volume")
    assert any(UNANSWERED in line for line in lines[1:])

    # Deflection over time for one channel: the day chart follows the channel selector.
    form_totals = _totals(seeded, channel="form")
    assert form_totals["suggestion_sets"] < totals["suggestion_sets"]
    page.select_option("#channel", "form")
    page.click("#range-form button[type=submit]")
    expected = form_totals["explicit_deflected"] + form_totals["implicit_deflected"] + form_totals["not_deflected"]
    for _ in range(50):
        days = page.evaluate(PAINTED, "chart-days")
        by_label = {series["label"]: series["data"] for series in days["series"]}
        shown = sum(by_label["Explicitly deflected"]) + sum(by_label["Implicitly deflected"])
        if shown + sum(by_label["Not deflected"]) == expected:
            break
        page.wait_for_timeout(100)
    assert sum(by_label["Implicitly deflected"]) == form_totals["implicit_deflected"]
    assert shown + sum(by_label["Not deflected"]) == expected


def test_dashboard_shows_markup_in_questions_as_text(page: Page, seeded: Server) -> None:
    _sign_in(page, seeded, SECRET_KEY)

    question = page.locator("#questions-table tr.unanswered-question", has_text="onerror")
    question.wait_for()
    assert HOSTILE in question.inner_text()
    topic = page.locator("#gaps-table tr.gap-topic", has_text="onerror")
    assert topic.locator(".examples li").all_inner_texts() == [HOSTILE]
    assert page.locator("#report img, #report script").count() == 0
    assert page.evaluate("() => window.__pwned") is None


def test_dashboard_counts_new_questions_on_a_known_topic(page: Page, seeded: Server) -> None:
    _sign_in(page, seeded, SECRET_KEY)
    topic = page.locator("#gaps-table tr.gap-topic", has_text=UNANSWERED)
    topic.wait_for()  # the report is computed now, and its topics are live
    with httpx.Client(base_url=seeded.url, headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"}) as api:
        _ask(api, UNANSWERED, "ja", "form", "seed-expenses-later")

    page.click("#range-form button[type=submit]")
    page.locator("#gaps-table tr.gap-topic .new-inquiries", has_text="+1 new since this report").wait_for()


def test_dashboard_refuses_a_publishable_key(page: Page, seeded: Server) -> None:
    _sign_in(page, seeded, PUBLISHABLE_KEY)

    page.wait_for_selector("#status.dash-error")
    assert page.inner_text("#status") == "The key was refused."
    assert page.is_hidden("#report")
    assert page.is_hidden(".dash-open")
    assert page.evaluate("() => sessionStorage.getItem('deflect_secret_key')") is None


def test_dashboard_of_an_open_service_shows_the_reports_without_a_key_and_says_it_is_open(
    page: Page, open_server: Server
) -> None:
    page.goto(f"{open_server.url}/dashboard")

    page.wait_for_selector("#report", state="visible")
    assert page.is_hidden("#key-form")
    assert page.inner_text(".dash-open").startswith("This service runs open: no API keys are set")
    assert page.inner_text("#status").endswith("suggestion sets.")
    assert page.evaluate("() => sessionStorage.length") == 0
