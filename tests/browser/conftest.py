"""Browser tests: the sample help center indexed with the real model, served by uvicorn, driven by headless Chromium."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bench.server import served
from indexer.analysis import Analyzer
from indexer.build import build_index
from indexer.embedders import load_embedder

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# Each browser test module's marks: run with the browser tests, skipped where Chromium is missing.
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PUBLISHABLE_KEY, SECRET_KEY = "pk_test", "sk_test"
# A 3.6-second attribution window, so seeded suggestion sets are decided (deflected or not) within a test.
WINDOW_HOURS = 0.001


@dataclass(frozen=True)
class Server:
    url: str
    database: Path

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """What the service stored, read straight from its SQLite file."""
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as db:
            return db.execute(sql, params).fetchall()

    def wait_for_rows(self, sql: str, *params: Any, timeout: float = 10.0) -> list[tuple[Any, ...]]:
        """Rows of the query once there are any (events arrive asynchronously from the page)."""
        deadline = time.monotonic() + timeout
        while not (found := self.rows(sql, *params)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return found


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample help center indexed with the real model, once for every server of the session."""
    index_dir = tmp_path_factory.mktemp("browser-index")
    report = build_index(
        content_dir=REPO / "content", index_dir=index_dir, embedder=load_embedder(), analyzer=Analyzer()
    )
    assert report.published and not report.problems
    return index_dir


def _serve(root: Path, index_dir: Path, keys: dict[str, str]) -> contextlib.AbstractContextManager[str]:
    env = {
        "DEFLECT_DATABASE_URL": f"sqlite:///{root / 'd.db'}",
        "DEFLECT_INDEX_DIR": str(index_dir),
        "DEFLECT_CONTENT_DIR": str(REPO / "content"),
        "DEFLECT_INDEX_POLL_SECONDS": "0",
        # Every request of the tests comes from 127.0.0.1; the per-client limit is not under test here.
        "DEFLECT_RATE_LIMIT_PER_MINUTE": "100000",
        "DEFLECT_ATTRIBUTION_WINDOW_HOURS": str(WINDOW_HOURS),
        **keys,
    }
    # cwd is the temporary directory, so a developer's .env never leaks into the test server.
    return served(env, cwd=root, log=root / "server.log")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, sample_index: Path) -> Iterator[Server]:
    """`uvicorn app.api.main:create_app --factory` on a free port, with keys and a fresh SQLite database."""
    root = tmp_path_factory.mktemp("browser")
    keys = {"DEFLECT_SECRET_KEYS": SECRET_KEY, "DEFLECT_PUBLISHABLE_KEYS": PUBLISHABLE_KEY}
    with _serve(root, sample_index, keys) as url:
        yield Server(url=url, database=root / "d.db")


@pytest.fixture(scope="session")
def open_server(tmp_path_factory: pytest.TempPathFactory, sample_index: Path) -> Iterator[Server]:
    """The same service started without keys, so every endpoint is open."""
    root = tmp_path_factory.mktemp("browser-open")
    with _serve(root, sample_index, {}) as url:
        yield Server(url=url, database=root / "d.db")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (own localStorage and sessionStorage) whose page goes nowhere off this machine."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP", accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    # Article links point at the (fictional) public help center: answer them here instead.
    tab.route(
        "https://help.kumo-kintai.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>article</h1>"),
    )
    # Script errors and Content-Security-Policy refusals; a refused HTTP status is logged too, and is not one.
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield tab
    context.close()
    assert errors == [], "the page logged errors"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where the screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
