"""The widget in a real browser: the demo search box and inquiry form against the real service."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

import pytest

from tests.browser.conftest import BROWSER_TESTS, PUBLISHABLE_KEY, Server

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

pytestmark = BROWSER_TESTS
pytest.importorskip("playwright")

QUESTION = "パスワードを忘れてログインできません"
# What an IME shows while the question is being typed, reading by reading, before conversion.
READINGS = ["ぱ", "ぱすわ", "ぱすわーど", "ぱすわーどをわすれて", "パスワードを忘れて"]


def _open(page: Page, server: Server, path: str) -> None:
    page.goto(f"{server.url}{path}?key={PUBLISHABLE_KEY}")
    page.wait_for_function("() => window.Deflect !== undefined")


def _suggest_requests(page: Page) -> list[Any]:
    seen: list[Any] = []
    page.on("request", lambda request: seen.append(request) if "/v1/suggest" in request.url else None)
    return seen


class ChromiumIme:
    """Chromium's own IME path (DevTools Input.imeSetComposition): real composition and input events."""

    def compose(self, page: Page) -> None:
        self.session = page.context.new_cdp_session(page)
        for reading in READINGS:
            self.session.send(
                "Input.imeSetComposition",
                {"text": reading, "selectionStart": len(reading), "selectionEnd": len(reading)},
            )
            page.wait_for_timeout(150)

    def commit(self, page: Page) -> None:
        del page
        self.session.send("Input.insertText", {"text": QUESTION})


class ScriptedEvents:
    """The events dispatched by hand, in Safari's order: compositionend before the last input event."""

    def compose(self, page: Page) -> None:
        page.evaluate(
            """async (readings) => {
                const input = document.getElementById("help-search");
                input.dispatchEvent(new CompositionEvent("compositionstart", {bubbles: true, data: ""}));
                for (const reading of readings) {
                    input.value = reading;
                    input.dispatchEvent(new InputEvent("input", {bubbles: true, isComposing: true, data: reading}));
                    await new Promise((done) => setTimeout(done, 150));
                }
            }""",
            READINGS,
        )

    def commit(self, page: Page) -> None:
        page.evaluate(
            """(question) => {
                const input = document.getElementById("help-search");
                input.value = question;
                input.dispatchEvent(new CompositionEvent("compositionend", {bubbles: true, data: question}));
                input.dispatchEvent(new InputEvent("input", {bubbles: true, isComposing: false, data: question}));
            }""",
            QUESTION,
        )


@pytest.mark.parametrize("ime", [ChromiumIme, ScriptedEvents], ids=["chromium-ime", "scripted-events"])
def test_search_box_waits_for_ime_composition_then_suggests_once(
    page: Page, server: Server, artifacts: Path, ime: type[ChromiumIme | ScriptedEvents]
) -> None:
    _open(page, server, "/demo")
    requests = _suggest_requests(page)
    page.focus("#help-search")
    typist = ime()

    typist.compose(page)
    page.wait_for_timeout(800)  # three debounce periods, still composing
    assert page.input_value("#help-search") == READINGS[-1]
    assert requests == [], "a suggest request was sent during the composition"

    typist.commit(page)
    page.wait_for_selector("#help-search[aria-expanded=true]")
    page.wait_for_timeout(700)  # room for a second, duplicate request to show up
    assert len(requests) == 1
    request = requests[0]
    assert f"q={quote(QUESTION)}" in request.url
    assert "channel=search" in request.url and "locale=ja" in request.url and "client_id=" in request.url
    assert request.headers["authorization"] == f"Bearer {PUBLISHABLE_KEY}"
    options = page.locator("#help-search ~ [role=listbox] [role=option]")
    assert options.count() >= 1
    assert options.first.locator(".deflect-title").inner_text() == "パスワードを忘れた場合の再設定方法"
    assert options.first.locator(".deflect-snippet mark").count() >= 1  # the server's highlighting, as HTML
    assert page.get_attribute("#help-search", "aria-controls") == page.locator("[role=listbox]").get_attribute("id")

    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#help-search", "aria-activedescendant") == options.first.get_attribute("id")
    assert options.first.get_attribute("aria-selected") == "true"
    if ime is ChromiumIme:
        page.screenshot(path=str(artifacts / "demo-search.png"), full_page=True)
    page.keyboard.press("Escape")
    assert page.get_attribute("#help-search", "aria-expanded") == "false"


def test_opening_a_suggestion_with_the_keyboard_records_impression_and_click(page: Page, server: Server) -> None:
    _open(page, server, "/demo")
    page.fill("#help-search", QUESTION)
    option = page.locator("[role=listbox] [role=option]").first
    option.wait_for()
    title = option.locator(".deflect-title").inner_text()

    page.keyboard.press("ArrowDown")
    with page.expect_navigation(url="https://help.kumo-kintai.example/**"):
        page.keyboard.press("Enter")

    clicks = server.wait_for_rows(
        "SELECT e.query_id, e.article_id, e.position FROM event e JOIN suggestion_set s ON s.id = e.query_id "
        "WHERE e.action = 'click' AND s.text = ?",
        QUESTION,
    )
    assert len(clicks) == 1
    query_id, article_id, position = clicks[0]
    assert position == 1
    assert article_id == "reset-password", title
    impressions = server.rows("SELECT count(*) FROM event WHERE query_id = ? AND action = 'impression'", query_id)
    assert impressions == [(1,)]


def _type_inquiry(page: Page) -> None:
    page.fill("#name", "山田 太郎")
    page.fill("#email", "taro@example.com")
    page.fill("#subject", "パスワードを忘れました")
    page.fill("#body", "ログインできません。パスワードの再設定の方法を教えてください。")


def test_inquiry_form_suggests_articles_and_hands_off_on_submit(page: Page, server: Server, artifacts: Path) -> None:
    _open(page, server, "/demo/form")
    posted: list[Any] = []

    def remember_suggest_body(request: Request) -> None:
        if request.method == "POST" and "/v1/suggest" in request.url:
            posted.append(request.post_data_json)

    page.on("request", remember_suggest_body)
    _type_inquiry(page)

    region = page.locator(".deflect-form-suggestions")
    region.locator("li").first.wait_for()
    assert region.get_attribute("aria-live") == "polite"
    assert "パスワード" in region.locator("li a").first.inner_text()
    assert region.locator("button").first.inner_text() == "この記事で解決しました"
    # The suggestions sit above the submit button.
    assert page.evaluate(
        "() => document.querySelector('.deflect-form-suggestions').nextElementSibling.type === 'submit'"
    )
    assert posted[-1]["channel"] == "form" and posted[-1]["confident_only"] is True and posted[-1]["limit"] == 3
    assert (
        posted[-1]["text"] == "パスワードを忘れました\nログインできません。パスワードの再設定の方法を教えてください。"
    )
    page.screenshot(path=str(artifacts / "demo-form.png"), full_page=True)

    with page.expect_request(f"{server.url}/demo/submitted") as submitted:
        page.click("button[type=submit]")
    form = parse_qs(submitted.value.post_data or "", keep_blank_values=True)
    handoff = form["deflect_handoff"][0]
    assert handoff.startswith("Searched help center for: パスワードを忘れました")
    assert "パスワードを忘れた場合の再設定方法" in handoff  # what was shown, by title
    assert "taro@example.com" not in handoff and "山田" not in handoff
    page.wait_for_selector("text=お問い合わせを受け付けました")

    tickets = server.wait_for_rows(
        "SELECT e.query_id FROM event e JOIN suggestion_set s ON s.id = e.query_id "
        "WHERE e.action = 'ticket_submitted' AND s.channel = 'form' AND s.text LIKE 'パスワードを忘れました%'"
    )
    assert len(tickets) == 1


def test_solved_button_records_solved_and_thanks_the_customer(page: Page, server: Server) -> None:
    _open(page, server, "/demo/form")
    page.fill("#subject", "月次の締めを解除したい")
    button = page.locator(".deflect-form-suggestions button").first
    button.wait_for()
    article_id = server.wait_for_rows(
        "SELECT a.article_id FROM suggested_article a JOIN suggestion_set s ON s.id = a.query_id "
        "WHERE s.text = '月次の締めを解除したい' AND a.position = 1"
    )[0][0]

    button.click()

    page.wait_for_selector(".deflect-thanks")
    assert "解決してよかったです" in page.inner_text(".deflect-form-suggestions")
    solved = server.wait_for_rows(
        "SELECT article_id, position FROM event WHERE action = 'solved' AND article_id = ?", article_id
    )
    assert solved == [(article_id, 1)]


@pytest.mark.parametrize(("given", "list_label"), [("en-US", "Suggested articles"), ("ko", "Suggested articles")])
def test_a_locale_given_by_the_page_is_sent_as_given_with_its_own_or_english_texts(
    page: Page, server: Server, given: str, list_label: str
) -> None:
    # A help center with locales beyond ja and en (ko, pt-br) names them; the API resolves en-US to en itself.
    _open(page, server, "/demo")
    requests = _suggest_requests(page)
    page.evaluate(
        """(locale) => {
            const input = document.createElement("input");
            input.id = "given-locale";
            document.body.appendChild(input);
            Deflect.attachSearch(input, {locale});
        }""",
        given,
    )
    page.fill("#given-locale", "reset password")
    page.wait_for_function("() => document.querySelectorAll('[role=status]').length > 0")
    page.wait_for_timeout(600)  # past the debounce, the request is on its way or answered
    assert [parse_qs(r.url.split("?", 1)[1])["locale"] for r in requests] == [[given.lower()]]
    assert page.locator("#given-locale").get_attribute("aria-label") == "Search the help center"
    assert page.locator(f"[aria-label='{list_label}']").count() >= 1
